package dev.replicator.decode;

/** How column values in an event are written, which decides how they are turned into PostgreSQL values. */
public enum ValueEncoding {
    /**
     * Debezium's JSON converter output: base64 bytes, epoch-based integers for dates and times, Connect decimals,
     * interpreted with the field schema when present, otherwise with the target column's type.
     */
    DEBEZIUM,
    /**
     * replicator.change.v1: strings are PostgreSQL text input, numbers and booleans as JSON, arrays as JSON arrays,
     * JSON objects for json/jsonb columns.
     */
    NATIVE,
    /**
     * PostgreSQL's own text output (pgoutput): every value, arrays and json included, is already the text its column
     * type reads back, so it is bound as it is and cast to the column's type.
     */
    POSTGRES_TEXT
}
