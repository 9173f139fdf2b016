package dev.replicator.function;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;

import jakarta.inject.Inject;

import javax.sql.DataSource;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;

import dev.replicator.apply.TargetSchema;
import dev.replicator.testing.PostgresResource;
import dev.replicator.testing.TestDatabases;

/**
 * Cloud Run mode: events that can never be applied are kept in the target, byte for byte, and answered 200; what
 * cannot be kept for good is answered as the event deserves, never 503.
 */
@QuarkusTest
@QuarkusTestResource(PostgresResource.class)
@TestProfile(ParkingTest.Parking.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ParkingTest {

    public static class Parking implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("replicator.rejected.park", "true");
        }
    }

    DataSource target = PostgresResource.target();

    @Inject
    TargetSchema schema;

    @Test
    @Order(1)
    void rejectedEventsAreParkedWithTheirReasonAndTheRequest() {
        double parked400 = parkedTotal(400);
        given().contentType("application/json").header("ce-id", "p-1").header("ce-specversion", "1.0")
                .header("ce-source", "/t").header("ce-type", "com.example.Unknown").body("{\"a\": 1}")
                .post("/").then().statusCode(200).body("parked", notNullValue()).body("status", equalTo(400));
        ReplicationHttpTest.nativeChange("p-2", "{\"table\":\"public.guarded\",\"op\":\"upsert\",\"position\":1,"
                + "\"after\":{\"id\":1,\"qty\":-1}}").then().statusCode(200).body("status", equalTo(422));
        given().contentType("application/cloudevents+json").body("{\"specversion\": ").post("/").then()
                .statusCode(200).body("status", equalTo(400));

        String parked = TestDatabases.copy(target, "SELECT event_id, event_type, status, reason,"
                + " event->'headers'->>'ce-type', event->'body', convert_from(body, 'UTF8') FROM replicator.rejected"
                + " ORDER BY id");
        String[] rows = parked.split("\n");
        assertEquals(3, rows.length, parked);
        assertTrue(rows[0].startsWith("p-1\tcom.example.Unknown\t400\tevent p-1: unsupported CloudEvent type"), rows[0]);
        // a JSON body can be queried as jsonb, and is kept as it came
        assertTrue(rows[0].endsWith("\tcom.example.Unknown\t{\"a\": 1}\t{\"a\": 1}"), rows[0]);
        assertTrue(rows[1].startsWith("p-2\treplicator.change.v1\t422\t"), rows[1]);
        assertTrue(rows[1].contains("check constraint"), rows[1]);
        // a body that is not JSON has no jsonb view, and is kept as it came
        assertTrue(rows[2].contains("malformed JSON") && rows[2].endsWith("\t\\N\t\\N\t{\"specversion\": "), rows[2]);
        assertEquals("", TestDatabases.copy(target, "SELECT * FROM guarded"), "nothing of a rejected event is applied");
        assertEquals(parked400 + 2, parkedTotal(400));
    }

    /** Bodies jsonb cannot hold: a zero byte outside JSON, {@code \u0000} inside it, bytes that are not UTF-8. */
    static final byte[][] UNHOLDABLE = {
            "not JSON \0 at all".getBytes(StandardCharsets.UTF_8),
            "{\"note\":  \"a\\u0000b\", \"n\": 1.50, \"n\": 2}".getBytes(StandardCharsets.UTF_8),
            { '{', '"', 'n', '"', ':', '"', (byte) 0xff, (byte) 0xfe, 'x', '"', '}' },
    };

    @Test
    @Order(2)
    void bodiesJsonbCannotHoldAreKeptByteForByteAndReplayAsTheyCame() {
        for (int i = 0; i < UNHOLDABLE.length; i++) {
            String id = "unholdable-" + i;
            Response answer = binary(id, "com.example.Unknown", UNHOLDABLE[i]);
            assertEquals(200, answer.statusCode(), id + ": " + answer.asString());
            assertEquals(400, answer.jsonPath().getInt("status"), answer.asString());
            assertKeptAndReplayed(answer.jsonPath().getLong("parked"), id, UNHOLDABLE[i]);
        }
        // \u0000 in a text value: the target refuses it (422), and it is kept all the same
        byte[] zeroInText = ("{\"table\":\"public.scratch\",\"op\":\"upsert\",\"position\":1,"
                + "\"after\":{\"k\":3,\"v\":\"a\\u0000b\"}}").getBytes(StandardCharsets.UTF_8);
        Response answer = binary("unholdable-text", "replicator.change.v1", zeroInText);
        assertEquals(200, answer.statusCode(), answer.asString());
        assertEquals(422, answer.jsonPath().getInt("status"), answer.asString());
        assertKeptAndReplayed(answer.jsonPath().getLong("parked"), "unholdable-text", zeroInText);
        assertEquals("", TestDatabases.copy(target, "SELECT * FROM scratch WHERE k = 3"));
    }

    @Test
    @Order(3)
    void aRedeliveredRequestIsKeptInOneRow() {
        byte[] body = { 'x', 0, (byte) 0xc3, '(' };
        long first = binary("again-1", "com.example.Unknown", body).then().statusCode(200).extract().jsonPath()
                .getLong("parked");
        long second = binary("again-1", "com.example.Unknown", body).then().statusCode(200).extract().jsonPath()
                .getLong("parked");
        assertEquals(first, second);
        assertEquals("1\n", TestDatabases.copy(target, "SELECT count(*) FROM replicator.rejected"
                + " WHERE event_id = 'again-1'"));
        // another id is another request
        binary("again-2", "com.example.Unknown", body).then().statusCode(200).body("parked",
                org.hamcrest.Matchers.not(equalTo((int) first)));
    }

    /**
     * An event the target will not keep for good (here a check constraint an operator put on the table) is answered
     * with its own status and reason, so that the broker dead-letters it instead of redelivering it forever.
     */
    @Test
    @Order(4)
    void anEventThatCannotBeKeptIsAnsweredAsItDeserves() {
        TestDatabases.execute(target, "ALTER TABLE replicator.rejected ADD CONSTRAINT keep_test"
                + " CHECK (reason NOT LIKE '%Unkeepable%')");
        try {
            given().contentType("application/json").header("ce-id", "unkept-1").header("ce-specversion", "1.0")
                    .header("ce-source", "/t").header("ce-type", "com.example.Unkeepable").body("{\"a\": 1}")
                    .post("/").then().statusCode(400)
                    .body("error", containsString("event unkept-1: unsupported CloudEvent type"))
                    .body("error", containsString("not kept"));
            assertEquals("0\n", TestDatabases.copy(target, "SELECT count(*) FROM replicator.rejected"
                    + " WHERE event_id = 'unkept-1'"));
        } finally {
            TestDatabases.execute(target, "ALTER TABLE replicator.rejected DROP CONSTRAINT keep_test");
        }
    }

    /** The table as the release before keeping bytes created it, with a row it parked, brought up to date. */
    @Test
    @Order(5)
    void aTableOfTheEarlierReleaseKeepsItsRowsAndTakesNewOnes() throws SQLException {
        TestDatabases.execute(target, "DROP TABLE replicator.rejected; " + OLD_REJECTED
                + " INSERT INTO replicator.rejected (event_id, event_type, status, reason, event, event_md5)"
                + " SELECT 'old-1', 'com.example.Unknown', 400, 'event old-1: unsupported CloudEvent type', e,"
                + " md5(e::text) FROM (SELECT '{\"headers\": {\"ce-id\": \"old-1\"}, \"body\": {\"a\": 1}}'::jsonb e)"
                + " v");
        schema.recreate(); // what a start does

        byte[] body = "{\"a\": \"\\u0000\"}".getBytes(StandardCharsets.UTF_8);
        Response answer = binary("new-1", "com.example.Unknown", body);
        assertEquals(200, answer.statusCode(), answer.asString());
        assertKeptAndReplayed(answer.jsonPath().getLong("parked"), "new-1", body);
        assertEquals("old-1\t400\t{\"a\": 1}\t\\N\nnew-1\t400\t\\N\t{\"a\": \"\\\\u0000\"}\n",
                TestDatabases.copy(target, "SELECT event_id, status, event->'body', convert_from(body, 'UTF8')"
                        + " FROM replicator.rejected ORDER BY id"));
    }

    /** The rejected table as the previous release created it (Sql.createSchema), with its digest index. */
    static final String OLD_REJECTED = "CREATE TABLE replicator.rejected (id bigserial PRIMARY KEY,"
            + " received_at timestamptz NOT NULL DEFAULT now(), event_id text, event_type text,"
            + " status int NOT NULL, reason text NOT NULL, event jsonb NOT NULL, batch_index int,"
            + " event_md5 text); CREATE UNIQUE INDEX rejected_event_md5 ON replicator.rejected (event_md5);";

    static Response binary(String id, String type, byte[] body) {
        return given().contentType("application/json").header("ce-id", id).header("ce-specversion", "1.0")
                .header("ce-source", "/t").header("ce-type", type).body(body).post("/");
    }

    /**
     * The row holds the body byte for byte and the request's headers; sending them again is the same request: the
     * same answer, the same row.
     */
    private void assertKeptAndReplayed(long id, String eventId, byte[] sent) {
        byte[][] kept = kept(id);
        assertArrayEquals(sent, kept[1], eventId + ": the body as it was sent");
        String headers = new String(kept[0], StandardCharsets.ISO_8859_1);
        assertTrue(headers.contains("ce-id: " + eventId + "\r\n"), headers);
        assertTrue(headers.contains("content-type: application/json"), headers);
        assertFalse(headers.contains("host:") || headers.contains("content-length:"), headers);

        RequestSpecification replay = given();
        for (String line : headers.split("\r\n")) {
            int colon = line.indexOf(": ");
            replay = replay.header(line.substring(0, colon), line.substring(colon + 2));
        }
        Response again = replay.body(kept[1]).post("/");
        assertEquals(200, again.statusCode(), again.asString());
        assertEquals(id, again.jsonPath().getLong("parked"), "the replay is the same request: " + again.asString());
        assertEquals("1\n", TestDatabases.copy(target, "SELECT count(*) FROM replicator.rejected WHERE event_id = '"
                + eventId + "'"));
    }

    /** The headers and the body a row keeps. */
    private byte[][] kept(long id) {
        try (Connection connection = target.getConnection();
                PreparedStatement select = connection.prepareStatement(
                        "SELECT headers, body FROM replicator.rejected WHERE id = ?")) {
            select.setLong(1, id);
            try (ResultSet rs = select.executeQuery()) {
                assertTrue(rs.next(), "row " + id);
                return new byte[][] { rs.getBytes(1), rs.getBytes(2) };
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private static double parkedTotal(int status) {
        String prefix = "replicator_parked_total{status=\"" + status + "\"} ";
        return given().get("/q/metrics").then().statusCode(200).extract().asString().lines()
                .filter(l -> l.startsWith(prefix)).mapToDouble(l -> Double.parseDouble(l.substring(prefix.length())))
                .findFirst().orElse(0);
    }
}
