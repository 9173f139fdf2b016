package dev.replicator.decode;

import java.util.Map;

/**
 * What a Debezium (Kafka Connect JSON) schema says about one field: its Connect type ({@code int64}, {@code bytes},
 * {@code array} ...), its semantic name ({@code io.debezium.time.MicroTimestamp} ...), its parameters
 * ({@code scale} ...) and, for arrays, the schema of the elements. Absent when the event carries no schema.
 */
public record FieldSchema(String type, String name, Map<String, String> parameters, FieldSchema items) {

    public FieldSchema {
        parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
    }

    public String parameter(String key) {
        return parameters.get(key);
    }
}
