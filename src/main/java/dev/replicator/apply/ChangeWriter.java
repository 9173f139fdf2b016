package dev.replicator.apply;

import static dev.replicator.apply.TextParameters.bindAll;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import dev.replicator.apply.ChangeOutcome.Result;
import dev.replicator.convert.TargetColumn;
import dev.replicator.decode.Operation;
import dev.replicator.decode.Position;
import dev.replicator.route.TargetChange;
import dev.replicator.route.TargetTable;

/**
 * Writes the changes of one request inside the caller's transaction, fenced by positions: a change is written only
 * if it is newer than what the target holds for its row (and than the table's last truncate); older ones are counted
 * stale and leave no trace. The outcome is reported to the caller, who commits.
 * <p>
 * Every positioned row change is claimed by {@link RowBatchWriter}'s statements, which also check the truncate: a
 * table's changes together in rounds (the tables next to each other in the write order in one round trip), or one
 * change at a time (a round of one) where a change needs more than the claim and upsert or delete (a key move, a row
 * with unsent TOAST values) or where a failure must name its change.
 */
final class ChangeWriter {

    private final Sql sql;
    private final Connection connection;
    private final boolean multiRow;
    private Statements statements;
    private RowBatchWriter rounds;
    /** The request's table locks; they ride along with the first statement that writes. */
    private TableLocks locks;
    private boolean locked;

