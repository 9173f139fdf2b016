package dev.replicator.schema;

import dev.replicator.decode.FieldSchema;

/**
 * The PostgreSQL type for a column that a Debezium event's schema describes: by its semantic name where it has one
 * ({@code io.debezium.time.MicroTimestamp}, {@code org.apache.kafka.connect.data.Decimal} ...), otherwise by its
 * Connect type. Used to add a column or create a table the target lacks; the source's own types (enums, domains,
 * lengths) are not in the event, so the widest type that holds every value Debezium sends is chosen.
 */
public final class DebeziumTypes {

    private DebeziumTypes() {
    }

    /** The SQL type, or null when no PostgreSQL type holds what the schema describes (a struct, a map). */
    public static String sqlType(FieldSchema schema) {
        if (schema == null) {
            return null;
        }
        if ("array".equals(schema.type())) {
            String element = sqlType(schema.items());
            return element == null || element.endsWith("[]") ? null : element + "[]";
        }
        String semantic = semantic(schema);
        return semantic != null ? semantic : physical(schema.type());
    }

    private static String semantic(FieldSchema schema) {
        if (schema.name() == null) {
            return null;
        }
        return switch (schema.name()) {
            case "io.debezium.time.Date", "org.apache.kafka.connect.data.Date" -> "date";
            case "io.debezium.time.Time", "org.apache.kafka.connect.data.Time" -> "time(3) without time zone";
            case "io.debezium.time.MicroTime", "io.debezium.time.NanoTime" -> "time(6) without time zone";
            case "io.debezium.time.Timestamp", "org.apache.kafka.connect.data.Timestamp" ->
                "timestamp(3) without time zone";
            case "io.debezium.time.MicroTimestamp", "io.debezium.time.NanoTimestamp" ->
                "timestamp(6) without time zone";
            case "io.debezium.time.ZonedTimestamp" -> "timestamp with time zone";
            case "io.debezium.time.ZonedTime" -> "time with time zone";
            case "io.debezium.time.MicroDuration", "io.debezium.time.Interval" -> "interval";
            case "org.apache.kafka.connect.data.Decimal" -> decimal(schema);
            case "io.debezium.data.VariableScaleDecimal" -> "numeric";
            case "io.debezium.data.Json" -> "jsonb";
            case "io.debezium.data.Xml" -> "xml";
            case "io.debezium.data.Uuid" -> "uuid";
            case "io.debezium.data.Bits" -> "bit varying";
            case "io.debezium.data.Enum", "io.debezium.data.EnumSet" -> "text";
            default -> null;
        };
    }

    /** {@code numeric(p,s)} when the schema gives both, else {@code numeric}, which holds any decimal. */
    private static String decimal(FieldSchema schema) {
        Integer scale = number(schema.parameter("scale"));
        Integer precision = number(schema.parameter("connect.decimal.precision"));
        if (scale != null && precision != null && precision >= 1 && precision <= 1000 && scale >= 0
                && scale <= precision) {
            return "numeric(" + precision + "," + scale + ")";
        }
        return "numeric";
    }

    private static Integer number(String text) {
        if (text == null) {
            return null;
        }
        try {
            return Integer.valueOf(text.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String physical(String type) {
        if (type == null) {
            return null;
        }
        return switch (type) {
            case "int8", "int16" -> "smallint";
            case "int32" -> "integer";
            case "int64" -> "bigint";
            case "float32" -> "real";
            case "float64" -> "double precision";
            case "boolean" -> "boolean";
            case "string" -> "text";
            case "bytes" -> "bytea";
            default -> null;
        };
    }
}
