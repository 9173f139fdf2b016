package dev.replicator.function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;

import dev.replicator.decode.BadEventException;
import dev.replicator.decode.IncomingEvent;
import dev.replicator.testing.TestDatabases;

/** The ingress below HTTP: headers and bytes in, what the request delivers (or why it is refused) out. */
class RequestReaderTest {

    private static final String DEBEZIUM = "io.debezium.connector.postgresql.DataChangeEvent";
    private final RequestReader reader = new RequestReader(AcceptedTypes.of(List.of(DEBEZIUM)), new ObjectMapper());

    @Test
    void aCapturedDebeziumEventReadsTheSameInEveryContentMode() {
        String captured = ContentModes.read(TestDatabases.resource(
                "/fixtures/debezium-server-3.6/small/cloudevents/0001.json")).get("body").toString();
        IncomingEvent expected = null;
        for (ContentModes.Request request : ContentModes.of(captured)) {
            IncomingEvent event = single(read("/", request));
            if (expected == null) {
                expected = event;
                assertEquals(DEBEZIUM, event.type());
                assertEquals("public", event.extensions().get("iodebeziumschema"));
                continue;
            }
            assertEquals(expected, event, request.mode());
        }
    }

    @Test
    void aNativeChangeReadsTheSameInEveryContentMode() {
        String event = "{\"specversion\":\"1.0\",\"id\":\"n-1\",\"source\":\"/app\",\"type\":\"replicator.change.v1\","
                + "\"datacontenttype\":\"application/json\",\"data\":{\"table\":\"public.t\",\"op\":\"upsert\","
                + "\"position\":1,\"after\":{\"id\":1}}}";
        for (ContentModes.Request request : ContentModes.of(event)) {
            IncomingEvent read = single(read("/", request));
            assertEquals("n-1", read.id(), request.mode());
            assertEquals("replicator.change.v1", read.type(), request.mode());
            assertEquals(ContentModes.read(event).get("data"), read.data(), request.mode());
        }
    }

    @Test
    void aBatchKeepsEachElementWithItsReasonWhenUnreadable() {
        Delivery delivery = reader.read("/", headers("Content-Type", "application/json"), body(
                "[{\"op\":\"c\"},7,{\"specversion\":\"1.0\",\"id\":\"x\",\"source\":\"/s\",\"type\":\"nope\"}]"));
        Delivery.Batch batch = assertInstanceOf(Delivery.Batch.class, delivery);
        assertEquals(3, batch.elements().size());
        assertNull(batch.elements().get(0).unreadable());
        assertTrue(batch.elements().get(1).unreadable().getMessage().contains("batch element 1"));
        assertTrue(batch.elements().get(2).unreadable().getMessage().contains("unsupported CloudEvent type 'nope'"));
        assertEquals(2, batch.elements().get(2).index());
    }

    @Test
    void aJobRequestIsASingleEventBeforeABatchButNeverInsideOne() {
        String verify = "{\"specversion\":\"1.0\",\"id\":\"v-1\",\"source\":\"/s\",\"type\":\"replicator.verify.v1\","
                + "\"data\":{}}";
        assertEquals("replicator.verify.v1", single(reader.read("/", headers("Content-Type",
                "application/cloudevents+json"), body(verify))).type());
        Delivery.Batch batch = assertInstanceOf(Delivery.Batch.class, reader.read("/", headers("Content-Type",
                "application/json"), body("[" + verify + "]")));
        assertTrue(batch.elements().get(0).unreadable().getMessage().contains("unsupported CloudEvent type"));
        // a plain HTTP request to a job's path: its body is the request's data
        IncomingEvent plain = single(reader.read("/backfill", headers("Content-Type", "application/json"),
                body("{\"tables\":[\"public.t\"]}")));
        assertEquals("replicator.backfill.v1", plain.type());
        assertTrue(plain.id().startsWith("http-"));
    }

    @Test
    void binaryEventsWithoutDataAndThePingAreSingleEvents() {
        IncomingEvent tombstone = single(reader.read("/", binary("t-1", DEBEZIUM), Buffer.buffer()));
        assertNull(tombstone.data());
        assertEquals("t-1", tombstone.id());
        assertEquals(AcceptedTypes.PING, single(reader.read("/", binary("p-1", AcceptedTypes.PING), body("{}")))
                .type());
        // a plain envelope has no type: the Debezium decoder reads it
        assertNull(single(reader.read("/", headers("Content-Type", "application/json"), body("{\"op\":\"c\"}")))
                .type());
    }

    @Test
    void badRequestsAreRefusedNamingTheEventAndTheProblem() {
        assertRefused("u-1", "unsupported CloudEvent type 'other'",
                () -> reader.read("/", binary("u-1", "other"), body("{}")));
        MultiMap text = binary("c-1", DEBEZIUM).set("Content-Type", "text/plain");
        assertRefused("c-1", "must be application/json", () -> reader.read("/", text, body("{}")));
        assertRefused("m-1", "malformed JSON body", () -> reader.read("/", binary("m-1", DEBEZIUM), body("{\"a\":")));
        assertRefused(null, "batch is empty",
                () -> reader.read("/", headers("Content-Type", "application/json"), body("[]")));
        assertRefused("s-1", "no 'specversion'", () -> reader.read("/", headers("Content-Type",
                "application/cloudevents+json"), body("{\"id\":\"s-1\"}")));
        assertRefused(null, "unsupported Content-Type", () -> reader.read("/", headers("Content-Type", "text/csv"),
                body("{}")));
        assertRefused(null, "request body is empty", () -> reader.read("/", headers("Content-Type",
                "application/json"), body(" \n")));
        assertRefused("ps-1", "no 'message'", () -> reader.read("/", binary("ps-1",
                PubSubMessages.MESSAGE_PUBLISHED), body("{}")));
        MultiMap incomplete = binary("i-1", DEBEZIUM).remove("ce-source");
        assertRefused("i-1", "no ce-source header", () -> reader.read("/", incomplete, body("{}")));
    }

    private static void assertRefused(String eventId, String reason, org.junit.jupiter.api.function.Executable read) {
        BadEventException e = assertThrows(BadEventException.class, read);
        assertEquals(eventId, e.eventId());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    private Delivery read(String path, ContentModes.Request request) {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        request.headers().forEach(headers::add);
        return reader.read(path, headers, Buffer.buffer(request.bytes()));
    }

    private static IncomingEvent single(Delivery delivery) {
        return assertInstanceOf(Delivery.Single.class, delivery).event();
    }

    private static MultiMap binary(String id, String type) {
        return headers("Content-Type", "application/json").add("ce-id", id).add("ce-specversion", "1.0")
                .add("ce-source", "/test").add("ce-type", type);
    }

    private static MultiMap headers(String name, String value) {
        return MultiMap.caseInsensitiveMultiMap().add(name, value);
    }

    private static Buffer body(String text) {
        return Buffer.buffer(text.getBytes(StandardCharsets.UTF_8));
    }

}