    /** @param multiRow write a table's changes together; false writes each change alone, to name a failing one */
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
            rounds = new RowBatchWriter(sql, opened);
            List<TargetChange> paired = BatchOrder.pairKeyMoves(changes);
            Result[] results = new Result[paired.size()];
            List<Integer> order = new ArrayList<>(paired.size());
            for (int index : BatchOrder.order(paired)) {
                if (paired.get(index).movesToItsOwnKey()) {
                    // the source's key changed, the target's did not: the row stays, the create writes it
                    results[index] = Result.SUPERSEDED;
                } else {
                    order.add(index);
                }
            }
            locks = tableLocks(paired);
            locked = false;
            List<TableRun> together = new ArrayList<>(); // tables in a row that rounds take: one round trip for all
            for (int from = 0; from < order.size();) {
                TargetTable table = paired.get(order.get(from)).table();
                int to = from;
                while (to < order.size() && paired.get(order.get(to)).table().id().equals(table.id())) {
                    to++;
                }
                TableRun run = new TableRun(table, order.subList(from, to), order.subList(from, to).stream()
                        .map(paired::get).toList());
                if (multiRow && RowBatchWriter.canWrite(table, run.changes())) {
                    together.add(run);
                } else {
                    writeTogether(together, results, false);
                    together.clear();
                    writeEach(run, changes, results);
                }
                from = to;
            }
            writeTogether(together, results, commit);
            List<ChangeOutcome> outcomes = new ArrayList<>(changes.size());
            for (int i = 0; i < changes.size(); i++) {
                outcomes.add(new ChangeOutcome(changes.get(i), results[i]));
            }
            return outcomes;
        } finally {
            statements = null;
            rounds = null;
            locks = null;
        }
    }

    /** The changes of one table, in write order, with their indexes among the paired changes. */
    private record TableRun(TargetTable table, List<Integer> indexes, List<TargetChange> changes) {
    }

    /** Tables whose changes all go in rounds: written together, their first rounds in one round trip. */
    private void writeTogether(List<TableRun> runs, Result[] results, boolean commit) throws SQLException {
        if (runs.isEmpty()) {
            return;
        }
        Result[][] written;
        try {
            written = rounds.write(runs.stream().map(run -> new RowBatchWriter.TableChanges(run.table(),
                    run.changes())).toList(), locksNotTaken(), commit);
        } catch (SQLException e) {
            throw new MultiRowFailedException(e);
        }
        for (int t = 0; t < runs.size(); t++) {
            for (int i = 0; i < runs.get(t).indexes().size(); i++) {
                results[runs.get(t).indexes().get(i)] = written[t][i];
            }
        }
    }

    /** A table's changes one at a time, each failure naming its change as the caller gave it. */
    private void writeEach(TableRun run, List<TargetChange> given, Result[] results) throws SQLException {
        for (int i = 0; i < run.indexes().size(); i++) {
            try {
                // no commit along: a constraint checked at commit must not be pinned on the last change
                results[run.indexes().get(i)] = writeOne(run.changes().get(i));
            } catch (SQLException e) {
                // name the change as the caller gave it (a key move's delete is a paired copy here)
                throw new FailedChangeException(given.get(run.indexes().get(i)), e);
            } catch (TargetUnavailableException e) {
                throw new TargetWriter.ChangeFailure(given.get(run.indexes().get(i)), e);
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
        return TableLocks.of(connection, exclusive);
    }

    /** The table locks for the next statement to take along, or null once they are taken. */
    private TableLocks locksNotTaken() {
        if (locked) {
            return null;
        }
        locked = true;
        return locks;
    }

    /** Takes the table locks on their own, before a statement that cannot take them along. */
    private void takeLocks() throws SQLException {
        TableLocks notTaken = locksNotTaken();
        if (notTaken != null) {
            PreparedStatement lock = statement(Sql.lockTables());
            notTaken.bind(lock, 1);
            lock.execute();
        }
    }

    private Result writeOne(TargetChange change) throws SQLException {
        TargetTable table = change.table();
        if (change.op() == Operation.TRUNCATE) {
            takeLocks();
            return change.position() == null ? truncateUnfenced(table) : truncate(table, change.position());
        }
        if (RowBatchWriter.canWrite(table, List.of(change))) {
            return rounds.write(table, List.of(change), locksNotTaken(), false)[0];
        }
        if (change.position() != null) {
            RowBatchWriter.Claims claims = rounds.claim(table, change, locksNotTaken());
            if (claims.found()[0] == RowBatchWriter.Claim.STALE) {
                return Result.STALE;
            }
            if (claims.found()[0] == RowBatchWriter.Claim.MERGE) {
                return rounds.merge(table, change, claims.lagging().get(0));
            }
        }
        takeLocks(); // an unpositioned change has no claim to take them along
        if (change.op() == Operation.DELETE) {
            delete(change);
        } else if (change.unavailable().isEmpty() && !RowBatchWriter.keepsRequired(table, change)) {
            rounds.upsert(table, List.of(change));
        } else {
            update(change);
        }
        return Result.APPLIED;
    }

    /**
     * Some columns were not sent (unchanged TOAST values), or an upsert left out a NOT NULL column: they must keep what
     * the target has, so the row is updated in place; INSERT .. ON CONFLICT cannot, because NOT NULL is checked
     * before the conflict.
     */
    private void update(TargetChange change) throws SQLException {
        TargetTable table = change.table();
        List<String> set = change.values().keySet().stream().filter(c -> !table.primaryKey().contains(c)).toList();
        int updated;
        if (!set.isEmpty()) {
            PreparedStatement update = statement(sql.update(table, set));
            int next = 1;
            for (String column : set) {
                TextParameters.bind(update, next++, change.values().get(column));
            }
            bindAll(update, next, change.key());
            updated = update.executeUpdate();
        } else {
            updated = exists(change) ? 1 : 0;
        }
        if (updated == 0 && change.unavailable().isEmpty()) {
            // an upsert that leaves out a NOT NULL column creates its row only if that column has a default; if it
            // has none, the target names the column and the change waits for the row (409)
            rounds.upsert(table, List.of(change));
            return;
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

    private Result truncate(TargetTable table, Position position) throws SQLException {
        String name = table.id().toString();
        PreparedStatement claim = statement(sql.claimTable());
        claim.setString(1, name);
        claim.setLong(2, position.commit());
        claim.setLong(3, position.change());
        try (ResultSet rs = claim.executeQuery()) {
            if (!rs.next()) {
                return Result.STALE;
            }
        }
        for (String statementText : List.of(sql.truncateBefore(table), sql.prunePositionsBefore())) {
            PreparedStatement statement = statement(statementText);
            statement.setString(1, name);
            statement.setLong(2, position.commit());
            statement.setLong(3, position.change());
            statement.executeUpdate();
        }
        resetLaggingBefore(table, position);
        return Result.APPLIED;
    }

    /**
     * A row newer than the truncate outlived it, but not the columns its last changes kept from before it: those go
     * back to their defaults, as the row the newer changes created had them, and now stand at the truncate.
     */
    private void resetLaggingBefore(TargetTable table, Position position) throws SQLException {
        if (!sql.tracksLagging()) {
            return;
        }
        String name = table.id().toString();
        PreparedStatement find = statement(sql.laggingColumnsBefore());
        find.setString(1, name);
        find.setLong(2, position.commit());
        find.setLong(3, position.change());
        List<String> columns = new ArrayList<>();
        try (ResultSet rs = find.executeQuery()) {
            while (rs.next()) {
                TargetColumn column = table.column(rs.getString(1));
                if (column != null && !column.generated() && !table.primaryKey().contains(column.name())) {
                    columns.add(column.name());
                }
            }
        }
        for (String column : columns) {
            PreparedStatement reset = statement(sql.resetLaggingBefore(table, column));
            reset.setString(1, name);
            reset.setString(2, column);
            reset.setString(3, column);
            reset.setLong(4, position.commit());
            reset.setLong(5, position.change());
            reset.executeUpdate();
        }
        if (!columns.isEmpty()) {
            PreparedStatement raise = statement(sql.raiseLaggingTo());
            raise.setLong(1, position.commit());
            raise.setLong(2, position.change());
            raise.setLong(3, position.commit());
            raise.setLong(4, position.change());
            raise.setString(5, name);
            raise.executeUpdate();
        }
    }

    private Result truncateUnfenced(TargetTable table) throws SQLException {
        statement(sql.truncate(table)).executeUpdate();
        return Result.APPLIED;
    }

    private PreparedStatement statement(String text) throws SQLException {
        return statements.get(text);
    }
}
