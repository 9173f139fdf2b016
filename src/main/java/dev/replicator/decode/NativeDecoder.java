package dev.replicator.decode;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Decodes the native change format, CloudEvent type {@code replicator.change.v1}, for producers that are not Debezium
 * (outbox triggers, applications):
 *
 * <pre>
 * {"table": "public.customers",          // schema.table (a bare name is in public)
 *  "op": "upsert",                        // upsert | delete | truncate (c, r, u, d, t also accepted)
 *  "key": {"id": 1},                      // delete: the key (or give it in "before")
 *  "after": {"id": 1, "name": "Ada"},     // upsert: the whole row, or the columns to set
 *  "newKey": {"id": 2},                   // optional, delete only: the row moves to this key
 *  "position": [1042, 7]}                 // a number, a string of digits, or [commit, change]
 * </pre>
 *
 * Values: strings are PostgreSQL text input, numbers and booleans as JSON, arrays as JSON arrays, any JSON for
 * json/jsonb columns.
 */
public final class NativeDecoder {

    /** CloudEvent type of the native change format. */
    public static final String TYPE = "replicator.change.v1";

    public List<RowChange> decode(IncomingEvent event) {
        String id = event.describe();
        JsonNode data = event.data();
        if (data == null || !data.isObject()) {
            throw new BadEventException(id, "replicator.change.v1 data must be a JSON object");
        }
        JsonNode tableNode = data.get("table");
        if (tableNode == null || !tableNode.isTextual() || tableNode.asText().isBlank()) {
            throw new BadEventException(id, "replicator.change.v1 needs \"table\" (schema.table)");
        }
        TableId table;
        try {
            table = TableId.parse(tableNode.asText());
        } catch (IllegalArgumentException e) {
            throw new BadEventException(id, "\"table\" must be schema.table");
        }
        Operation op = operation(id, data.path("op").asText(""));
        Position position = position(id, data.get("position"));
        switch (op) {
            case TRUNCATE:
                return List.of(new RowChange(id, table, op, position, Map.of(), null, null, ValueEncoding.NATIVE));
            case DELETE: {
                Map<String, FieldValue> row = new LinkedHashMap<>();
                putAll(id, row, data.get("before"), "before", false);
                putAll(id, row, data.get("key"), "key", false);
                if (row.isEmpty()) {
                    throw new BadEventException(id, "delete needs \"key\" (or \"before\") with the key columns");
                }
                Map<String, FieldValue> newKey = null;
                if (data.hasNonNull("newKey")) {
                    newKey = new LinkedHashMap<>();
                    putAll(id, newKey, data.get("newKey"), "newKey", true);
                }
                return List.of(new RowChange(id, table, op, position, row, newKey, null, ValueEncoding.NATIVE));
            }
            default: {
                Map<String, FieldValue> row = new LinkedHashMap<>();
                putAll(id, row, data.get("after"), "after", true);
                putAll(id, row, data.get("key"), "key", false);
                return List.of(new RowChange(id, table, op, position, row, null, null, ValueEncoding.NATIVE));
            }
        }
    }

    private static Operation operation(String id, String op) {
        return switch (op) {
            case "upsert", "u" -> Operation.UPDATE;
            case "insert", "c" -> Operation.CREATE;
            case "r" -> Operation.READ;
            case "delete", "d" -> Operation.DELETE;
            case "truncate", "t" -> Operation.TRUNCATE;
            default -> throw new BadEventException(id, "\"op\" must be upsert, delete or truncate, got '"
                    + (op.length() > 20 ? op.substring(0, 20) + "..." : op) + "'");
        };
    }

    static Position position(String id, JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isArray()) {
            if (node.size() != 2) {
                throw new BadEventException(id, "\"position\" array must be [commit, change]");
            }
            return new Position(number(id, node.get(0)), number(id, node.get(1)));
        }
        return new Position(number(id, node), 0);
    }

    private static long number(String id, JsonNode node) {
        long value;
        if (node.isIntegralNumber() && node.canConvertToLong()) {
            value = node.asLong();
        } else if (node.isTextual() && node.asText().matches("\\d{1,18}")) {
            value = Long.parseLong(node.asText());
        } else {
            throw new BadEventException(id, "\"position\" must be a non-negative integer, a string of digits or"
                    + " [commit, change]");
        }
        if (value < 0) {
            throw new BadEventException(id, "\"position\" must not be negative");
        }
        return value;
    }

    private static void putAll(String id, Map<String, FieldValue> row, JsonNode object, String name, boolean required) {
        if (object == null || object.isNull()) {
            if (required) {
                throw new BadEventException(id, "\"" + name + "\" must be a JSON object with the row's columns");
            }
            return;
        }
        if (!object.isObject()) {
            throw new BadEventException(id, "\"" + name + "\" must be a JSON object, got " + object.getNodeType());
        }
        Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            row.put(field.getKey(), FieldValue.of(field.getValue(), null));
        }
    }
}
