package dev.replicator.apply;

import static dev.replicator.apply.Sql.qualified;
import static dev.replicator.apply.Sql.quote;

import java.util.List;
import java.util.stream.Collectors;

import dev.replicator.convert.TargetColumn;
import dev.replicator.route.TargetTable;

/**
 * The statements of a backfill chunk written with COPY. Copied rows record no position: a row without one ranks as a
 * snapshot read, below every streamed change, so a copy writes only keys that have no position row. Identifiers are
 * quoted; key bounds are bound parameters; row values travel only in the COPY data.
 */
public final class CopySql {

    /** The chunk's staging table: private to the session, dropped with the transaction. */
    static final String STAGING = "pg_temp." + quote("replicator_copy");

    private final String positions;
    private final String tablePositions;

    /** @param schema the schema holding replicator's own tables */
    public CopySql(String schema) {
        this.positions = quote(schema) + ".row_position";
        this.tablePositions = quote(schema) + ".table_position";
    }

    /** COPY text straight into the table (the chunk's key range there is empty and unclaimed). */
    public String copyIntoTable(TargetTable table, List<String> columns) {
        return "COPY " + qualified(table.id()) + " (" + columnList(columns) + ") FROM STDIN";
    }

    /** An empty staging table with the written columns' types and no constraints. */
    public String createStaging(TargetTable table, List<String> columns) {
        return "CREATE TEMP TABLE " + quote("replicator_copy") + " ON COMMIT DROP AS SELECT " + columnList(columns)
                + " FROM " + qualified(table.id()) + " WITH NO DATA";
    }

    public String copyIntoStaging(List<String> columns) {
        return "COPY " + STAGING + " (" + columnList(columns) + ") FROM STDIN";
    }

    /**
     * Writes the staged rows whose keys have no position row: a key with one was written or deleted by the stream,
     * which outranks the copy (parameter: the table's name as positions record it). Returns the rows written.
     */
    public String mergeStaging(TargetTable table, List<String> columns) {
        return "INSERT INTO " + qualified(table.id()) + " (" + columnList(columns) + ")"
                + (table.identityAlways() ? " OVERRIDING SYSTEM VALUE" : "") + " SELECT "
                + columns.stream().map(c -> "c." + quote(c)).collect(Collectors.joining(", ")) + " FROM " + STAGING
                + " c WHERE NOT EXISTS (SELECT 1 FROM " + positions + " p WHERE p.table_name = ? AND p.row_key = "
                + Sql.rowKeyOf(table, "c") + ") ON CONFLICT (" + columnList(table.primaryKey()) + ") "
                + onConflict(table, columns);
    }

    /**
     * Whether the chunk may be copied straight into the table: the table has no position rows at all and no row in
     * the chunk's key range (parameters: the table's name, then the key after which the range starts if any, then the
     * range's last key if any). Returns one boolean.
     */
    public String unwritten(TargetTable table, boolean lower, boolean upper) {
        String range = "";
        if (lower || upper) {
            range = " WHERE " + (lower ? "(" + keyList(table) + ") > (" + keyParameters(table) + ")" : "")
                    + (lower && upper ? " AND " : "")
                    + (upper ? "(" + keyList(table) + ") <= (" + keyParameters(table) + ")" : "");
        }
        return "SELECT NOT EXISTS (SELECT 1 FROM " + positions + " WHERE table_name = ?) AND NOT EXISTS (SELECT 1 FROM "
                + qualified(table.id()) + range + ")";
    }

    /**
     * Whether a truncate recorded for the table is not older than the chunk's snapshot read (parameters: the table's
     * name, the read's commit and change positions): the same rule that makes a snapshot-read change stale.
     */
    public String truncatedSince() {
        return "SELECT EXISTS (SELECT 1 FROM " + tablePositions + " WHERE table_name = ?"
                + " AND (commit_pos, change_pos) >= (?, ?))";
    }

    /** Overwrite the non-key columns given, or keep the row when only the key is given. */
    private static String onConflict(TargetTable table, List<String> columns) {
        List<String> nonKey = columns.stream().filter(c -> !table.primaryKey().contains(c)).toList();
        return nonKey.isEmpty() ? "DO NOTHING"
                : "DO UPDATE SET " + nonKey.stream().map(c -> quote(c) + " = EXCLUDED." + quote(c))
                        .collect(Collectors.joining(", "));
    }

    private static String keyList(TargetTable table) {
        return table.keyColumns().stream().map(c -> quote(c.name())).collect(Collectors.joining(", "));
    }

    private static String keyParameters(TargetTable table) {
        return table.keyColumns().stream().map(CopySql::parameter).collect(Collectors.joining(", "));
    }

    private static String parameter(TargetColumn column) {
        return "?::" + column.castType();
    }

    private static String columnList(List<String> columns) {
        return columns.stream().map(Sql::quote).collect(Collectors.joining(", "));
    }
}
