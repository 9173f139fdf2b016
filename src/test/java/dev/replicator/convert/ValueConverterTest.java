package dev.replicator.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.replicator.decode.FieldSchema;
import dev.replicator.decode.FieldValue;
import dev.replicator.decode.ValueEncoding;
import dev.replicator.route.TargetColumn;

/** Debezium's JSON encodings and the native format, to the exact PostgreSQL text input. */
class ValueConverterTest {

    /** As the application reads bodies: decimals exactly, never through a double. */
    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    final ValueConverter converter = new ValueConverter(ConversionOptions.DEFAULTS);

    static TargetColumn column(String baseType, int precision, int scale) {
        return new TargetColumn("c", baseType, baseType, 'X', false, precision, scale, true, false);
    }

    static TargetColumn array(String baseType) {
        return new TargetColumn("c", baseType + "[]", baseType, 'A', true, -1, -1, true, false);
    }

    static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    String debezium(String value, String semantic, String type, TargetColumn column) {
        FieldSchema schema = semantic == null && type == null ? null : new FieldSchema(type, semantic, Map.of(), null);
        return converter.toText(FieldValue.of(json(value), schema), column, ValueEncoding.DEBEZIUM);
    }

    @ParameterizedTest(name = "{1} {0} -> {3}")
    @CsvSource(delimiter = '|', value = {
            // value | semantic type | connect type | expected
            "-56270|io.debezium.time.Date|int32|1815-12-10",
            "0|io.debezium.time.Date|int32|1970-01-01",
            "-719163|io.debezium.time.Date|int32|0001-12-31 BC",
            "27000500000|io.debezium.time.MicroTime|int64|07:30:00.500",
            "86400000000|io.debezium.time.MicroTime|int64|24:00:00",
            "79200000|io.debezium.time.Time|int32|22:00:00",
            "1704164645123456|io.debezium.time.MicroTimestamp|int64|2024-01-02 03:04:05.123456",
            "-1|io.debezium.time.MicroTimestamp|int64|1969-12-31 23:59:59.999999",
            "1704164645123|io.debezium.time.Timestamp|int64|2024-01-02 03:04:05.123",
            "1704164645123456789|io.debezium.time.NanoTimestamp|int64|2024-01-02 03:04:05.123456",
            "37091106789000|io.debezium.time.MicroDuration|int64|37091106.789000 seconds",
            "-259200000000|io.debezium.time.MicroDuration|int64|-259200.000000 seconds",
            "1|io.debezium.time.MicroDuration|int64|0.000001 seconds",
            "\"2024-01-02T01:04:05.654321Z\"|io.debezium.time.ZonedTimestamp|string|2024-01-02T01:04:05.654321Z",
            "\"06:30:00Z\"|io.debezium.time.ZonedTime|string|06:30:00Z",
            "\"P1Y2M3DT4H5M6.789S\"|io.debezium.time.Interval|string|P1Y2M3DT4H5M6.789S",
            "{\"scale\":0,\"value\":\"AQ==\"}|io.debezium.data.VariableScaleDecimal|struct|1",
            "{\"scale\":1,\"value\":\"GQ==\"}|io.debezium.data.VariableScaleDecimal|struct|2.5",
            "\"6f1c1d5e-0000-4000-8000-000000000001\"|io.debezium.data.Uuid|string|6f1c1d5e-0000-4000-8000-000000000001",
            "\"{\\\"a\\\": 1}\"|io.debezium.data.Json|string|{\"a\": 1}" })
    void semanticTypes(String value, String semantic, String type, String expected) {
        assertEquals(expected, debezium(value, semantic, type, column("text", -1, -1)));
    }

    @Test
    void connectDecimalUsesTheSchemaScale() {
        FieldSchema schema = new FieldSchema("bytes", "org.apache.kafka.connect.data.Decimal", Map.of("scale", "4"), null);
        // 1234.5678 and the maximum of numeric(12,4)
        assertEquals("1234.5678", converter.toText(FieldValue.of(json("\"ALxhTg==\""), schema),
                column("numeric", 12, 4), ValueEncoding.DEBEZIUM));
        assertEquals("-0.0001", converter.toText(FieldValue.of(json("\"/w==\""), schema), column("numeric", 12, 4),
                ValueEncoding.DEBEZIUM));
    }

