package dev.replicator.source.backfill;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.Arrays;
import java.util.List;

import javax.sql.DataSource;

import dev.replicator.apply.Sql;
import dev.replicator.apply.TargetSchema;
import dev.replicator.apply.TargetTransactions;

/**
 * Backfill progress per table in the target ({@code <schema>.backfill_progress}): the last key copied, rows copied
 * and whether the table is done. Advanced in the transaction that writes the chunk, so progress never runs ahead of
 * the data, and only from the key the chunk started after, so a chunk copied twice by concurrent invocations counts
 * once (the loser rolls its copy back).
 */
public class BackfillCheckpoints {

    /** Where a table's backfill stands; {@code lastKey} null: nothing copied yet. */
    public record Progress(List<String> lastKey, long rows, boolean done) {
        static final Progress NONE = new Progress(null, 0, false);
    }

    private final DataSource target;
    private final Sql sql;
    private final TargetSchema schema;

    public BackfillCheckpoints(DataSource target, Sql sql, TargetSchema schema) {
        this.target = target;
        this.sql = sql;
        this.schema = schema;
    }

    public Progress read(String table) {
        return withTable(() -> {
            try (Connection connection = target.getConnection();
                    PreparedStatement select = connection.prepareStatement(sql.backfillProgress())) {
                connection.setAutoCommit(true);
                select.setString(1, table);
                try (ResultSet rs = select.executeQuery()) {
                    if (!rs.next()) {
                        return Progress.NONE;
                    }
                    Array key = rs.getArray(1);
                    return new Progress(key == null ? null : Arrays.asList((String[]) key.getArray()), rs.getLong(2),
                            rs.getBoolean(3));
                }
            }
        });
    }

    /**
     * Marks a table's backfill as begun unless it has a checkpoint already, before its first chunk is read: pull
     * fences the table's rows from then until the backfill is done.
     */
    public void begin(String table) {
        update(sql.beginBackfill(), table);
    }

    /** Forgets a table's progress: its next backfill starts from the first key. */
    public void reset(String table) {
        update(sql.resetBackfill(), table);
    }

    /** Runs a statement whose one parameter is the table's name, in a transaction of its own. */
    private void update(String statement, String table) {
        withTable(() -> {
            try (Connection connection = target.getConnection();
                    PreparedStatement update = connection.prepareStatement(statement)) {
                connection.setAutoCommit(true);
                update.setString(1, table);
                return update.executeUpdate();
            }
        });
    }

    /**
     * Records a chunk, inside the transaction that wrote it.
     *
     * @return false when another invocation advanced the table from the same key first, or finished it: the caller
     *         rolls the chunk back, since its rows may be older than what was written since
     */
    public boolean advance(Connection connection, String table, List<String> from, List<String> to, long rows,
            boolean done) throws SQLException {
        try (PreparedStatement advance = connection.prepareStatement(sql.advanceBackfill())) {
            advance.setString(1, table);
            setKey(connection, advance, 2, to);
            advance.setLong(3, rows);
            advance.setBoolean(4, done);
            setKey(connection, advance, 5, from);
            return advance.executeUpdate() > 0;
        }
    }

    private static void setKey(Connection connection, PreparedStatement statement, int index, List<String> key)
            throws SQLException {
        if (key == null) {
            statement.setNull(index, Types.ARRAY);
        } else {
            statement.setArray(index, connection.createArrayOf("text", key.toArray()));
        }
    }

    interface Work<T> {
        T run() throws SQLException;
    }

    /** Runs the work; if replicator's tables are missing (dropped), creates them and runs it again. */
    private <T> T withTable(Work<T> work) {
        try {
            try {
                return work.run();
            } catch (SQLException e) {
                if (!"42P01".equals(e.getSQLState())) {
                    throw e;
                }
                schema.recreate();
                return work.run();
            }
        } catch (SQLException e) {
            throw TargetTransactions.answer(null, "target", "keeping backfill progress", e);
        }
    }
}
