package dev.replicator.convert;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import dev.replicator.decode.FieldSchema;
import dev.replicator.decode.FieldValue;
import dev.replicator.decode.ValueEncoding;

/**
 * Turns one value from an event into PostgreSQL text input for its target column; the writer binds it untyped and
 * casts it to the column's type, so PostgreSQL itself parses it. With a Debezium schema the field's semantic type
 * decides how to read the JSON; without one, the target column's type does (Debezium's settings given in
 * {@link ConversionOptions} resolve what the JSON alone cannot).
 */
public final class ValueConverter {

    private final ConversionOptions options;

    public ValueConverter(ConversionOptions options) {
        this.options = options;
    }

    /** PostgreSQL text input for the column, or null for SQL NULL. */
    public String toText(FieldValue value, TargetColumn column, ValueEncoding encoding) {
        if (value.unavailable()) {
            throw new IllegalArgumentException("unavailable values are not converted");
        }
        JsonNode json = value.json();
        if (json == null || json.isNull()) {
            return null;
        }
        try {
            if (encoding == ValueEncoding.POSTGRES_TEXT) {
                return json.textValue(); // PostgreSQL's own output of the source column: its input as it is
            }
            if (encoding == ValueEncoding.NATIVE) {
                return nativeText(json, column, column.array());
            }
            return debeziumText(json, value.schema(), column, column.array());
        } catch (ConversionException e) {
            throw e;
        } catch (RuntimeException e) {
            throw mismatch(column, json, "a value of type " + column.sqlType());
        }
    }

    // ---- Debezium's JSON encodings ---------------------------------------------------------------------------

    private String debeziumText(JsonNode json, FieldSchema schema, TargetColumn column, boolean asArray) {
        if (asArray || (schema != null && "array".equals(schema.type()))) {
            if (!json.isArray()) {
                throw mismatch(column, json, "a JSON array");
            }
            FieldSchema items = schema == null ? null : schema.items();
            List<String> elements = new ArrayList<>(json.size());
            for (JsonNode element : json) {
                elements.add(element.isNull() ? null : debeziumText(element, items, column, false));
            }
            return ArrayLiteral.of(elements);
        }
        String name = schema == null ? null : schema.name();
        if (name != null) {
            String text = semantic(name, json, schema, column);
            if (text != null) {
                return text;
            }
        }
        if (json.isTextual()) {
            return schema != null && "bytes".equals(schema.type()) ? bytesText(json.textValue(), column)
                    : stringText(json.textValue(), column, schema != null);
        }
        return byColumn(json, column, schema != null);
    }

    /** Semantic types named in the schema; null when the name needs no special reading. */
    private String semantic(String name, JsonNode json, FieldSchema schema, TargetColumn column) {
        switch (name) {
            case "org.apache.kafka.connect.data.Decimal":
                if (json.isTextual() && !"string".equals(schema.type())) {
                    return DecimalText.decimal(json.textValue(), Integer.parseInt(schema.parameter("scale")));
                }
                return null;
            case "io.debezium.data.VariableScaleDecimal":
                return DecimalText.variableScale(json);
            case "io.debezium.time.Date":
            case "org.apache.kafka.connect.data.Date":
                return TemporalText.date(json.asLong());
            case "io.debezium.time.Time":
            case "org.apache.kafka.connect.data.Time":
                return TemporalText.time(json.asLong(), 1_000L);
            case "io.debezium.time.MicroTime":
                return TemporalText.time(json.asLong(), 1_000_000L);
            case "io.debezium.time.NanoTime":
                return TemporalText.time(json.asLong(), 1_000_000_000L);
            case "io.debezium.time.Timestamp":
            case "org.apache.kafka.connect.data.Timestamp":
                return TemporalText.timestamp(json.asLong(), 1_000L);
            case "io.debezium.time.MicroTimestamp":
                return TemporalText.timestamp(json.asLong(), 1_000_000L);
            case "io.debezium.time.NanoTimestamp":
                return TemporalText.timestamp(json.asLong(), 1_000_000_000L);
            case "io.debezium.time.ZonedTimestamp":
                return TemporalText.zonedTimestamp(json.textValue());
            case "io.debezium.time.MicroDuration":
                return TemporalText.microseconds(json.asLong());
            case "io.debezium.data.Bits":
                return BinaryText.bits(BinaryText.decode(json.textValue(), options.binaryHandling()), bitLength(column));
            case "io.debezium.data.geometry.Point":
                return "(" + DecimalText.number(json.get("x")) + "," + DecimalText.number(json.get("y")) + ")";
            case "io.debezium.data.geometry.Geometry":
            case "io.debezium.data.geometry.Geography":
                throw new ConversionException("column " + column.name() + ": PostGIS geometry values are not supported");
            default:
                return null;
        }
    }

    /** A value the schema types as Connect bytes: base64 in JSON, whatever the binary handling mode. */
    private String bytesText(String base64, TargetColumn column) {
        byte[] bytes = Base64.getDecoder().decode(base64);
        return switch (column.baseType()) {
            case "bit", "varbit" -> BinaryText.bits(bytes, bitLength(column));
            default -> BinaryText.bytea(bytes);
        };
    }

