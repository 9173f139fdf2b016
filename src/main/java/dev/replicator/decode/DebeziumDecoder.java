package dev.replicator.decode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Decodes Debezium PostgreSQL change events: a CloudEvent whose data is {@code {schema?, payload: {before, after}}}
 * or {@code {before, after}} with metadata in {@code iodebezium*} attributes, or a plain envelope
 * {@code {schema?, payload: {before, after, source, op}}}.
 */
public final class DebeziumDecoder {

    static final String NEW_KEY_HEADER = "x-debezium-__debezium.newkey";
    /** The value schema of Debezium's heartbeat events (plain JSON; the CloudEvents converter does not send them). */
    static final String HEARTBEAT_SCHEMA = "io.debezium.connector.common.Heartbeat";
    /** The value schema of Debezium's transaction BEGIN/END events ({@code provide.transaction.metadata=true}). */
    static final String TRANSACTION_SCHEMA = "io.debezium.connector.common.TransactionMetadataValue";
    private static final Set<String> TRANSACTION_FIELDS = Set.of("status", "id", "event_count", "data_collections",
            "ts_ms");
    private static final ObjectMapper JSON = new ObjectMapper();

    public List<RowChange> decode(IncomingEvent event) {
        String id = event.describe();
        JsonNode data = event.data();
        if (data == null || data.isNull() || data.isMissingNode()) {
            return List.of(); // tombstone
        }
        if (!data.isObject()) {
            throw new BadEventException(id, "Debezium event data must be a JSON object, got " + data.getNodeType());
        }
        JsonNode schema = data.get("schema");
        JsonNode payload = data.has("payload") ? data.get("payload") : data;
        if (payload == null || payload.isNull()) {
            return List.of(); // tombstone with a schema
        }
        if (!payload.isObject()) {
            throw new BadEventException(id, "Debezium payload must be a JSON object, got " + payload.getNodeType());
        }
        if (isNotAChange(event, schema, payload)) {
            return List.of();
        }
        Metadata meta = Metadata.of(event, payload);
        if (event.id() == null) {
            id = meta.schema + "." + meta.table + "@lsn:" + meta.lsn;
        }
        Operation op = Operation.fromCode(meta.op);
        if (op == null) {
            throw new BadEventException(id, "unknown Debezium op '" + shorten(meta.op) + "'");
        }
        if (meta.schema == null || meta.table == null) {
            throw new BadEventException(id, "event names no source schema and table");
        }
        TableId table = new TableId(meta.schema, meta.table);
        Position position = meta.position(id);
        Instant time = meta.tsMs == null ? null : Instant.ofEpochMilli(meta.tsMs);
        if (op == Operation.TRUNCATE) {
            return List.of(new RowChange(id, table, op, position, Map.of(), null, time, ValueEncoding.DEBEZIUM));
        }
        String image = op == Operation.DELETE ? "before" : "after";
        JsonNode row = payload.get(image);
        if (row == null || !row.isObject()) {
            throw new BadEventException(id, "Debezium '" + meta.op + "' event of " + table + " has no '" + image
                    + "' row image");
        }
        Map<String, FieldSchema> fields = fieldSchemas(schema, image);
        Map<String, FieldValue> values = values(row, fields);
        Map<String, FieldValue> newKey = op == Operation.DELETE ? newKey(id, event.headers()) : null;
        return List.of(new RowChange(id, table, op, position, values, newKey, time, ValueEncoding.DEBEZIUM));
    }

    /**
     * Heartbeats, transaction markers and logical decoding messages have nothing to write. A change event always names
     * its op (in the payload, or in {@code iodebeziumop} of a CloudEvent), so whatever its table is called it is a
     * change, or with op {@code m} a logical decoding message. Debezium's heartbeats and transaction markers have no
     * op; they are known by Debezium's own value schema names or, sent without a schema, by their exact fields. Any
     * other event without an op is left to be rejected rather than dropped.
     */
    private static boolean isNotAChange(IncomingEvent event, JsonNode schema, JsonNode payload) {
        String op = payload.hasNonNull("op") ? payload.get("op").asText() : event.extensions().get("iodebeziumop");
        if (op != null) {
            return op.equals("m");
        }
        if (schema != null && !schema.isNull()) {
            String name = schema.path("name").asText("");
            return name.equals(HEARTBEAT_SCHEMA) || name.equals(TRANSACTION_SCHEMA);
        }
        return isHeartbeat(payload) || isTransactionMarker(payload);
    }

    /** A heartbeat without its schema: {@code {"ts_ms": 1796400915207}} and nothing else. */
    private static boolean isHeartbeat(JsonNode payload) {
        return payload.size() == 1 && payload.path("ts_ms").isIntegralNumber();
    }

    /** A transaction marker without its schema: status BEGIN or END, an id, nothing but the marker's fields. */
    private static boolean isTransactionMarker(JsonNode payload) {
        String status = payload.path("status").asText("");
        if (!(status.equals("BEGIN") || status.equals("END")) || !payload.hasNonNull("id")) {
            return false;
        }
        Iterator<String> fields = payload.fieldNames();
        while (fields.hasNext()) {
            if (!TRANSACTION_FIELDS.contains(fields.next())) {
                return false;
            }
        }
        return true;
    }

