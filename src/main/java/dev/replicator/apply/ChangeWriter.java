package dev.replicator.apply;

import static dev.replicator.apply.TextParameters.bind;
import static dev.replicator.apply.TextParameters.bindAll;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import dev.replicator.apply.ChangeOutcome.Result;
import dev.replicator.decode.Operation;
import dev.replicator.decode.Position;
import dev.replicator.route.TargetChange;
import dev.replicator.route.TargetTable;

/**
 * Writes the changes of one request inside the caller's transaction, fenced by positions: a change is written only
 * if it is newer than what the target holds for its row (and than the table's last truncate); older ones are counted
 * stale and leave no trace. The outcome is reported to the caller, who commits.
 */
final class ChangeWriter {

    private final Sql sql;
    private final Connection connection;
    private final boolean multiRow;
    private Statements statements;
    /** The tables' last truncate positions, read once the first change is written change by change. */
    private Map<String, Position> truncatedAt;
    /** The request's table locks; they ride along with the first statement that writes. */
    private TableLocks locks;
    private boolean locked;

    /** @param multiRow write runs of plain upserts and deletes of a table with multi-row statements */
    ChangeWriter(Sql sql, Connection connection, boolean multiRow) {
        this.sql = sql;
        this.connection = connection;
        this.multiRow = multiRow;
    }

    /**
     * Writes the changes and returns their outcomes in the order given.
     *
     * @param commit nothing else is written in this transaction: its last statement may commit it, which saves the
     *        commit's round trip (the caller still calls {@code commit()}, which then has nothing to do)
     */
    List<ChangeOutcome> write(List<TargetChange> changes, boolean commit) throws SQLException {
        try (Statements opened = new Statements(connection)) {
            statements = opened;
            List<TargetChange> paired = BatchOrder.pairKeyMoves(changes);
            List<Integer> order = BatchOrder.order(paired);
            locks = tableLocks(paired);
            locked = false;
            truncatedAt = null;
            Result[] results = new Result[paired.size()];
            for (int from = 0; from < order.size();) {
                TargetTable table = paired.get(order.get(from)).table();
                int to = from;
                while (to < order.size() && paired.get(order.get(to)).table().id().equals(table.id())) {
                    to++;
                }
                writeTable(table, changes, paired, order.subList(from, to), results, commit && to == order.size());
                from = to;
            }
            List<ChangeOutcome> outcomes = new ArrayList<>(changes.size());
            for (int i = 0; i < changes.size(); i++) {
                outcomes.add(new ChangeOutcome(changes.get(i), results[i]));
            }
            return outcomes;
        } finally {
            statements = null;
            truncatedAt = null;
            locks = null;
        }
    }

    /**
     * The changes of one table, in write order: with multi-row statements when they allow it (also for a single change:
     * it then takes one round trip, a delete included), else one by one.
     */
    private void writeTable(TargetTable table, List<TargetChange> given, List<TargetChange> paired, List<Integer> run,
            Result[] results, boolean commit) throws SQLException {
        List<TargetChange> changes = run.stream().map(paired::get).toList();
        if (multiRow && RowBatchWriter.canWrite(table, changes)) {
            Result[] written;
            try {
                written = new RowBatchWriter(sql, statements).write(table, changes, locked ? null : locks, commit);
                locked = true;
            } catch (SQLException e) {
                throw new MultiRowFailedException(e);
            }
            for (int i = 0; i < run.size(); i++) {
                results[run.get(i)] = written[i];
            }
            return;
        }
        takeLocks();
        for (int i = 0; i < run.size(); i++) {
            TargetChange change = changes.get(i);
            try {
                results[run.get(i)] = writeOne(change, truncatedAt()) ? Result.APPLIED : Result.STALE;
            } catch (SQLException e) {
                // name the change as the caller gave it (a key move's delete is a paired copy here)
                throw new TargetWriter.FailedChangeException(given.get(run.get(i)), e);
            } catch (TargetUnavailableException e) {
                throw new TargetWriter.ChangeFailure(given.get(run.get(i)), e);
            }
        }
    }