    @Test
    void withoutSchemaTheTargetColumnDecides() {
        assertEquals("1234.5678", debezium("\"ALxhTg==\"", null, null, column("numeric", 12, 4)));
        assertEquals("\\xdeadbeef", debezium("\"3q2+7w==\"", null, null, column("bytea", -1, -1)));
        assertEquals("1815-12-10", debezium("-56270", null, null, column("date", -1, -1)));
        // the same integer is milliseconds for timestamp(3) and microseconds for timestamp(6)
        assertEquals("2024-01-02 03:04:05.123", debezium("1704164645123", null, null, column("timestamp", 3, -1)));
        assertEquals("1970-01-20 17:22:44.645123", debezium("1704164645123", null, null, column("timestamp", 6, -1)));
        assertEquals("07:30:00.500", debezium("27000500000", null, null, column("time", 6, -1)));
        assertEquals("06:00:00", debezium("21600000", null, null, column("time", 0, -1)));
        assertEquals("{\"a\": 1}", debezium("\"{\\\"a\\\": 1}\"", null, null, column("jsonb", -1, -1)));
    }

    @Test
    void decimalStringAndDoubleModes() {
        ValueConverter strings = new ValueConverter(new ConversionOptions(ConversionOptions.DecimalHandling.STRING,
                ConversionOptions.TimePrecision.ADAPTIVE, ConversionOptions.BinaryHandling.BYTES));
        assertEquals("NaN", strings.toText(FieldValue.of(json("\"NaN\""), null), column("numeric", -1, -1),
                ValueEncoding.DEBEZIUM));
        assertEquals("1234", strings.toText(FieldValue.of(json("\"1234\""), null), column("numeric", -1, -1),
                ValueEncoding.DEBEZIUM));
        assertEquals("1234.5678", debezium("1234.5678", null, "double", column("numeric", 12, 4)));
    }

    @Test
    void floatingPointEdgeValues() {
        assertEquals("Infinity", debezium("\"Infinity\"", null, "double", column("float8", -1, -1)));
        assertEquals("-Infinity", debezium("\"-Infinity\"", null, "float", column("float4", -1, -1)));
        assertEquals("NaN", debezium("\"NaN\"", null, "double", column("float8", -1, -1)));
        assertEquals("3.141592653589793", debezium("3.141592653589793", null, "double", column("float8", -1, -1)));
        assertEquals("2.5", debezium("2.5", null, "float", column("float4", -1, -1)));
    }

    @Test
    void arraysQuoteEveryElement() {
        assertEquals("{\"a,b\",\"quote\\\"d\",\"back\\\\slash\",NULL,\"\",\"sp ace\"}",
                debezium("[\"a,b\",\"quote\\\"d\",\"back\\\\slash\",null,\"\",\"sp ace\"]", null, null, array("text")));
        assertEquals("{\"7\",\"13\"}", debezium("[7,13]", null, null, array("int4")));
        assertEquals("{}", debezium("[]", null, null, array("int4")));
        assertEquals("{\"1815-12-10\"}", debezium("[-56270]", null, null, array("date")));
    }

    @Test
    void nativeFormatTakesPostgresTextAndJson() {
        assertEquals("2024-01-02 03:04:05+02", converter.toText(FieldValue.of(json("\"2024-01-02 03:04:05+02\""), null),
                column("timestamptz", 6, -1), ValueEncoding.NATIVE));
        assertEquals("12345678901234567890.123", converter.toText(FieldValue.of(json("12345678901234567890.123"), null),
                column("numeric", -1, -1), ValueEncoding.NATIVE));
        assertEquals("{\"x\":[1,2]}", converter.toText(FieldValue.of(json("{\"x\":[1,2]}"), null),
                column("jsonb", -1, -1), ValueEncoding.NATIVE));
        assertEquals("\"a\"", converter.toText(FieldValue.of(json("\"a\""), null), column("jsonb", -1, -1),
                ValueEncoding.NATIVE));
        assertEquals("{\"math\",NULL}", converter.toText(FieldValue.of(json("[\"math\",null]"), null), array("text"),
                ValueEncoding.NATIVE));
        assertNull(converter.toText(FieldValue.of(json("null"), null), column("text", -1, -1), ValueEncoding.NATIVE));
    }

    @Test
    void mismatchNamesTheColumnNotTheValue() {
        ConversionException e = assertThrows(ConversionException.class, () -> converter.toText(
                FieldValue.of(json("{\"secret\":\"s3cr3t\"}"), null), column("int4", -1, -1), ValueEncoding.NATIVE));
        assertTrue(e.getMessage().contains("column c"), e.getMessage());
        assertTrue(!e.getMessage().contains("s3cr3t"), e.getMessage());
        assertThrows(ConversionException.class, () -> debezium("\"not base64!\"", null, null, column("bytea", -1, -1)));
    }
}