    private static Map<String, FieldValue> values(JsonNode row, Map<String, FieldSchema> fields) {
        Map<String, FieldValue> values = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = row.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> field = it.next();
            JsonNode value = field.getValue();
            values.put(field.getKey(), UnavailableValues.isUnavailable(value) ? FieldValue.UNAVAILABLE
                    : FieldValue.of(value, fields.get(field.getKey())));
        }
        return values;
    }

    /** The schemas of the row image's fields, by name; empty when the event has no schema. */
    static Map<String, FieldSchema> fieldSchemas(JsonNode schema, String image) {
        Map<String, FieldSchema> result = new HashMap<>();
        if (schema == null || !schema.has("fields")) {
            return result;
        }
        for (JsonNode envelopeField : schema.get("fields")) {
            if (image.equals(envelopeField.path("field").asText()) && envelopeField.has("fields")) {
                for (JsonNode field : envelopeField.get("fields")) {
                    result.put(field.path("field").asText(), fieldSchema(field));
                }
            }
        }
        return result;
    }

    static FieldSchema fieldSchema(JsonNode field) {
        Map<String, String> parameters = new HashMap<>();
        JsonNode params = field.get("parameters");
        if (params != null && params.isObject()) {
            params.fields().forEachRemaining(p -> parameters.put(p.getKey(), p.getValue().asText()));
        }
        JsonNode items = field.get("items");
        return new FieldSchema(field.path("type").asText(null), field.hasNonNull("name") ? field.get("name").asText()
                : null, parameters, items != null && items.isObject() ? fieldSchema(items) : null);
    }

    /** Debezium's {@code __debezium.newkey} header on the delete half of a primary-key change: base64 JSON key. */
    private static Map<String, FieldValue> newKey(String id, Map<String, String> headers) {
        String header = headers.get(NEW_KEY_HEADER);
        if (header == null) {
            return null;
        }
        try {
            JsonNode key = JSON.readTree(new String(Base64.getDecoder().decode(header.trim()), StandardCharsets.UTF_8));
            JsonNode payload = key.has("payload") ? key.get("payload") : key;
            if (!payload.isObject()) {
                throw new BadEventException(id, "new-key header does not hold a key object");
            }
            Map<String, FieldSchema> fields = new HashMap<>();
            for (JsonNode field : key.path("schema").path("fields")) {
                fields.put(field.path("field").asText(), fieldSchema(field));
            }
            return values(payload, fields);
        } catch (IOException | IllegalArgumentException e) {
            throw new BadEventException(id, "new-key header is not base64 JSON");
        }
    }

    private static String shorten(String text) {
        return text == null ? "null" : text.length() > 20 ? text.substring(0, 20) + "..." : text;
    }

    /** Source metadata, from CloudEvent extension attributes or from the payload's {@code source} block. */
    private record Metadata(String op, String schema, String table, String lsn, String sequence, String snapshot,
            Long tsMs) {

        static Metadata of(IncomingEvent event, JsonNode payload) {
            Map<String, String> ext = event.extensions();
            JsonNode source = payload.path("source");
            return new Metadata(
                    first(text(payload, "op"), ext.get("iodebeziumop")),
                    first(ext.get("iodebeziumschema"), text(source, "schema")),
                    first(ext.get("iodebeziumtable"), text(source, "table")),
                    first(ext.get("iodebeziumlsn"), text(source, "lsn")),
                    first(ext.get("iodebeziumsequence"), text(source, "sequence")),
                    first(ext.get("iodebeziumsnapshot"), text(source, "snapshot")),
                    parseLong(first(ext.get("iodebeziumtsms"), text(source, "ts_ms"))));
        }

        /**
         * Debezium's {@code sequence} is [last commit LSN, change LSN]: the first is the same for every change of a
         * transaction and grows with commit order, so (commit, change) orders changes as the source committed them.
         * Snapshot reads rank before every streamed change.
         */
        Position position(String id) {
            Long change = parseLsn(id, lsn);
            Long commit = null;
            if (sequence != null && !sequence.isBlank()) {
                try {
                    JsonNode seq = JSON.readTree(sequence);
                    if (seq.isArray() && seq.size() == 2) {
                        commit = parseLsn(id, text(seq, 0));
                        Long second = parseLsn(id, text(seq, 1));
                        change = second != null ? second : change;
                    }
                } catch (IOException e) {
                    throw new BadEventException(id, "Debezium sequence is not a JSON array");
                }
            }
            boolean snapshotRead = snapshot != null && !snapshot.equals("false");
            if (snapshotRead) {
                return new Position(0, change == null ? 0 : change);
            }
            if (change == null) {
                return null;
            }
            return new Position(commit != null ? commit : change, change);
        }

        private static Long parseLsn(String id, String text) {
            if (text == null || text.isBlank() || text.equals("null")) {
                return null;
            }
            try {
                return Long.parseLong(text.trim());
            } catch (NumberFormatException e) {
                throw new BadEventException(id, "LSN is not a number");
            }
        }

        private static String text(JsonNode node, int index) {
            JsonNode v = node.get(index);
            return v == null || v.isNull() ? null : v.asText();
        }

        private static String text(JsonNode node, String field) {
            JsonNode v = node.get(field);
            return v == null || v.isNull() ? null : v.asText();
        }

        private static String first(String a, String b) {
            return a != null ? a : b;
        }

        private static Long parseLong(String text) {
            try {
                return text == null ? null : Long.parseLong(text);
            } catch (NumberFormatException e) {
                return null;
            }
        }
    }
}
