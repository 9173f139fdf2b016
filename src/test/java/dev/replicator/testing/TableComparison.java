package dev.replicator.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import javax.sql.DataSource;

/**
 * Compares a table on source and target the way users judge replication: the COPY text of all rows in key order.
 * Where Debezium itself loses information under its default settings, both sides are first brought to what survives:
 * numeric NaN becomes NULL, timetz is normalised to UTC, and an interval becomes microseconds with months counted
 * as 30.4375 days.
 */
public final class TableComparison {

    private TableComparison() {
    }

    public static void assertSameRows(DataSource source, DataSource target, String table) {
        String expected = TestDatabases.copy(source, select(source, table, true));
        String actual = TestDatabases.copy(target, select(target, table, false));
        assertEquals(expected, actual, "rows of " + table + " differ between source and target");
    }

    public static void assertSameRows(DataSource source, DataSource target) {
        for (String table : TestDatabases.tables(source)) {
            assertSameRows(source, target, table);
        }
    }

    /** A SELECT of every column, Debezium's known losses applied, ordered by the primary key. */
    static String select(DataSource ds, String table, boolean sourceSide) {
        List<String> columns = new ArrayList<>();
        List<String> key = new ArrayList<>();
        try (Connection connection = ds.getConnection();
                PreparedStatement statement = connection.prepareStatement("""
                        SELECT a.attname, t.typname,
                               coalesce(a.attnum = ANY (i.indkey), false)
                        FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                        LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
                        WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped
                        ORDER BY a.attnum""")) {
            statement.setString(1, "public." + table);
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    String column = '"' + rs.getString(1) + '"';
                    columns.add(normalised(column, rs.getString(2), sourceSide));
                    if (rs.getBoolean(3)) {
                        key.add(column);
                    }
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return "SELECT " + String.join(", ", columns) + " FROM public." + table + " ORDER BY "
                + String.join(", ", key.isEmpty() ? columns : key);
    }

    private static String normalised(String column, String type, boolean sourceSide) {
        return switch (type) {
            case "numeric" -> "NULLIF(" + column + ", 'NaN')";
            case "timetz" -> "(" + column + " AT TIME ZONE 'UTC')";
            case "interval" -> sourceSide
                    ? "round((((extract(year from " + column + ") * 12 + extract(month from " + column
                            + ")) * 30.4375 + extract(day from " + column + ")) * 86400 + extract(hour from " + column
                            + ") * 3600 + extract(minute from " + column + ") * 60 + extract(second from " + column
                            + ")) * 1000000)"
                    : "round(extract(epoch from " + column + ") * 1000000)";
            default -> column;
        };
    }
}
