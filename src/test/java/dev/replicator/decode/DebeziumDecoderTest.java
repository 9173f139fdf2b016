package dev.replicator.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Decoding the requests Debezium Server 3.6 actually sent, in every capture mode. */
class DebeziumDecoderTest {

    final DebeziumDecoder decoder = new DebeziumDecoder();

    RowChange only(String file) {
        List<IncomingEvent> events = Fixtures.load(file);
        assertEquals(1, events.size());
        List<RowChange> changes = decoder.decode(events.get(0));
        assertEquals(1, changes.size());
        return changes.get(0);
    }

    @ParameterizedTest
    @ValueSource(strings = { "small/cloudevents", "small/json-schema", "small/json-noschema-batch",
            "small/cloudevents-noschema-batch", "wide/json", "wide/cloudevents" })
    void everyCapturedRequestDecodes(String folder) {
        List<IncomingEvent> events = Fixtures.loadFolder(folder);
        assertTrue(events.size() >= 31, folder);
        for (IncomingEvent event : events) {
            List<RowChange> changes = decoder.decode(event);
            assertEquals(1, changes.size(), event.describe());
            assertNotNull(changes.get(0).position(), event.describe());
        }
    }

    @Test
    void structuredCloudEventTakesMetadataFromExtensions() {
        RowChange first = only("small/cloudevents/0001.json");
        assertEquals(new TableId("public", "customers"), first.table());
        assertEquals(Operation.CREATE, first.op());
        assertEquals(new Position(26463184, 26463184), first.position(), "a null commit LSN falls back to the lsn");
        assertEquals("io.debezium.time.Date", first.row().get("born").schema().name());
        assertEquals(-56270, first.row().get("born").json().asInt());
        assertEquals(ValueEncoding.DEBEZIUM, first.encoding());
        assertEquals(new Position(26485888, 26486136), only("small/cloudevents/0005.json").position());
    }

    @Test
    void plainEnvelopeMatchesTheCloudEvent() {
        RowChange cloudEvent = only("small/cloudevents/0015.json");
        RowChange plain = only("small/json-schema/0015.json");
        assertEquals(cloudEvent.table(), plain.table());
        assertEquals(cloudEvent.op(), plain.op());
        assertEquals(cloudEvent.position(), plain.position());
        assertEquals(cloudEvent.row(), plain.row());
        assertEquals("public.customers@lsn:26488136", plain.eventId(), "plain envelopes have no id: a stand-in");
    }

    @Test
    void withoutSchemaFieldsHaveNoSchema() {
        RowChange change = decoder.decode(Fixtures.load("small/cloudevents-noschema-batch/0001.json").get(0)).get(0);
        assertNull(change.row().get("born").schema());
        assertEquals(-56270, change.row().get("born").json().asInt());
    }

    @Test
    void keyChangeDeleteCarriesTheNewKey() {
        RowChange delete = only("small/cloudevents/0018.json");
        assertEquals(Operation.DELETE, delete.op());
        assertEquals(3, delete.row().get("id").json().asInt());
        assertEquals(4, delete.newKey().get("id").json().asInt());
        RowChange create = only("small/cloudevents/0019.json");
        assertEquals(delete.position(), create.position(), "both halves of a key change share a position");
    }

    @Test
    void truncateHasNoRow() {
        RowChange truncate = only("small/cloudevents/0027.json");
        assertEquals(Operation.TRUNCATE, truncate.op());
        assertEquals(new TableId("public", "scratch"), truncate.table());
        assertTrue(truncate.row().isEmpty());
    }

    @Test
    void unchangedToastedValuesAreUnavailableInEveryForm() {
        assertSame(FieldValue.UNAVAILABLE, only("wide/json/0032.json").row().get("notes"), "text");
        assertSame(FieldValue.UNAVAILABLE, only("wide/json/0033.json").row().get("preferences"), "jsonb");
        assertSame(FieldValue.UNAVAILABLE, only("wide/cloudevents/0038.json").row().get("thumbnail"), "bytea");
        assertSame(FieldValue.UNAVAILABLE, only("wide/cloudevents/0071.json").row().get("notes"), "after a key change");
        ObjectMapper json = new ObjectMapper();
        assertTrue(UnavailableValues.isUnavailable(json.createArrayNode().add(UnavailableValues.PLACEHOLDER)), "array");
        assertTrue(UnavailableValues.isUnavailable(json.createObjectNode().put(UnavailableValues.PLACEHOLDER,
                UnavailableValues.PLACEHOLDER)), "hstore");
    }