    /**
     * A JSON string. The target column's type decides how to read it; for numerics, whether the event has a schema
     * decides too: with one, a string-typed numeric is decimal text ({@code decimal.handling.mode=string}); without
     * one, only the connector's setting can tell base64 from decimal text ("1234" is both).
     */
    private String stringText(String text, TargetColumn column, boolean hasSchema) {
        return switch (column.baseType()) {
            case "bytea" -> BinaryText.bytea(BinaryText.decode(text, options.binaryHandling()));
            case "bit", "varbit" -> BinaryText.bits(BinaryText.decode(text, options.binaryHandling()), bitLength(column));
            case "numeric", "money" -> hasSchema || options.decimalHandling() != ConversionOptions.DecimalHandling.PRECISE
                    ? DecimalText.plain(text)
                    : DecimalText.decimal(text, Math.max(column.scale(), column.baseType().equals("money") ? 2 : 0));
            case "timestamptz" -> TemporalText.zonedTimestamp(text);
            case "hstore" -> HstoreText.fromJson(text);
            default -> text;
        };
    }

    /** Numbers, booleans and objects: with a schema their JSON type is the value's; without one the column decides. */
    private String byColumn(JsonNode json, TargetColumn column, boolean hasSchema) {
        String type = column.baseType();
        if (json.isObject()) {
            if (type.equals("numeric") && json.has("scale") && json.has("value")) {
                return DecimalText.variableScale(json);
            }
            if (type.equals("hstore")) {
                return HstoreText.of(json);
            }
            if (type.equals("point") && json.has("x")) {
                return "(" + DecimalText.number(json.get("x")) + "," + DecimalText.number(json.get("y")) + ")";
            }
            if (type.equals("json") || type.equals("jsonb")) {
                return json.toString();
            }
            throw mismatch(column, json, "a scalar value");
        }
        if (json.isArray()) {
            if (type.equals("json") || type.equals("jsonb")) {
                return json.toString();
            }
            throw mismatch(column, json, "a scalar value");
        }
        if (json.isBoolean()) {
            // bit(1) arrives as a Connect boolean
            boolean bitColumn = type.equals("bit") || type.equals("varbit");
            return json.booleanValue() ? (bitColumn ? "1" : "true") : (bitColumn ? "0" : "false");
        }
        if (json.isNumber() && !hasSchema) {
            return switch (type) {
                case "date" -> TemporalText.date(json.asLong());
                case "time" -> TemporalText.time(json.asLong(), timeUnits(column, true));
                case "timestamp" -> TemporalText.timestamp(json.asLong(), timeUnits(column, false));
                case "interval" -> TemporalText.microseconds(json.asLong());
                default -> DecimalText.number(json);
            };
        }
        if (json.isNumber()) {
            return DecimalText.number(json);
        }
        throw mismatch(column, json, "a value of type " + column.sqlType());
    }

    /** The n of a {@code bit(n)} column; -1 for {@code bit varying}, whose length Debezium's bytes do not keep. */
    private static int bitLength(TargetColumn column) {
        if (!column.baseType().equals("bit")) {
            return -1;
        }
        String sql = column.sqlType();
        int open = sql.indexOf('(');
        return open < 0 ? 1 : Integer.parseInt(sql.substring(open + 1, sql.indexOf(')', open)));
    }

    /** Without a schema the unit of an integer time depends on the column's precision and Debezium's setting. */
    private long timeUnits(TargetColumn column, boolean timeOfDay) {
        return switch (options.timePrecision()) {
            case CONNECT -> 1_000L;
            case ADAPTIVE_TIME_MICROSECONDS -> timeOfDay ? 1_000_000L
                    : column.precision() <= 3 ? 1_000L : 1_000_000L;
            case ADAPTIVE -> column.precision() <= 3 ? 1_000L : 1_000_000L;
        };
    }

    // ---- the native format ------------------------------------------------------------------------------------

    private String nativeText(JsonNode json, TargetColumn column, boolean asArray) {
        String type = column.baseType();
        if (!asArray && (type.equals("json") || type.equals("jsonb"))) {
            return json.toString();
        }
        if (asArray && json.isArray()) {
            List<String> elements = new ArrayList<>(json.size());
            for (JsonNode element : json) {
                elements.add(element.isNull() ? null : nativeText(element, column, false));
            }
            return ArrayLiteral.of(elements);
        }
        if (json.isTextual()) {
            return json.textValue();
        }
        if (json.isBoolean()) {
            return json.booleanValue() ? "true" : "false";
        }
        if (json.isNumber()) {
            return DecimalText.number(json);
        }
        if (json.isObject() && type.equals("hstore")) {
            return HstoreText.of(json);
        }
        throw mismatch(column, json, asArray ? "a JSON array" : "a string, number or boolean");
    }

    private static ConversionException mismatch(TargetColumn column, JsonNode json, String expected) {
        return new ConversionException("column " + column.name() + " (" + column.sqlType() + ") expects " + expected
                + ", got a JSON " + json.getNodeType().toString().toLowerCase());
    }
}
