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

    /** Debezium's encodings of infinity, as captured from Debezium Server 3.6 in each time precision mode. */
    @ParameterizedTest(name = "{1} {0} -> {2}")
    @CsvSource(delimiter = '|', value = {
            "-2147472692|io.debezium.time.Date|infinity",
            "-2147472691|io.debezium.time.Date|-infinity",
            "-2147472692|org.apache.kafka.connect.data.Date|infinity",
            "-622191234|io.debezium.time.Date|infinity",
            "-625821272|io.debezium.time.Date|-infinity",
            "9223372036825200|io.debezium.time.Timestamp|infinity",
            "-9223372036832400|io.debezium.time.Timestamp|-infinity",
            "9223372036825200|org.apache.kafka.connect.data.Timestamp|infinity",
            "9223372036825200000|io.debezium.time.MicroTimestamp|infinity",
            "-9223372036832400000|io.debezium.time.MicroTimestamp|-infinity",
            "\"infinity\"|io.debezium.time.ZonedTimestamp|infinity",
            "\"-infinity\"|io.debezium.time.ZonedTimestamp|-infinity",
            "\"+292269055-12-02T23:00:00.000000Z\"|io.debezium.time.ZonedTimestamp|-infinity" })
    void infinities(String value, String semantic, String expected) {
        assertEquals(expected, debezium(value, semantic, "int64", column("timestamp", 6, -1)));
    }

    @Test
    void infinitiesWithoutSchemaInEveryPrecisionAndInArrays() {
        assertEquals("infinity", debezium("-2147472692", null, null, column("date", -1, -1)));
        assertEquals("-infinity", debezium("-9223372036832400", null, null, column("timestamp", 3, -1)));
        assertEquals("infinity", debezium("9223372036825200000", null, null, column("timestamp", 6, -1)));
        assertEquals("-infinity", debezium("\"-infinity\"", null, null, column("timestamptz", 6, -1)));
        assertEquals("{\"infinity\",\"-infinity\",\"2024-02-29\"}",
                debezium("[-622191234,-625821272,19782]", null, null, array("date")));
        assertEquals("{\"infinity\",\"-infinity\"}",
                debezium("[\"infinity\",\"+292269055-12-02T23:00:00.000000Z\"]", null, null, array("timestamptz")));
    }

    @Test
    void extremeTimestampsNeitherOverflowNorLoseTheirEra() {
        // the latest timestamp PostgreSQL holds, in milliseconds: past a long of microseconds
        assertEquals("294276-12-31 23:59:59.999", debezium("9224318015999999", "io.debezium.time.Timestamp", "int64",
                column("timestamp", 3, -1)));
        assertEquals("294247-01-10 04:00:54.775807", debezium("9223372036854775807", "io.debezium.time.MicroTimestamp",
                "int64", column("timestamp", 6, -1)));
        assertEquals("4713-11-24 00:00:00.001 BC", debezium("-210835180799999", "io.debezium.time.Timestamp", "int64",
                column("timestamp", 3, -1)));
        assertEquals("294276-12-31T23:59:59.999999Z", debezium("\"+294276-12-31T23:59:59.999999Z\"",
                "io.debezium.time.ZonedTimestamp", "string", column("timestamptz", 6, -1)));
        assertEquals("4713-11-24T00:00:00.000000Z BC", debezium("\"-4712-11-24T00:00:00.000000Z\"",
                "io.debezium.time.ZonedTimestamp", "string", column("timestamptz", 6, -1)));
        assertEquals("0001-01-01T00:00:00Z BC", debezium("\"0000-01-01T00:00:00Z\"", null, null,
                column("timestamptz", 6, -1)));
        assertEquals("-9223372036854.775808 seconds", debezium("-9223372036854775808",
                "io.debezium.time.MicroDuration", "int64", column("interval", 6, -1)));
    }

    static TargetColumn bits(String sqlType, String baseType) {
        return new TargetColumn("c", sqlType, baseType, 'V', false, -1, -1, true, false);
    }

    @Test
    void bitStringsTakeTheirLengthFromTheColumn() {
        FieldSchema varbit = new FieldSchema("bytes", "io.debezium.data.Bits", Map.of("length", "2147483647"), null);
        // B'101' is one byte, 0x05; a bit varying is written from its highest set bit
        assertEquals("101", converter.toText(FieldValue.of(json("\"BQ==\""), varbit), bits("bit varying", "varbit"),
                ValueEncoding.DEBEZIUM));
        assertEquals("", converter.toText(FieldValue.of(json("\"\""), varbit), bits("bit varying", "varbit"),
                ValueEncoding.DEBEZIUM));
        // B'1010000011' is 0x83 0x02, least significant byte first; without a schema the column gives the length
        assertEquals("1010000011", debezium("\"gwI=\"", null, null, bits("bit(10)", "bit")));
        assertEquals("0000000000", debezium("\"\"", null, null, bits("bit(10)", "bit")));
        // bit(1) arrives as a boolean
        assertEquals("1", debezium("true", null, "boolean", bits("bit(1)", "bit")));
        assertEquals("0", debezium("false", null, null, bits("bit(1)", "bit")));
    }

    @Test
    void hstoreFromDebeziumsJsonText() {
        assertEquals("\"a\"=>\"1\", \"b\"=>NULL, \"c d\"=>\"e\\\"f\"", debezium(
                "\"{\\\"a\\\":\\\"1\\\",\\\"b\\\":null,\\\"c d\\\":\\\"e\\\\\\\"f\\\"}\"",
                "io.debezium.data.Json", "string", column("hstore", -1, -1)));
        assertEquals("", debezium("\"{}\"", null, null, column("hstore", -1, -1)));
        assertEquals("\"k\"=>\"v\"", debezium("{\"k\":\"v\"}", null, null, column("hstore", -1, -1)));
    }

    @Test
    void aSchemaDecidesHowANumericStringReadsTheSettingOnlyWithoutOne() {
        // "1234" is both base64 and decimal text
        assertEquals("1234", debezium("\"1234\"", null, "string", column("numeric", -1, -1)));
        assertEquals("12.3400", debezium("\"12.3400\"", null, "string", column("numeric", 12, 4)));
        assertEquals("-0.0001", debezium("\"/w==\"", null, null, column("numeric", 12, 4)));
        assertEquals("-1.0000", debezium("\"-1.0000\"", null, "string", column("numeric", 12, 4)));
        ValueConverter strings = new ValueConverter(new ConversionOptions(ConversionOptions.DecimalHandling.STRING,
                ConversionOptions.TimePrecision.ADAPTIVE, ConversionOptions.BinaryHandling.BYTES));
        assertEquals("1234", strings.toText(FieldValue.of(json("\"1234\""), null), column("numeric", 12, 4),
                ValueEncoding.DEBEZIUM));
        // precise mode without a schema: base64, never guessed from the text
        assertEquals("-265.8824", debezium("\"1234\"", null, null, column("numeric", 12, 4)));
        // Debezium spells numeric's special values as Java's names
        assertEquals("NaN", debezium("\"NAN\"", null, "string", column("numeric", -1, -1)));
        assertEquals("Infinity", debezium("\"POSITIVE_INFINITY\"", null, "string", column("numeric", -1, -1)));
        assertEquals("-Infinity", strings.toText(FieldValue.of(json("\"NEGATIVE_INFINITY\""), null),
                column("numeric", -1, -1), ValueEncoding.DEBEZIUM));
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