    @Test
    void nothingToWriteForTombstonesHeartbeatsMessagesAndTransactionMarkers() throws Exception {
        ObjectMapper json = new ObjectMapper();
        assertTrue(decoder.decode(new IncomingEvent("t", "io.debezium.connector.postgresql.DataChangeEvent", "s",
                Map.of(), null, Map.of())).isEmpty(), "tombstone");
        assertTrue(decoder.decode(new IncomingEvent(null, null, null, Map.of(),
                json.readTree("{\"ts_ms\": 1700000000000}"), Map.of())).isEmpty(), "heartbeat");
        assertTrue(decoder.decode(new IncomingEvent(null, null, null, Map.of(),
                json.readTree("{\"op\":\"m\",\"source\":{\"schema\":\"public\",\"table\":\"\"},\"message\":{}}"),
                Map.of())).isEmpty(), "logical decoding message");
        assertTrue(decoder.decode(new IncomingEvent(null, null, null, Map.of(),
                json.readTree("{\"status\":\"BEGIN\",\"id\":\"571:53195829\",\"event_count\":null}"), Map.of()))
                .isEmpty(), "transaction marker");
    }

    /**
     * What a captured event is, read from the event itself rather than by the decoder: a change names its op (in the
     * payload or, as a CloudEvent, in {@code iodebeziumop}); a transaction marker has a {@code status}; a heartbeat
     * holds nothing but {@code ts_ms}.
     */
    private static String kind(IncomingEvent event) {
        JsonNode payload = event.data().has("payload") ? event.data().get("payload") : event.data();
        if (event.extensions().containsKey("iodebeziumop") || payload.has("op")) {
            return "change";
        }
        if (payload.has("status")) {
            return payload.get("status").asText();
        }
        return payload.size() == 1 && payload.has("ts_ms") ? "heartbeat" : "unknown";
    }

    private static String rawTable(IncomingEvent event) {
        JsonNode payload = event.data().has("payload") ? event.data().get("payload") : event.data();
        String table = event.extensions().get("iodebeziumtable");
        return table != null ? table : payload.path("source").path("table").asText();
    }

    /**
     * The heartbeat workload's tables are named like Debezium's own events ("DeviceHeartbeat",
     * "TransactionMetadataValue", the latter with a marker's columns): every change of them, in every capture mode, is
     * a change of that table, next to real heartbeats and transaction markers.
     */
    @ParameterizedTest
    @ValueSource(strings = { "heartbeat/cloudevents", "heartbeat/json", "heartbeat/json-noschema",
            "heartbeat/json-noschema-batch", "heartbeat/cloudevents-noschema-batch" })
    void tablesNamedLikeHeartbeatsAndTransactionMarkersDecodeToTheirChanges(String folder) {
        Map<String, List<Operation>> opsByTable = new TreeMap<>();
        for (IncomingEvent event : Fixtures.loadFolder(folder)) {
            if (!kind(event).equals("change")) {
                continue;
            }
            List<RowChange> changes = decoder.decode(event);
            assertEquals(1, changes.size(), () -> folder + ": the change of " + rawTable(event) + " at "
                    + event.describe() + " decoded to " + changes);
            RowChange change = changes.get(0);
            assertEquals("public", change.table().schema());
            opsByTable.computeIfAbsent(change.table().table(), t -> new ArrayList<>()).add(change.op());
        }
        assertEquals(Map.of(
                "DeviceHeartbeat", List.of(Operation.CREATE, Operation.CREATE, Operation.UPDATE, Operation.DELETE,
                        Operation.CREATE),
                "TransactionMetadataValue", List.of(Operation.CREATE, Operation.UPDATE, Operation.DELETE,
                        Operation.CREATE, Operation.CREATE),
                "readings", List.of(Operation.CREATE, Operation.CREATE, Operation.UPDATE, Operation.TRUNCATE,
                        Operation.CREATE)), opsByTable, folder);
    }

    /**
     * Every heartbeat and transaction BEGIN/END Debezium Server sent is acknowledged with nothing to write. Through
     * CloudEvents it sends none: the converter turns only change events into CloudEvents.
     */
    @ParameterizedTest
    @CsvSource({ "heartbeat/json, 12, 20", "heartbeat/json-noschema, 12, 20", "heartbeat/json-noschema-batch, 13, 20",
            "heartbeat/cloudevents, 0, 0", "heartbeat/cloudevents-noschema-batch, 0, 0" })
    void capturedHeartbeatsAndTransactionMarkersHaveNothingToWrite(String folder, int heartbeats, int markers) {
        int seenHeartbeats = 0;
        int seenMarkers = 0;
        for (IncomingEvent event : Fixtures.loadFolder(folder)) {
            String kind = kind(event);
            assertTrue(!kind.equals("unknown"), "unexpected event in capture: " + event.data());
            if (kind.equals("change")) {
                continue;
            }
            assertEquals(List.of(), decoder.decode(event), kind + ": " + event.data());
            if (kind.equals("heartbeat")) {
                seenHeartbeats++;
            } else {
                assertTrue(kind.equals("BEGIN") || kind.equals("END"), kind);
                seenMarkers++;
            }
        }
        assertEquals(heartbeats, seenHeartbeats, folder + ": heartbeats");
        assertEquals(markers, seenMarkers, folder + ": transaction markers (BEGIN and END of 10 transactions)");
    }

