package dev.replicator.apply;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

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
    private final Map<String, PreparedStatement> statements = new HashMap<>();

    ChangeWriter(Sql sql, Connection connection) {
        this.sql = sql;
        this.connection = connection;
    }

    List<ChangeOutcome> write(List<TargetChange> changes) throws SQLException {
        try {
            List<TargetChange> ordered = BatchOrder.arrange(changes);
            Map<String, Position> truncatedAt = lockTables(ordered);
            List<ChangeOutcome> outcomes = new ArrayList<>(ordered.size());
            for (TargetChange change : ordered) {
                try {
                    outcomes.add(new ChangeOutcome(change, writeOne(change, truncatedAt)));
                } catch (SQLException e) {
                    throw new TargetWriter.FailedChangeException(change, e);
                }
            }
            return outcomes;
        } finally {
            for (PreparedStatement statement : statements.values()) {
                statement.close();
            }
        }
    }

    /**
     * Takes each table's lock (exclusive where the request truncates it) in name order and reads the tables' last
     * truncate positions, which changes must be newer than.
     */
    private Map<String, Position> lockTables(List<TargetChange> changes) throws SQLException {
        Map<String, Boolean> exclusive = new TreeMap<>();
        for (TargetChange change : changes) {
            exclusive.merge(change.table().id().toString(), change.op() == Operation.TRUNCATE, Boolean::logicalOr);
        }
        for (Map.Entry<String, Boolean> table : exclusive.entrySet()) {
            PreparedStatement lock = statement(Sql.lockTable(table.getValue()));
            lock.setString(1, table.getKey());
            lock.execute();
        }
        Map<String, Position> truncatedAt = new HashMap<>();
        PreparedStatement select = statement(sql.tablePositions());
        Array names = connection.createArrayOf("text", exclusive.keySet().toArray());
        select.setArray(1, names);
        try (ResultSet rs = select.executeQuery()) {
            while (rs.next()) {
                truncatedAt.put(rs.getString(1), new Position(rs.getLong(2), rs.getLong(3)));
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

    private static int bindAll(PreparedStatement statement, int first, List<String> values) throws SQLException {
        int i = first;
        for (String value : values) {
            bind(statement, i++, value);
        }
        return i;
    }

    /** Values go as untyped text: the statement's cast makes PostgreSQL parse them as the column's type. */
    private static void bind(PreparedStatement statement, int index, String value) throws SQLException {
        if (value == null) {
            statement.setNull(index, Types.OTHER);
        } else {
            statement.setObject(index, value, Types.OTHER);
        }
    }

    private PreparedStatement statement(String text) throws SQLException {
        PreparedStatement statement = statements.get(text);
        if (statement == null) {
            statement = connection.prepareStatement(text);
            statements.put(text, statement);
        }
        return statement;
    }
}
