package dev.replicator.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import javax.sql.DataSource;

/**
 * Compares a table on source and target the way users judge replication: the COPY text of all rows in key order.
 * Where Debezium itself loses information, both sides are first brought to what survives, one named
 * {@link DebeziumLoss} at a time; without a list, the losses of Debezium's default settings apply.
 */
public final class TableComparison {

    /** What Debezium's default settings lose on the way (precise decimals, adaptive times, numeric intervals). */
    public static final Set<DebeziumLoss> DEFAULT_LOSSES = EnumSet.of(DebeziumLoss.NUMERIC_SPECIALS,
            DebeziumLoss.TIMETZ_IN_UTC, DebeziumLoss.INTERVAL_AS_MICROSECONDS);

    private TableComparison() {
    }

    public static void assertSameRows(DataSource source, DataSource target, String table) {
        assertSameRows(source, target, table, DEFAULT_LOSSES);
    }

    public static void assertSameRows(DataSource source, DataSource target) {
        assertSameRows(source, target, DEFAULT_LOSSES);
    }

    /** Every table of the source; the differences of all tables are reported together. */
    public static void assertSameRows(DataSource source, DataSource target, Set<DebeziumLoss> losses) {
        assertSameRows(source, target, losses, false);
    }

    /**
     * Every table of the source, by the source's columns: a target that keeps columns the source dropped (schema
     * evolution never drops) is compared on what the source has.
     */
    public static void assertSameRowsOfSourceColumns(DataSource source, DataSource target, Set<DebeziumLoss> losses) {
        assertSameRows(source, target, losses, true);
    }

    private static void assertSameRows(DataSource source, DataSource target, Set<DebeziumLoss> losses,
            boolean sourceColumns) {
        StringBuilder differences = new StringBuilder();
        for (String table : TestDatabases.tables(source)) {
            String expected = TestDatabases.copy(source, select(source, table, true, losses));
            String actual = TestDatabases.copy(target, select(sourceColumns ? source : target, table, false, losses));
            if (!expected.equals(actual)) {
                differences.append(table).append(":\n").append(differingLines(expected, actual));
            }
        }
        assertEquals("", differences.toString(), "rows differ between source and target");
    }

    public static void assertSameRows(DataSource source, DataSource target, String table, Set<DebeziumLoss> losses) {
        String expected = TestDatabases.copy(source, select(source, table, true, losses));
        String actual = TestDatabases.copy(target, select(target, table, false, losses));
        assertEquals(expected, actual, () -> "rows of " + table + " differ between source and target:\n"
                + differingLines(expected, actual));
    }

    /** Only the rows that differ, source above target, so a wide table's mismatch can be read. */
    private static String differingLines(String expected, String actual) {
        String[] source = expected.split("\n", -1);
        String[] target = actual.split("\n", -1);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < Math.max(source.length, target.length); i++) {
            String s = i < source.length ? source[i] : "(none)";
            String t = i < target.length ? target[i] : "(none)";
            if (!s.equals(t)) {
                String[] sc = s.split("\t", -1);
                String[] tc = t.split("\t", -1);
                for (int c = 0; c < Math.max(sc.length, tc.length); c++) {
                    String sv = c < sc.length ? sc[c] : "(none)";
                    String tv = c < tc.length ? tc[c] : "(none)";
                    if (!sv.equals(tv)) {
                        out.append("row ").append(i + 1).append(" column ").append(c + 1).append(": source ")
                                .append(sv).append(" | target ").append(tv).append('\n');
                    }
                }
            }
        }
        return out.toString();
    }

    /** A SELECT of every column, the given losses applied, ordered by the primary key. */
    static String select(DataSource ds, String table, boolean sourceSide, Set<DebeziumLoss> losses) {
        List<String> columns = new ArrayList<>();
        List<String> key = new ArrayList<>();
        try (Connection connection = ds.getConnection();
                PreparedStatement statement = connection.prepareStatement("""
                        SELECT a.attname, t.typname, coalesce(et.typname, ''), coalesce(et.typcategory, ''),
                               coalesce(a.attnum = ANY (i.indkey), false)
                        FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                        LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
                        LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
                        WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped
                        ORDER BY a.attnum""")) {
            statement.setString(1, "public." + quote(table));
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    String column = '"' + rs.getString(1) + '"';
                    String element = rs.getString(4).equals("E") ? "enum" : rs.getString(3);
                    String expression = column;
                    for (DebeziumLoss loss : losses) {
                        expression = loss.apply(expression, rs.getString(2), element, sourceSide);
                    }
                    columns.add(expression);
                    if (rs.getBoolean(5)) {
                        key.add(column);
                    }
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return "SELECT " + String.join(", ", columns) + " FROM public." + quote(table) + " ORDER BY "
                + String.join(", ", key.isEmpty() ? columns : key);
    }

    /** A table name as an SQL identifier, so that "DeviceHeartbeat" is not read as deviceheartbeat. */
    private static String quote(String table) {
        return '"' + table.replace("\"", "\"\"") + '"';
    }
}
