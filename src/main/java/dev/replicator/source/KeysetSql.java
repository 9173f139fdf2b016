package dev.replicator.source;

import static dev.replicator.apply.Sql.qualified;
import static dev.replicator.apply.Sql.quote;

import java.util.List;
import java.util.stream.Collectors;

import dev.replicator.convert.TargetColumn;

/**
 * The statements that read tables for backfill, refresh and verify, on the source and (for verify) on the target.
 * Identifiers are checked against the catalogs before they get here and always quoted; values, key bounds included,
 * are bound parameters cast to the key column's type. Values are read as PostgreSQL text output, which is valid
 * text input for a column of the same type. Plain Java: the exact statements are asserted in tests.
 */
public final class KeysetSql {

    /**
     * The server's WAL position as a number: the read's place in the source's history (a standby reports how far it
     * has replayed).
     */
    public static final String WAL_POSITION = "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
            + " ELSE pg_current_wal_lsn() END - '0/0'::pg_lsn)::bigint";

    private KeysetSql() {
    }

    /** Where {@link #copyChunk} finds the chunk's bounds: transaction-local settings, set with bound values. */
    public static final String LOWER_SETTING = "replicator.copy_after_";
    public static final String UPPER_SETTING = "replicator.copy_last_";

    /**
     * Sets one bound of {@link #copyChunk} (parameters: the setting's name, the key value as text). COPY takes no
     * parameters, so the key values are bound here and the COPY reads them back, cast to the key's types.
     */
    public static final String SET_BOUND = "SELECT set_config(?, ?, true)";

    /**
     * A chunk's rows in key order as COPY text: the keys after the lower bound (if any) up to the upper bound,
     * inclusive (if any), both read from the settings {@link #LOWER_SETTING} and {@link #UPPER_SETTING} + key
     * column number.
     */
    public static String copyChunk(KeyedTable table, boolean lower, boolean upper) {
        String where = "";
        if (lower || upper) {
            where = " WHERE " + (lower ? "(" + keyList(table) + ") > (" + settings(table, LOWER_SETTING) + ")" : "")
                    + (lower && upper ? " AND " : "")
                    + (upper ? "(" + keyList(table) + ") <= (" + settings(table, UPPER_SETTING) + ")" : "");
        }
        return "COPY (SELECT " + table.columns().stream().map(c -> "t." + quote(c)).collect(Collectors.joining(", "))
                + " FROM " + qualified(table.id()) + " t" + where + " ORDER BY " + orderByKey(table) + ") TO STDOUT";
    }

    private static String settings(KeyedTable table, String prefix) {
        List<TargetColumn> key = table.key();
        return java.util.stream.IntStream.range(0, key.size())
                .mapToObj(i -> "current_setting('" + prefix + (i + 1) + "')::" + key.get(i).castType())
                .collect(Collectors.joining(", "));
    }

    /** The last key after the given one, if any (parameters: the key values after which to look, if any). */
    public static String lastKey(KeyedTable table, boolean after) {
        return "SELECT " + asText(table.keyNames()) + " FROM " + qualified(table.id()) + " t"
                + (after ? " WHERE " + keyAbove(table) : "") + " ORDER BY "
                + table.keyNames().stream().map(c -> "t." + quote(c) + " DESC").collect(Collectors.joining(", "))
                + " LIMIT 1";
    }

    /** One row by its key, every read column as text (parameters: the key values). */
    public static String row(KeyedTable table) {
        return "SELECT " + asText(table.columns()) + " FROM " + qualified(table.id()) + " WHERE "
                + table.key().stream().map(c -> quote(c.name()) + " = " + parameter(c))
                        .collect(Collectors.joining(" AND "));
    }

    /**
     * The key that ends a range of {@code chunk} rows: the chunk-th key after the given one, or none when fewer rows
     * follow (parameters: the key values after which to count, if any, then chunk - 1).
     */
    public static String rangeEnd(KeyedTable table, boolean after) {
        return "SELECT " + asText(table.keyNames()) + " FROM " + qualified(table.id()) + " t"
                + (after ? " WHERE " + keyAbove(table) : "") + " ORDER BY " + orderByKey(table) + " OFFSET ? LIMIT 1";
    }

    /**
     * Row count and checksum of a key range, computed by the database: the sum of the first 64 bits of the md5 of
     * each row's text, so no row leaves the database (parameters: the lower bound, exclusive, if any; the upper
     * bound, inclusive, if any).
     */
    public static String checksum(KeyedTable table, boolean lower, boolean upper) {
        return "SELECT count(*), coalesce(sum(('x' || left(" + rowHash(table) + ", 16))::bit(64)::bigint), 0)::text"
                + " FROM " + qualified(table.id()) + range(table, lower, upper);
    }

    /**
     * Key and row hash of every row of a key range, in key order, to find the differing rows of a range whose
     * checksums differ (parameters as {@link #checksum}).
     */
    public static String rowHashes(KeyedTable table, boolean lower, boolean upper) {
        return "SELECT " + asText(table.keyNames()) + ", " + rowHash(table) + " FROM " + qualified(table.id()) + " t"
                + range(table, lower, upper) + " ORDER BY " + orderByKey(table);
    }

    /** md5 of the row's columns as text, in the fixed column order (NULL and empty text differ). */
    static String rowHash(KeyedTable table) {
        return "md5(ROW(" + asText(table.columns()) + ")::text)";
    }

    private static String range(KeyedTable table, boolean lower, boolean upper) {
        if (!lower && !upper) {
            return "";
        }
        return " WHERE " + (lower ? keyAbove(table) : "") + (lower && upper ? " AND " : "")
                + (upper ? "(" + keyList(table) + ") <= (" + keyParameters(table) + ")" : "");
    }

    private static String keyAbove(KeyedTable table) {
        return "(" + keyList(table) + ") > (" + keyParameters(table) + ")";
    }

    private static String keyList(KeyedTable table) {
        return table.keyNames().stream().map(dev.replicator.apply.Sql::quote).collect(Collectors.joining(", "));
    }

    /**
     * The key columns qualified by the table's alias: a bare name in ORDER BY would mean the output column of that
     * name, which is the column's text (and text order is not the key's order).
     */
    private static String orderByKey(KeyedTable table) {
        return table.keyNames().stream().map(c -> "t." + quote(c)).collect(Collectors.joining(", "));
    }

    private static String keyParameters(KeyedTable table) {
        return table.key().stream().map(KeysetSql::parameter).collect(Collectors.joining(", "));
    }

    private static String asText(List<String> columns) {
        return columns.stream().map(c -> quote(c) + "::text").collect(Collectors.joining(", "));
    }

    private static String parameter(TargetColumn column) {
        return "?::" + column.castType();
    }
}
