package dev.replicator.decode;

/** A table named by schema and table, as it appears in an event (source side) or in the target. */
public record TableId(String schema, String table) {

    public TableId {
        if (schema == null || schema.isBlank() || table == null || table.isBlank()) {
            throw new IllegalArgumentException("table name needs a schema and a table, got " + schema + "." + table);
        }
    }

    /** Parses {@code schema.table}; a name without a dot is in {@code public}. */
    public static TableId parse(String qualified) {
        int dot = qualified.indexOf('.');
        return dot < 0 ? new TableId("public", qualified) : new TableId(qualified.substring(0, dot), qualified.substring(dot + 1));
    }

    @Override
    public String toString() {
        return schema + "." + table;
    }
}
