package dev.replicator.source;

import static dev.replicator.apply.TextParameters.bindAll;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.POJONode;
import com.fasterxml.jackson.databind.util.RawValue;

import dev.replicator.apply.CopyWriter;
import dev.replicator.apply.RefreshWriter;
import dev.replicator.apply.Sql;
import dev.replicator.apply.TargetUnavailableException;
import dev.replicator.apply.TargetTransactions;
import dev.replicator.decode.FieldValue;
import dev.replicator.decode.Operation;
import dev.replicator.decode.Position;
import dev.replicator.decode.RowChange;
import dev.replicator.decode.ValueEncoding;
import dev.replicator.route.TableRouter;
import dev.replicator.route.TargetChange;
import dev.replicator.convert.TextSettings;
import dev.replicator.convert.TargetColumn;

/**
 * Reads rows from the source in read-only REPEATABLE READ transactions, together with the WAL position the read
 * stands at, and turns them into changes through the normal routing (mapping, catalog checks, value conversion) as
 * native-format values: PostgreSQL text output is text input for the same type.
 */
public class RowReader {

    /**
     * A chunk about to be copied: the keys after {@code after} (null: from the first key) up to {@code last}, read at
     * {@code readAt}; {@code end}: it is the table's last chunk ({@code last} is then the table's last key, or null
     * when no key follows {@code after}).
     */
    public record CopyPlan(List<String> after, List<String> last, boolean end, Position readAt) {
    }

    /** What to do with a planned chunk while its snapshot is open: copy its rows from {@code rows}. */
    public interface CopyWork<T> {
        T run(CopyPlan plan, CopyWriter.RowSource rows);
    }

    private final DataSource source;
    private final TableRouter router;

    public RowReader(DataSource source, TableRouter router) {
        this.source = source;
        this.router = router;
    }

