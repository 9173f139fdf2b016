package dev.replicator.source.dispatch;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import dev.replicator.config.ConfigValidator;
import dev.replicator.decode.BadEventException;
import dev.replicator.source.JobTables;
import dev.replicator.source.backfill.BackfillRequest;
import dev.replicator.source.rowref.RowRefRequest;
import dev.replicator.source.verify.VerifyRequest;

/** Reads the data of backfill, verify and rowref events, with a 400 naming the event and the field when wrong. */
public final class JobRequests {

    private JobRequests() {
    }

    /**
     * {@code {"tables": ["public.orders"] | "all", "chunkSize": 1000, "restart": false}}; every field optional
     * ({@code tables} absent or {@code "all"}: every replicated table).
     */
    public static BackfillRequest backfill(String eventId, JsonNode data, int defaultChunk) {
        JsonNode body = object(eventId, data, "replicator.backfill.v1");
        return new BackfillRequest(tables(eventId, body), chunkSize(eventId, body, defaultChunk),
                bool(eventId, body, "restart"));
    }

    /**
     * {@code {"tables": [...] | "all", "chunkSize": 1000, "repair": false, "sampleKeys": 20,
     * "resume": {"table": "public.orders", "after": ["41"]}}}; every field optional.
     */
    public static VerifyRequest verify(String eventId, JsonNode data, int defaultChunk, int defaultSamples) {
        JsonNode body = object(eventId, data, "replicator.verify.v1");
        int samples = defaultSamples;
        if (body.hasNonNull("sampleKeys")) {
            samples = integer(eventId, body.get("sampleKeys"), "sampleKeys", 0, ConfigValidator.MAX_SAMPLE_KEYS);
        }
        VerifyRequest.Resume resume = null;
        JsonNode r = body.get("resume");
        if (r != null && !r.isNull()) {
            if (!r.isObject() || !r.path("table").isTextual() || !r.path("after").isArray()) {
                throw new BadEventException(eventId, "\"resume\" must be {\"table\": \"schema.table\", \"after\": [key]}");
            }
            List<String> after = new ArrayList<>();
            for (JsonNode value : r.get("after")) {
                if (!value.isValueNode() || value.isNull()) {
                    throw new BadEventException(eventId, "\"resume.after\" must hold the key values as text");
                }
                after.add(value.asText());
            }
            resume = new VerifyRequest.Resume(r.get("table").asText(), after);
        }
        return new VerifyRequest(tables(eventId, body), chunkSize(eventId, body, defaultChunk),
                bool(eventId, body, "repair"), samples, resume);
    }

    /**
     * {@code {"table": "public.orders", "key": {"id": 7}}} or {@code {"table": ..., "keys": [{"id": 7}, ...]}}:
     * each key holds the primary-key columns.
     */
    public static RowRefRequest rowRef(String eventId, JsonNode data) {
        JsonNode body = object(eventId, data, "replicator.rowref.v1");
        JsonNode table = body.get("table");
        if (table == null || !table.isTextual() || table.asText().isBlank()) {
            throw new BadEventException(eventId, "replicator.rowref.v1 needs \"table\" (schema.table)");
        }
        List<JsonNode> keys = new ArrayList<>();
        if (body.has("key")) {
            keys.add(body.get("key"));
        }
        if (body.has("keys")) {
            if (!body.get("keys").isArray()) {
                throw new BadEventException(eventId, "\"keys\" must be an array of key objects");
            }
            body.get("keys").forEach(keys::add);
        }
        if (keys.isEmpty()) {
            throw new BadEventException(eventId, "replicator.rowref.v1 needs \"key\" (the primary-key columns)");
        }
        if (keys.size() > ConfigValidator.MAX_CHUNK_SIZE) {
            throw new BadEventException(eventId, "at most " + ConfigValidator.MAX_CHUNK_SIZE + " keys per event");
        }
        for (JsonNode key : keys) {
            if (!key.isObject() || key.isEmpty()) {
                throw new BadEventException(eventId, "each key must be a JSON object with the primary-key columns");
            }
        }
        return new RowRefRequest(table.asText(), keys);
    }

    private static JsonNode object(String eventId, JsonNode data, String type) {
        if (data == null || data.isNull() || data.isMissingNode()) {
            return JsonNodeFactory.instance.objectNode();
        }
        if (!data.isObject()) {
            throw new BadEventException(eventId, type + " data must be a JSON object, got " + data.getNodeType());
        }
        return data;
    }

    private static List<String> tables(String eventId, JsonNode body) {
        JsonNode tables = body.get("tables");
        if (tables == null || tables.isNull() || (tables.isTextual() && tables.asText().equals("all"))) {
            return List.of();
        }
        if (!tables.isArray() || tables.isEmpty()) {
            throw new BadEventException(eventId, "\"tables\" must be \"all\" or a non-empty array of schema.table");
        }
        List<String> names = new ArrayList<>();
        for (JsonNode table : tables) {
            if (!table.isTextual() || table.asText().isBlank()) {
                throw new BadEventException(eventId, "\"tables\" must hold schema.table names");
            }
            JobTables.parse(eventId, table.asText());
            if (!names.contains(table.asText())) {
                names.add(table.asText());
            }
        }
        return names;
    }

    private static int chunkSize(String eventId, JsonNode body, int defaultChunk) {
        JsonNode chunk = body.get("chunkSize");
        return chunk == null || chunk.isNull() ? defaultChunk
                : integer(eventId, chunk, "chunkSize", 1, ConfigValidator.MAX_CHUNK_SIZE);
    }

    private static int integer(String eventId, JsonNode node, String field, int min, int max) {
        if (!node.canConvertToInt() || !node.isIntegralNumber() || node.asInt() < min || node.asInt() > max) {
            throw new BadEventException(eventId, "\"" + field + "\" must be an integer from " + min + " to " + max);
        }
        return node.asInt();
    }

    private static boolean bool(String eventId, JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return false;
        }
        if (!value.isBoolean()) {
            throw new BadEventException(eventId, "\"" + field + "\" must be true or false");
        }
        return value.booleanValue();
    }
}