    @Test
    void heartbeatsAndMarkersAreKnownByDebeziumsOwnSchemaNamesNotByTableNames() {
        JsonNode heartbeat = Fixtures.load("heartbeat/json/0001.json").get(0).data();
        assertEquals("io.debezium.connector.common.Heartbeat", heartbeat.path("schema").path("name").asText());
        assertEquals(List.of(), decoder.decode(Fixtures.load("heartbeat/json/0001.json").get(0)));
        JsonNode begin = Fixtures.load("heartbeat/json/0005.json").get(0).data();
        assertEquals("io.debezium.connector.common.TransactionMetadataValue", begin.path("schema").path("name").asText());
        assertEquals(List.of(), decoder.decode(Fixtures.load("heartbeat/json/0005.json").get(0)));

        RowChange insert = only("heartbeat/json/0006.json");
        assertEquals(new TableId("public", "DeviceHeartbeat"), insert.table());
        assertEquals(Operation.CREATE, insert.op());
        assertEquals(1, insert.row().get("device_id").json().asInt());
        RowChange marker = only("heartbeat/json/0011.json");
        assertEquals(new TableId("public", "TransactionMetadataValue"), marker.table());
        assertEquals("BEGIN", marker.row().get("status").json().asText(), "a row with a marker's columns is a row");
    }

    @Test
    void anEventWithoutAnOpThatIsNoHeartbeatOrMarkerIsRejectedNotDropped() throws Exception {
        ObjectMapper json = new ObjectMapper();
        for (String body : List.of(
                "{\"schema\":{\"type\":\"struct\",\"name\":\"app.public.DeviceHeartbeat.Envelope\"},"
                        + "\"payload\":{\"ts_ms\":1}}",
                "{\"schema\":{\"type\":\"struct\",\"name\":\"my.TransactionMetadataValue\"},"
                        + "\"payload\":{\"status\":\"BEGIN\",\"id\":\"1:2\",\"ts_ms\":1}}",
                "{\"ts_ms\":1,\"before\":null}",
                "{\"status\":\"BEGIN\",\"id\":\"1:2\",\"after\":{\"id\":1}}")) {
            assertThrows(BadEventException.class, () -> decoder.decode(new IncomingEvent(null, null, null, Map.of(),
                    json.readTree(body), Map.of())), body);
        }
        assertThrows(BadEventException.class, () -> decoder.decode(new IncomingEvent("e-1",
                "io.debezium.connector.common.Heartbeat", "s", Map.of(), json.readTree("{\"after\":{\"k\":1}}"),
                Map.of())), "a CloudEvent type is no licence to drop data");
    }

    @Test
    void snapshotReadsRankBeforeStreamedChanges() throws Exception {
        ObjectMapper json = new ObjectMapper();
        RowChange read = decoder.decode(new IncomingEvent(null, null, null, Map.of(), json.readTree(
                "{\"op\":\"r\",\"after\":{\"k\":1},\"source\":{\"schema\":\"public\",\"table\":\"scratch\","
                        + "\"snapshot\":\"true\",\"lsn\":900,\"sequence\":\"[null,\\\"900\\\"]\"}}"),
                Map.of())).get(0);
        assertEquals(new Position(0, 900), read.position());
        assertTrue(new Position(1, 1).isAfter(read.position()));
    }

    @Test
    void badEventsAreRejectedNamingTheEvent() throws Exception {
        ObjectMapper json = new ObjectMapper();
        BadEventException noImage = assertThrows(BadEventException.class, () -> decoder.decode(new IncomingEvent("e-1",
                "x", "s", Map.of("iodebeziumop", "c", "iodebeziumschema", "public", "iodebeziumtable", "t"),
                json.readTree("{\"before\":null,\"after\":null}"), Map.of())));
        assertEquals("e-1", noImage.eventId());
        assertTrue(noImage.getMessage().contains("after"), noImage.getMessage());
        BadEventException op = assertThrows(BadEventException.class, () -> decoder.decode(new IncomingEvent("e-2", "x",
                "s", Map.of("iodebeziumop", "z", "iodebeziumschema", "public", "iodebeziumtable", "t"),
                json.readTree("{\"after\":{}}"), Map.of())));
        assertTrue(op.getMessage().contains("op"), op.getMessage());
        assertThrows(BadEventException.class, () -> decoder.decode(new IncomingEvent("e-3", "x", "s", Map.of(),
                json.readTree("[1]"), Map.of())));
    }
}