    /**
     * The planner's estimate of a table's rows ({@code pg_class.reltuples}, a catalog read that touches no row), or
     * -1 when the source has none (never vacuumed or analyzed) or cannot be asked now: progress is then shown without
     * a percent, and the copy itself reports the source's failure.
     */
    public long estimatedRows(JobTable table) {
        try (Connection connection = source.getConnection();
                PreparedStatement select = connection.prepareStatement(
                        "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(?)")) {
            connection.setAutoCommit(true);
            select.setString(1, Sql.qualified(table.source().id()));
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() && rs.getLong(1) > 0 ? rs.getLong(1) : -1;
            }
        } catch (SQLException e) {
            return -1;
        }
    }

    /**
     * Plans the chunk of up to {@code limit} rows after {@code after} (null: from the first key) in one source
     * snapshot and hands the work its rows as COPY text, streamed from the same snapshot: no row is held in memory.
     */
    public <T> T copyChunk(String eventId, JobTable table, List<String> after, int limit, CopyWork<T> work) {
        return inSnapshot(eventId, connection -> {
            Position readAt = walPosition(connection);
            KeyedTable keyed = table.source();
            List<String> rangeEnd = key(connection, KeysetSql.rangeEnd(keyed, after != null), after, limit - 1);
            boolean end = rangeEnd == null;
            List<String> last = end ? key(connection, KeysetSql.lastKey(keyed, after != null), after, null) : rangeEnd;
            bind(connection, KeysetSql.LOWER_SETTING, after);
            bind(connection, KeysetSql.UPPER_SETTING, rangeEnd);
            String copy = KeysetSql.copyChunk(keyed, after != null, rangeEnd != null);
            CopyWriter.RowSource rows = sink -> {
                CopyOut out;
                try {
                    out = connection.unwrap(PGConnection.class).getCopyAPI().copyOut(copy);
                } catch (SQLException e) {
                    throw unavailable(eventId, e);
                }
                try {
                    while (true) {
                        byte[] row;
                        try {
                            row = out.readFromCopy();
                        } catch (SQLException e) {
                            throw unavailable(eventId, e);
                        }
                        if (row == null) {
                            return;
                        }
                        sink.writeToCopy(row, 0, row.length);
                    }
                } finally {
                    if (out.isActive()) {
                        try {
                            out.cancelCopy();
                        } catch (SQLException ignored) {
                            // the read is abandoned with its transaction
                        }
                    }
                }
            };
            return work.run(new CopyPlan(after, last, end, readAt), rows);
        });
    }

    private static List<String> key(Connection connection, String select, List<String> after, Integer offset)
            throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(select)) {
            int i = after == null ? 1 : bindAll(statement, 1, after);
            if (offset != null) {
                statement.setInt(i, offset);
            }
            try (ResultSet rs = statement.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                List<String> key = new ArrayList<>();
                for (int c = 1; c <= rs.getMetaData().getColumnCount(); c++) {
                    key.add(rs.getString(c));
                }
                return key;
            }
        }
    }

    /** Leaves a chunk bound's key values in the transaction's settings, for the COPY to read. */
    private static void bind(Connection connection, String prefix, List<String> key) throws SQLException {
        if (key == null) {
            return;
        }
        try (PreparedStatement set = connection.prepareStatement(KeysetSql.SET_BOUND)) {
            for (int i = 0; i < key.size(); i++) {
                set.setString(1, prefix + (i + 1));
                set.setString(2, key.get(i));
                set.execute();
            }
        }
    }

    /** The current rows for the keys (null where the source has none), read at one snapshot. */
    public RefreshWriter.SourceRows rows(String eventId, JobTable table, List<List<String>> keys) {
        return inSnapshot(eventId, connection -> {
            Position readAt = walPosition(connection);
            List<TargetChange> rows = new ArrayList<>(keys.size());
            try (PreparedStatement select = connection.prepareStatement(KeysetSql.row(table.source()))) {
                for (List<String> key : keys) {
                    bindAll(select, 1, key);
                    try (ResultSet rs = select.executeQuery()) {
                        rows.add(rs.next() ? route(eventId, table, row(rs, table), readAt) : null);
                    }
                }
            }
            return new RefreshWriter.SourceRows(rows, readAt);
        });
    }

    public interface SnapshotWork<T> {
        T run(Connection connection) throws SQLException;
    }

    /** Runs reads in one read-only REPEATABLE READ transaction; a source that does not answer is a 503. */
    public <T> T inSnapshot(String eventId, SnapshotWork<T> work) {
        try {
            return readInSnapshot(source, work);
        } catch (SQLException e) {
            throw unavailable(eventId, e);
        }
    }

    /**
     * Runs reads on either database in one read-only REPEATABLE READ transaction with the output settings
     * ({@link TextSettings}, transaction-local) that make both sides print values alike.
     */
    public static <T> T readInSnapshot(DataSource db, SnapshotWork<T> work) throws SQLException {
        try (Connection connection = db.getConnection()) {
            connection.setAutoCommit(false);
            connection.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            connection.setReadOnly(true);
            try {
                try (Statement settings = connection.createStatement()) {
                    settings.execute(TextSettings.SET_LOCAL);
                }
                return work.run(connection);
            } finally {
                try {
                    connection.rollback(); // nothing was written
                    connection.setReadOnly(false);
                } catch (SQLException ignored) {
                    // a broken connection: the pool discards it
                }
            }
        }
    }

    /** A failed read of the source, answered as {@link TargetTransactions} says (503 unreachable, 422 not permitted). */
    static RuntimeException unavailable(String eventId, SQLException e) {
        return TargetTransactions.answer(eventId, "source", "reading rows", e);
    }

    static Position walPosition(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery(KeysetSql.WAL_POSITION)) {
            rs.next();
            return new Position(0, rs.getLong(1));
        }
    }

    private static Map<String, String> row(ResultSet rs, JobTable table) throws SQLException {
        Map<String, String> row = new LinkedHashMap<>();
        int i = 1;
        for (String column : table.source().columns()) {
            row.put(column, rs.getString(i++));
        }
        return row;
    }

    /** A source row as a native-format change, routed like any event (mapping, catalog checks, conversion). */
    private TargetChange route(String eventId, JobTable table, Map<String, String> row, Position readAt) {
        Map<String, FieldValue> values = new LinkedHashMap<>();
        row.forEach((name, text) -> values.put(name, value(text, table.written().column(name))));
        RowChange change = new RowChange(eventId, table.sourceId(), Operation.READ, readAt, values, null, null,
                ValueEncoding.NATIVE);
        try {
            return router.route(change);
        } catch (SQLException e) {
            throw TargetUnavailableException.catalogUnreadable(eventId, e);
        }
    }

    /**
     * Text output as a native-format value. A json or jsonb document goes as it is (raw), so a json column keeps
     * its exact text: spacing, key order and duplicate keys.
     */
    static FieldValue value(String text, TargetColumn column) {
        if (text == null) {
            return FieldValue.of(JsonNodeFactory.instance.nullNode(), null);
        }
        boolean json = column != null && !column.array()
                && (column.baseType().equals("json") || column.baseType().equals("jsonb"));
        return FieldValue.of(json ? new POJONode(new RawValue(text)) : JsonNodeFactory.instance.textNode(text), null);
    }
}
