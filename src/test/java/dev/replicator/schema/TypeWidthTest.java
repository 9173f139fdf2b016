package dev.replicator.schema;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which source type changes a target column takes (types as format_type prints them). */
class TypeWidthTest {

    @ParameterizedTest(name = "{0} takes {1}: {2}")
    @CsvSource(delimiter = '|', value = {
            "integer | integer | true",
            "bigint | integer | true",
            "bigint | smallint | true",
            "integer | bigint | false",
            "integer | text | false",
            "text | integer | true",
            "text | character varying(20) | true",
            "character varying | text | true",
            "character varying(20) | character varying(10) | true",
            "character varying(10) | character varying(20) | false",
            "character varying(10) | text | false",
            "numeric | bigint | true",
            "numeric(12,4) | numeric(10,2) | true",
            "numeric(10,2) | numeric(12,2) | false",
            "numeric(10,2) | numeric(10,4) | false",
            "numeric(10,2) | numeric | false",
            "numeric(12,2) | integer | true",
            "numeric(10,2) | bigint | false",
            "double precision | real | true",
            "real | double precision | false",
            "double precision | bigint | false",
            "timestamp(6) without time zone | timestamp(3) without time zone | true",
            "timestamp without time zone | timestamp(3) without time zone | true",
            "timestamp(3) without time zone | timestamp without time zone | false",
            "timestamp with time zone | timestamp without time zone | false",
            "bigint[] | integer[] | true",
            "integer[] | bigint[] | false",
            "integer[] | integer | false",
            "mood | mood | true",
            "mood | text | false" })
    void takes(String target, String source, boolean takes) {
        assertEquals(takes, TypeWidth.takes(target.trim(), source.trim()));
    }
}