    /**
     * A multi-row statement failed; it cannot say which change caused it. The writer tries again change by change,
     * which names the change (or succeeds, when the failure came from two spellings of one key).
     */
    static final class MultiRowFailedException extends SQLException {
        MultiRowFailedException(SQLException cause) {
            super(cause.getMessage(), cause.getSQLState(), cause);
        }
    }

    /**
     * The locks of the request's tables (exclusive where it truncates one), in name order. Taken in the transaction's
     * first statement, so a statement sent after them in the same round trip sees a truncate that committed while the
     * locks were awaited.
     */
    private TableLocks tableLocks(List<TargetChange> changes) throws SQLException {
        Map<String, Boolean> exclusive = new TreeMap<>();
        for (TargetChange change : changes) {
            exclusive.merge(change.table().id().toString(), change.op() == Operation.TRUNCATE, Boolean::logicalOr);
        }
        return new TableLocks(connection.createArrayOf("text", exclusive.keySet().toArray()),
                connection.createArrayOf("bool", exclusive.values().toArray()));
    }

    /** Takes the table locks on their own, before a change is written one by one. */
    private void takeLocks() throws SQLException {
        if (!locked) {
            PreparedStatement lock = statement(Sql.lockTables());
            locks.bind(lock, 1);
            lock.execute();
            locked = true;
        }
    }

