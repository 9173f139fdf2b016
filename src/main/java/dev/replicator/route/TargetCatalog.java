package dev.replicator.route;

import dev.replicator.convert.TargetColumn;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import javax.sql.DataSource;

import dev.replicator.decode.TableId;

/**
 * What the target database says its tables look like, cached per table. An entry is dropped with
 * {@link #invalidate(TableId)} when a write or an event shows the table changed, and read again on next use.
 */
public class TargetCatalog {

    private static final String COLUMNS_SQL = """
            SELECT a.attname,
                   format_type(a.atttypid, a.atttypmod),
                   coalesce(et.typname, bt.typname, t.typname),
                   coalesce(et.typcategory, bt.typcategory, t.typcategory),
                   t.typcategory = 'A',
                   CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END,
                   a.attnotnull,
                   a.attgenerated <> '',
                   a.attidentity = 'a'
            FROM pg_attribute a
            JOIN pg_type t ON t.oid = a.atttypid
            LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
            LEFT JOIN pg_type et ON coalesce(bt.typcategory, t.typcategory) = 'A'
                                AND et.oid = coalesce(bt.typelem, t.typelem)
            WHERE a.attrelid = to_regclass(format('%I.%I', ?, ?)) AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """;

    private static final String PRIMARY_KEY_SQL = """
            SELECT a.attname
            FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
            WHERE i.indrelid = to_regclass(format('%I.%I', ?, ?)) AND i.indisprimary
            ORDER BY array_position(i.indkey::int2[], a.attnum)
            """;

    private final DataSource target;
    private final Map<TableId, Optional<TargetTable>> cache = new ConcurrentHashMap<>();

    public TargetCatalog(DataSource target) {
        this.target = target;
    }

    /**
     * The table, or empty when the target has no such table. Concurrent first lookups all get the description cached
     * first: changes routed with one description of a table can share multi-row statements.
     */
    public Optional<TargetTable> find(TableId id) throws SQLException {
        Optional<TargetTable> cached = cache.get(id);
        if (cached != null) {
            return cached;
        }
        Optional<TargetTable> loaded;
        try (Connection connection = target.getConnection()) {
            loaded = load(connection, id);
        }
        Optional<TargetTable> first = cache.putIfAbsent(id, loaded);
        return first != null ? first : loaded;
    }

    /** Which of the tables the target does not have (asked fresh, not from the cache). */
    public List<TableId> missing(java.util.Collection<TableId> tables) throws SQLException {
        List<TableId> missing = new ArrayList<>();
        try (Connection connection = target.getConnection();
                PreparedStatement statement = connection.prepareStatement(
                        "SELECT to_regclass(format('%I.%I', ?, ?)) IS NULL")) {
            for (TableId table : tables) {
                statement.setString(1, table.schema());
                statement.setString(2, table.table());
                try (ResultSet rs = statement.executeQuery()) {
                    if (rs.next() && rs.getBoolean(1)) {
                        missing.add(table);
                    }
                }
            }
        }
        return missing;
    }

    public void invalidate(TableId id) {
        cache.remove(id);
    }

    public void invalidateAll() {
        cache.clear();
    }

    public static Optional<TargetTable> load(Connection connection, TableId id) throws SQLException {
        Map<String, TargetColumn> columns = new LinkedHashMap<>();
        boolean identityAlways = false;
        try (PreparedStatement statement = connection.prepareStatement(COLUMNS_SQL)) {
            statement.setString(1, id.schema());
            statement.setString(2, id.table());
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    String baseType = rs.getString(3);
                    int typmod = rs.getInt(6);
                    int[] precisionScale = precisionAndScale(baseType, typmod);
                    TargetColumn column = new TargetColumn(rs.getString(1), rs.getString(2), baseType,
                            rs.getString(4).charAt(0), rs.getBoolean(5), precisionScale[0], precisionScale[1],
                            !rs.getBoolean(7), rs.getBoolean(8));
                    columns.put(column.name(), column);
                    identityAlways |= rs.getBoolean(9);
                }
            }
        }
        if (columns.isEmpty()) {
            return Optional.empty();
        }
        List<String> primaryKey = new ArrayList<>();
        try (PreparedStatement statement = connection.prepareStatement(PRIMARY_KEY_SQL)) {
            statement.setString(1, id.schema());
            statement.setString(2, id.table());
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    primaryKey.add(rs.getString(1));
                }
            }
        }
        return Optional.of(new TargetTable(id, columns, primaryKey, identityAlways));
    }

    /** Decodes {@code atttypmod}: fractional digits for time types (6 when unconstrained), precision/scale for numeric. */
    static int[] precisionAndScale(String baseType, int typmod) {
        return switch (baseType) {
            case "numeric" -> typmod < 4 ? new int[] { -1, -1 }
                    : new int[] { ((typmod - 4) >> 16) & 0xffff, (typmod - 4) & 0xffff };
            case "time", "timetz", "timestamp", "timestamptz" -> new int[] { typmod < 0 ? 6 : typmod, -1 };
            case "interval" -> new int[] { typmod < 0 ? 6 : typmod & 0xffff, -1 };
            default -> new int[] { -1, -1 };
        };
    }
}
