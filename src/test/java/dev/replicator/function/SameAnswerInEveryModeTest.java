package dev.replicator.function;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import javax.sql.DataSource;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;

import dev.replicator.testing.PostgresResource;
import dev.replicator.testing.TestDatabases;

/**
 * The same event gets the same answer, status and body shape, in every content mode: binary, structured as
 * {@code application/cloudevents+json} or {@code application/json}, with {@code data_base64}, and wrapped in a
 * Pub/Sub message.
 */
@QuarkusTest
@QuarkusTestResource(PostgresResource.class)
class SameAnswerInEveryModeTest {

    DataSource target = PostgresResource.target();

    @BeforeEach
    void emptyScratch() {
        // positions too: other tests of this application wrote these keys at other positions
        TestDatabases.execute(target, "TRUNCATE scratch; DROP SCHEMA IF EXISTS replicator CASCADE");
    }

    @Test
    void aChangeIs204AfterItsCommitAndAgainWhenItIsStale() {
        int modes = ContentModes.of(change("m-0", 0, 10)).size();
        for (int key = 1; key <= modes; key++) {
            // a new row in each mode, so that each mode's event is the one that writes it
            ContentModes.Request request = ContentModes.of(change("m-" + key, key, 10)).get(key - 1);
            Answer first = post(request);
            assertEquals(new Answer(204, null, ""), first, request.mode());
            // the same event again: nothing to write, the same answer
            assertEquals(first, post(request), request.mode());
            assertEquals(key + "\tv10\n", TestDatabases.copy(target, "SELECT k, v FROM scratch WHERE k = " + key),
                    request.mode());
        }
    }

    @Test
    void aRefusedChangeIsThe400NamingItInEveryMode() {
        List<Answer> answers = new ArrayList<>();
        for (ContentModes.Request request : ContentModes.of(nativeEvent("r-1",
                "{\"table\":\"public.no_such_table\",\"op\":\"upsert\",\"position\":1,\"after\":{\"k\":1}}"))) {
            Answer answer = post(request);
            assertEquals(400, answer.status(), request.mode());
            assertTrue(answer.body().contains("r-1"), request.mode() + ": " + answer.body());
            answers.add(answer);
        }
        assertEquals(1, answers.stream().distinct().count(), answers.toString());
    }

    @Test
    void thePingIs204WithoutTouchingTheDatabaseInEveryMode() {
        for (ContentModes.Request request : ContentModes.of("{\"specversion\":\"1.0\",\"id\":\"p-1\",\"source\":"
                + "\"/test\",\"type\":\"replicator.ping.v1\",\"datacontenttype\":\"application/json\",\"data\":{}}")) {
            assertEquals(new Answer(204, null, ""), post(request), request.mode());
        }
    }

    @Test
    void aJobAnswersWithTheSameAnswerEventInEveryMode() {
        List<Answer> answers = new ArrayList<>();
        for (ContentModes.Request request : ContentModes.of("{\"specversion\":\"1.0\",\"id\":\"v-1\",\"source\":"
                + "\"/test\",\"type\":\"replicator.verify.v1\",\"datacontenttype\":\"application/json\",\"data\":"
                + "{\"tables\":[\"public.scratch\"],\"chunkSize\":100000}}")) {
            Answer answer = post(request);
            assertEquals(200, answer.status(), request.mode() + ": " + answer.body());
            answers.add(answer);
        }
        assertEquals(1, answers.stream().distinct().count(), answers.toString());
        assertEquals("replicator.verify.report.v1", answers.get(0).eventType());
    }

    @Test
    void aBatchIsAnsweredWithItsCountsWhateverItsMediaType() {
        String batch = "[" + change("b-1", 1, 1) + "," + change("b-2", 2, 1) + "]";
        for (String contentType : List.of("application/json", "application/cloudevents+json",
                "application/cloudevents-batch+json")) {
            TestDatabases.execute(target, "TRUNCATE scratch; DROP SCHEMA IF EXISTS replicator CASCADE");
            Response response = given().contentType(contentType).body(batch).post("/");
            assertEquals(200, response.statusCode(), contentType);
            assertEquals("{\"applied\":2,\"stale\":0,\"superseded\":0,\"skipped\":0,\"parked\":0}",
                    response.asString(), contentType);
        }
    }

    /** What a broker acts on: the status, the type of an answer event, and the body (the names of its fields). */
    record Answer(int status, String eventType, String body) {
    }

    private static Answer post(ContentModes.Request request) {
        RequestSpecification spec = given();
        for (Map.Entry<String, String> header : request.headers().entrySet()) {
            if (header.getKey().equalsIgnoreCase("Content-Type")) {
                spec = spec.contentType(header.getValue());
            } else {
                spec = spec.header(header.getKey(), header.getValue());
            }
        }
        Response response = spec.body(request.bytes()).post("/");
        String body = response.asString();
        // a report's values differ from run to run (timings): its shape is what must be the same
        String shape = response.statusCode() == 200 && body.startsWith("{") ? fieldNames(body) : body;
        return new Answer(response.statusCode(), response.header("ce-type"), shape);
    }

    private static String fieldNames(String json) {
        TreeSet<String> names = new TreeSet<>();
        Iterator<String> fields = ContentModes.read(json).fieldNames();
        fields.forEachRemaining(names::add);
        return names.toString();
    }

    private static String change(String id, int key, int version) {
        return nativeEvent(id, "{\"table\":\"public.scratch\",\"op\":\"upsert\",\"position\":" + version
                + ",\"after\":{\"k\":" + key + ",\"v\":\"v" + version + "\"}}");
    }

    private static String nativeEvent(String id, String data) {
        return "{\"specversion\":\"1.0\",\"id\":\"" + id + "\",\"source\":\"/test\",\"type\":\"replicator.change.v1\","
                + "\"datacontenttype\":\"application/json\",\"data\":" + data + "}";
    }
}
