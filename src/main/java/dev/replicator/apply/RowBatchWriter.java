package dev.replicator.apply;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import dev.replicator.decode.Operation;
import dev.replicator.decode.Position;
import dev.replicator.route.TargetChange;
import dev.replicator.route.TargetTable;

/**
 * Writes many positioned upserts and deletes of one table with a few multi-row statements instead of one or two
 * round trips per change: one statement claims the positions of all rows (in the stable lock order), then one
 * writes the claimed upserts (per set of columns) and one deletes the claimed deletes. The delete is a statement of
 * its own for the reason given in {@link ChangeWriter}.
 * <p>
 * A row with several changes is written in rounds, the first change of every row in the first round, the second in
 * the next, so each change is fenced exactly as if written alone and its outcome stays truthful. Later rounds touch
 * only rows whose positions the first round already locked, so they cannot deadlock with other writers.
 */
final class RowBatchWriter {

    private final Sql sql;
    private final Statements statements;

    RowBatchWriter(Sql sql, Statements statements) {
        this.sql = sql;
        this.statements = statements;
    }

    /**
     * Changes this writer can take: positioned upserts with every column and plain deletes (no truncate, no move), all
     * routed with the same description of the table (a group may span a catalog refresh).
     */
    static boolean canWrite(TargetTable table, List<TargetChange> changes) {
        for (TargetChange change : changes) {
            if (change.table() != table || change.position() == null || change.op() == Operation.TRUNCATE
                    || change.newKey() != null || !change.unavailable().isEmpty()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Writes changes of one table, given in write order (key, then position).
     *
     * @param truncatedAt the table's last truncate position, or null; changes not after it are stale
     * @return per change, whether it was applied
     */
    boolean[] write(TargetTable table, List<TargetChange> changes, Position truncatedAt) throws SQLException {
        boolean[] applied = new boolean[changes.size()];
        List<List<Integer>> rounds = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < changes.size(); i++) {
            TargetChange change = changes.get(i);
            if (truncatedAt != null && !change.position().isAfter(truncatedAt)) {
                continue;
            }
            int round = seen.merge(change.rowIdentity(), 1, Integer::sum) - 1;
            if (round == rounds.size()) {
                rounds.add(new ArrayList<>());
            }
            rounds.get(round).add(i);
        }
        for (List<Integer> round : rounds) {
            writeRound(table, changes, round, applied);
        }
        return applied;
    }

    private void writeRound(TargetTable table, List<TargetChange> changes, List<Integer> round, boolean[] applied)
            throws SQLException {
        Set<Integer> claimed = claim(table, changes, round);
        Map<List<String>, List<TargetChange>> upserts = new LinkedHashMap<>();
        List<TargetChange> deletes = new ArrayList<>();
        for (int i = 0; i < round.size(); i++) {
            if (!claimed.contains(i + 1)) {
                continue;
            }
            int index = round.get(i);
            TargetChange change = changes.get(index);
            applied[index] = true;
            if (change.op() == Operation.DELETE) {
                deletes.add(change);
            } else {
                upserts.computeIfAbsent(List.copyOf(change.values().keySet()), c -> new ArrayList<>()).add(change);
            }
        }
        for (Map.Entry<List<String>, List<TargetChange>> sameColumns : upserts.entrySet()) {
            upsert(table, sameColumns.getKey(), sameColumns.getValue());
        }
        if (!deletes.isEmpty()) {
            delete(table, deletes);
        }
    }

    /** Returns the 1-based indexes within the round of the changes that were newer than their rows' positions. */
    private Set<Integer> claim(TargetTable table, List<TargetChange> changes, List<Integer> round) throws SQLException {
        List<TargetChange> rows = round.stream().map(changes::get).toList();
        PreparedStatement claim = statements.get(sql.claimRows(table));
        int p = bindKeys(claim, table, rows);
        Object[] commits = new Object[rows.size()];
        Object[] positions = new Object[rows.size()];
        Object[] deleted = new Object[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            TargetChange change = rows.get(i);
            commits[i] = change.position().commit();
            positions[i] = change.position().change();
            deleted[i] = change.op() == Operation.DELETE;
        }
        Connection connection = statements.connection();
        claim.setArray(p++, connection.createArrayOf("int8", commits));
        claim.setArray(p++, connection.createArrayOf("int8", positions));
        claim.setArray(p++, connection.createArrayOf("bool", deleted));
        claim.setString(p, table.id().toString());
        Set<Integer> claimed = new HashSet<>();
        try (ResultSet rs = claim.executeQuery()) {
            while (rs.next()) {
                claimed.add(rs.getInt(1));
            }
        }
        return claimed;
    }

    private void upsert(TargetTable table, List<String> columns, List<TargetChange> rows) throws SQLException {
        PreparedStatement upsert = statements.get(sql.upsertRows(table, columns));
        for (int c = 0; c < columns.size(); c++) {
            String column = columns.get(c);
            upsert.setArray(c + 1, textArray(rows, row -> row.values().get(column)));
        }
        upsert.executeUpdate();
    }

    private void delete(TargetTable table, List<TargetChange> rows) throws SQLException {
        PreparedStatement delete = statements.get(sql.deleteRows(table));
        bindKeys(delete, table, rows);
        delete.executeUpdate();
    }

    /** Binds one text array per key column from parameter 1 on; returns the next parameter's index. */
    private int bindKeys(PreparedStatement statement, TargetTable table, List<TargetChange> rows) throws SQLException {
        int keyColumns = table.primaryKey().size();
        for (int k = 0; k < keyColumns; k++) {
            int column = k;
            statement.setArray(k + 1, textArray(rows, row -> row.key().get(column)));
        }
        return keyColumns + 1;
    }

    /** The value of each row, in row order, as a text array (null elements are SQL NULL). */
    private Array textArray(List<TargetChange> rows, Function<TargetChange, String> value) throws SQLException {
        Object[] values = new Object[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            values[i] = value.apply(rows.get(i));
        }
        return statements.connection().createArrayOf("text", values);
    }
}
