package dev.replicator.schema;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.replicator.decode.FieldSchema;

/** The PostgreSQL type of a column added from a Debezium field schema (as captured from Debezium Server 3.6). */
class DebeziumTypesTest {

    @ParameterizedTest(name = "{0} {1} -> {2}")
    @CsvSource(delimiter = '|', nullValues = "-", value = {
            "int16 | - | smallint",
            "int32 | - | integer",
            "int64 | - | bigint",
            "float32 | - | real",
            "float64 | - | double precision",
            "boolean | - | boolean",
            "string | - | text",
            "bytes | - | bytea",
            "int32 | io.debezium.time.Date | date",
            "int64 | io.debezium.time.Timestamp | timestamp(3) without time zone",
            "int64 | io.debezium.time.MicroTimestamp | timestamp(6) without time zone",
            "int64 | io.debezium.time.MicroTime | time(6) without time zone",
            "string | io.debezium.time.ZonedTimestamp | timestamp with time zone",
            "string | io.debezium.time.ZonedTime | time with time zone",
            "int64 | io.debezium.time.MicroDuration | interval",
            "struct | io.debezium.data.VariableScaleDecimal | numeric",
            "string | io.debezium.data.Json | jsonb",
            "string | io.debezium.data.Uuid | uuid",
            "string | io.debezium.data.Enum | text",
            "struct | - | -",
            "map | - | -" })
    void types(String type, String name, String expected) {
        assertEquals(expected, DebeziumTypes.sqlType(new FieldSchema(type, name, Map.of(), null)));
    }

    @Test
    void decimalsKeepPrecisionAndScaleWhenTheSchemaGivesBoth() {
        assertEquals("numeric(12,4)", DebeziumTypes.sqlType(new FieldSchema("bytes",
                "org.apache.kafka.connect.data.Decimal", Map.of("scale", "4", "connect.decimal.precision", "12"),
                null)));
        assertEquals("numeric", DebeziumTypes.sqlType(new FieldSchema("bytes",
                "org.apache.kafka.connect.data.Decimal", Map.of("scale", "4"), null)));
    }

    @Test
    void arraysOfElementsThatHaveATypeAndNoNesting() {
        FieldSchema text = new FieldSchema("string", null, Map.of(), null);
        assertEquals("text[]", DebeziumTypes.sqlType(new FieldSchema("array", null, Map.of(), text)));
        FieldSchema nested = new FieldSchema("array", null, Map.of(), text);
        assertNull(DebeziumTypes.sqlType(new FieldSchema("array", null, Map.of(), nested)));
        assertNull(DebeziumTypes.sqlType(new FieldSchema("array", null, Map.of(), null)));
    }
}