    /**
     * The last truncate positions of the tables locked, which changes written one by one must be newer than (the
     * multi-row statements check this themselves). Read after the locks, so a truncate that committed while this
     * transaction waited for them is seen.
     */
    private Map<String, Position> truncatedAt() throws SQLException {
        if (truncatedAt == null) {
            truncatedAt = new HashMap<>();
            PreparedStatement select = statement(sql.tablePositions());
            select.setArray(1, locks.names());
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    truncatedAt.put(rs.getString(1), new Position(rs.getLong(2), rs.getLong(3)));
                }
            }
        }
        return truncatedAt;
    }

    private boolean writeOne(TargetChange change, Map<String, Position> truncatedAt) throws SQLException {
        TargetTable table = change.table();
        String tableName = table.id().toString();
        Position position = change.position();
        if (change.op() == Operation.TRUNCATE) {
            return position == null ? truncateUnfenced(table) : truncate(table, position, truncatedAt);
        }
        if (position != null) {
            Position truncate = truncatedAt.get(tableName);
            if (truncate != null && !position.isAfter(truncate)) {
                return false;
            }
            // Deletes stay two statements: in one statement the DELETE would use the snapshot taken before the
            // claim waited for a concurrent writer of the row, and miss the row that writer just committed.
            if (change.op() != Operation.DELETE && change.unavailable().isEmpty()) {
                return claimAndUpsert(change);
            }
            if (!claimRow(change)) {
                return false;
            }
        }
        if (change.op() == Operation.DELETE) {
            delete(change);
        } else {
            upsert(change);
        }
        return true;
    }

    /**
     * The common case in one round trip: claim the position and write the row only if the change is newer. Safe in
     * one statement because INSERT .. ON CONFLICT finds a conflicting row even when a concurrent writer committed it
     * after this statement's snapshot.
     */
    private boolean claimAndUpsert(TargetChange change) throws SQLException {
        List<String> columns = new ArrayList<>(change.values().keySet());
        PreparedStatement statement = statement(sql.claimAndUpsert(change.table(), columns));
        bindValues(statement, bindClaim(statement, change), change, columns);
        try (ResultSet rs = statement.executeQuery()) {
            rs.next();
            return rs.getLong(1) > 0;
        }
    }

    private int bindClaim(PreparedStatement claim, TargetChange change) throws SQLException {
        int i = 1;
        claim.setString(i++, change.table().id().toString());
        i = bindAll(claim, i, change.key());
        claim.setLong(i++, change.position().commit());
        claim.setLong(i++, change.position().change());
        claim.setBoolean(i++, change.op() == Operation.DELETE);
        return i;
    }

    private boolean claimRow(TargetChange change) throws SQLException {
        TargetTable table = change.table();
        PreparedStatement claim = statement(sql.claimRow(table));
        bindClaim(claim, change);
        try (ResultSet rs = claim.executeQuery()) {
            return rs.next();
        }
    }

    private void upsert(TargetChange change) throws SQLException {
        TargetTable table = change.table();
        List<String> columns = new ArrayList<>(change.values().keySet());
        if (change.unavailable().isEmpty()) {
            PreparedStatement upsert = statement(sql.upsert(table, columns));
            bindValues(upsert, 1, change, columns);
            upsert.executeUpdate();
            return;
        }
        // Some columns were not sent (unchanged TOAST values): they must keep what the target has, so update the
        // row in place; INSERT .. ON CONFLICT cannot, because NOT NULL is checked before the conflict.
        List<String> set = columns.stream().filter(c -> !table.primaryKey().contains(c)).toList();
        int updated = 0;
        if (!set.isEmpty()) {
            PreparedStatement update = statement(sql.update(table, set));
            int next = bindValues(update, 1, change, set);
            bindAll(update, next, change.key());
            updated = update.executeUpdate();
        } else {
            updated = exists(change) ? 1 : 0;
        }
        if (updated == 0) {
            throw new TargetUnavailableException("event " + change.eventId() + ": row of " + table.id()
                    + " is not in the target yet and the event leaves out columns " + new TreeSet<>(change.unavailable())
                    + " (unchanged TOAST values); it needs the change that created the row first", null, 409);
        }
    }

    private boolean exists(TargetChange change) throws SQLException {
        PreparedStatement select = statement(sql.exists(change.table()));
        bindAll(select, 1, change.key());
        try (ResultSet rs = select.executeQuery()) {
            return rs.next();
        }
    }

    private void delete(TargetChange change) throws SQLException {
        TargetTable table = change.table();
        if (change.newKey() != null && mayMoveTo(change)) {
            PreparedStatement move = statement(sql.moveKey(table));
            int i = bindAll(move, 1, change.newKey());
            i = bindAll(move, i, change.key());
            bindAll(move, i, change.newKey());
            if (move.executeUpdate() > 0) {
                return;
            }
        }
        PreparedStatement delete = statement(sql.delete(table));
        bindAll(delete, 1, change.key());
        delete.executeUpdate();
    }

    /**
     * A row may move to its new key unless that key's history is already past this change. The new key's position
     * stays locked until commit, so a concurrent change of the new key cannot slip in between check and move.
     */
    private boolean mayMoveTo(TargetChange change) throws SQLException {
        if (change.position() == null) {
            return true;
        }
        PreparedStatement lock = statement(sql.lockRowPosition(change.table()));
        lock.setString(1, change.table().id().toString());
        bindAll(lock, 2, change.newKey());
        try (ResultSet rs = lock.executeQuery()) {
            rs.next();
            return !new Position(rs.getLong(1), rs.getLong(2)).isAfter(change.position());
        }
    }

    private boolean truncate(TargetTable table, Position position, Map<String, Position> truncatedAt)
            throws SQLException {
        String name = table.id().toString();
        PreparedStatement claim = statement(sql.claimTable());
        claim.setString(1, name);
        claim.setLong(2, position.commit());
        claim.setLong(3, position.change());
        try (ResultSet rs = claim.executeQuery()) {
            if (!rs.next()) {
                return false;
            }
        }
        truncatedAt.put(name, position);
        for (String statementText : List.of(sql.truncateBefore(table), sql.prunePositionsBefore())) {
            PreparedStatement statement = statement(statementText);
            statement.setString(1, name);
            statement.setLong(2, position.commit());
            statement.setLong(3, position.change());
            statement.executeUpdate();
        }
        return true;
    }

    private boolean truncateUnfenced(TargetTable table) throws SQLException {
        statement(sql.truncate(table)).executeUpdate();
        return true;
    }

    private int bindValues(PreparedStatement statement, int first, TargetChange change, List<String> columns)
            throws SQLException {
        int i = first;
        for (String column : columns) {
            bind(statement, i++, change.values().get(column));
        }
        return i;
    }

    private PreparedStatement statement(String text) throws SQLException {
        return statements.get(text);
    }
}
