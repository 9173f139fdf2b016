package dev.replicator.decode;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One column's value as the event carried it: the raw JSON (never yet interpreted, because without a schema only the
 * target column's type tells how) and the field's schema when the event had one.
 * {@link #UNAVAILABLE} stands for Debezium's unchanged-TOAST placeholder: the source did not send the value.
 */
public record FieldValue(JsonNode json, FieldSchema schema, boolean unavailable) {

    public static final FieldValue UNAVAILABLE = new FieldValue(null, null, true);

    public static FieldValue of(JsonNode json, FieldSchema schema) {
        return new FieldValue(json, schema, false);
    }

    public boolean isNull() {
        return !unavailable && (json == null || json.isNull());
    }
}
