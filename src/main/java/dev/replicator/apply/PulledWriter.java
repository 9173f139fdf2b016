package dev.replicator.apply;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import dev.replicator.apply.ChangeOutcome.Result;
import dev.replicator.decode.Operation;
import dev.replicator.decode.Position;
import dev.replicator.route.TargetChange;
import dev.replicator.route.TargetTable;

/**
 * Writes pulled changes: whole source transactions, in commit order, from the one stream of the source. Pull records
 * how far it has applied that stream to each table ({@code pull_coverage}), in the same transaction, as PostgreSQL's
 * replication origin does for a subscription; so a pulled change needs no position of its own. A change at or below
 * its table's coverage is stale (read again after a pull that died before confirming); a row without a position gets
 * plain multi-row deletes and upserts, its changes in the group reduced to the last. A row keeps the per-row fence
 * ({@link ChangeWriter}) where a position must decide: it has one (a pushed change wrote it, or a refresh), it moves
 * to another key, it keeps columns it did not send; and a whole table does while a backfill of it is underway (its
 * chunks must see what pull wrote), for the retention after pull took it over from push (a pushed change from before
 * must find the rows pull wrote), while a pushed truncate stands above the coverage, or when the group truncates it.
 * Afterwards the coverage rises to the newest change written, and row positions at or below it, which decide nothing
 * any more, are deleted: replicator's own tables do not grow with what pull writes.
 */
final class PulledWriter {

    private final Sql sql;
    private final Connection connection;
    private final boolean multiRow;
    private final String retention;

    /**
     * @param multiRow false writes every change alone through the fenced writer, to name a failing one
     * @param retention how late a pushed change may come ({@code replicator.ordering.tombstone-retention})
     */
    PulledWriter(Sql sql, Connection connection, boolean multiRow, Duration retention) {
        this.sql = sql;
        this.connection = connection;
        this.multiRow = multiRow;
        this.retention = retention.toSeconds() + " seconds";
    }

    /**
     * What the group must know of one table, read once its lock is held.
     *
     * @param fencingRows push wrote the table before pull took it over, and that is less than the retention ago
     */
    private record Standing(Position coverage, Position truncate, boolean hasPositions, boolean backfilling,
            boolean fencingRows) {

        /** Push wrote the table and pull takes it over now. */
        boolean takenOverFromPush() {
            return coverage == null && (hasPositions || truncate != null);
        }

        /** Pull keeps the positions of the rows it writes: they fence pushed changes from before it took over. */
        boolean keepsPositions() {
            return backfilling || fencingRows || takenOverFromPush();
        }
    }

    /** Writes the changes (in commit order) and returns their outcomes in the order given. */
    List<ChangeOutcome> write(List<TargetChange> changes) throws SQLException {
        Result[] results = new Result[changes.size()];
        Map<String, List<Integer>> byTable = new TreeMap<>(); // name order: the lock order of every writer
        for (int i = 0; i < changes.size(); i++) {
            byTable.computeIfAbsent(changes.get(i).table().id().toString(), t -> new ArrayList<>()).add(i);
        }
        try (Statements statements = new Statements(connection)) {
            lockExclusive(statements, byTable.keySet());
            Map<String, Standing> standings = standings(statements, changes, byTable);
            List<Integer> fenced = new ArrayList<>();
            boolean prunable = false;
            Map<String, Position> newest = new TreeMap<>();
            Map<String, Position> oldest = new TreeMap<>();
            for (Map.Entry<String, List<Integer>> entry : byTable.entrySet()) {
                String name = entry.getKey();
                Standing standing = standings.get(name);
                List<Integer> live = new ArrayList<>();
                for (int i : entry.getValue()) {
                    TargetChange change = changes.get(i);
                    if (change.position() == null) {
                        throw new IllegalArgumentException("a pulled change has no position: " + change.eventId());
                    }
                    newest.merge(name, change.position(), (a, b) -> a.compareTo(b) >= 0 ? a : b);
                    oldest.merge(name, change.position(), (a, b) -> a.compareTo(b) <= 0 ? a : b);
                    if (standing.coverage() != null && !change.position().isAfter(standing.coverage())) {
                        results[i] = Result.STALE;
                    } else {
                        live.add(i);
                    }
                }
                if (live.isEmpty()) {
                    continue;
                }
                if (!multiRow || standing.keepsPositions() || wholeTableFenced(changes, live, standing)) {
                    fenced.addAll(live);
                } else {
                    writePlain(statements, changes, live, standing, results, fenced);
                }
                prunable |= standing.hasPositions();
            }
            if (!fenced.isEmpty()) {
                List<TargetChange> subset = fenced.stream().map(changes::get).toList();
                List<ChangeOutcome> outcomes = new ChangeWriter(sql, connection, multiRow).write(subset, false);
                for (int i = 0; i < fenced.size(); i++) {
                    results[fenced.get(i)] = outcomes.get(i).result();
                }
            }
            raiseCoverage(statements, newest, oldest, standings);
            if (prunable || !fenced.isEmpty()) {
                prune(statements, newest, standings);
            }
        } catch (ChangeWriter.MultiRowFailedException | FailedChangeException e) {
            throw e;
        } catch (SQLException e) {
            if (multiRow) {
                // a multi-row statement cannot name its change: the caller writes the group again change by change
                throw new ChangeWriter.MultiRowFailedException(e);
            }
            throw e;
        }
        List<ChangeOutcome> outcomes = new ArrayList<>(changes.size());
        for (int i = 0; i < changes.size(); i++) {
            outcomes.add(new ChangeOutcome(changes.get(i), results[i]));
        }
        return outcomes;
    }

    /**
     * Pull's writes wait for every pushed writer of their tables and hold the tables until commit: what the group
     * reads of positions stays true while it writes without claiming.
     */
    private void lockExclusive(Statements statements, Set<String> names) throws SQLException {
        Map<String, Boolean> exclusive = new TreeMap<>();
        names.forEach(name -> exclusive.put(name, true));
        PreparedStatement lock = statements.get(Sql.lockTables());
        TableLocks.of(connection, exclusive).bind(lock, 1);
        lock.execute();
    }

    private Map<String, Standing> standings(Statements statements, List<TargetChange> changes,
            Map<String, List<Integer>> byTable) throws SQLException {
        Set<List<String>> pairs = new HashSet<>();
        List<String> names = new ArrayList<>();
        List<String> sources = new ArrayList<>();
        for (Map.Entry<String, List<Integer>> entry : byTable.entrySet()) {
            for (int i : entry.getValue()) {
                String source = changes.get(i).sourceTable();
                if (pairs.add(List.of(entry.getKey(), String.valueOf(source)))) {
                    names.add(entry.getKey());
                    sources.add(source);
                }
            }
        }
        PreparedStatement ask = statements.get(sql.pullStandings());
        ask.setArray(1, connection.createArrayOf("text", names.toArray()));
        ask.setArray(2, connection.createArrayOf("text", sources.toArray()));
        Map<String, Standing> standings = new HashMap<>();
        try (ResultSet rs = ask.executeQuery()) {
            while (rs.next()) {
                Standing standing = new Standing(position(rs, 2), position(rs, 4), rs.getBoolean(6), rs.getBoolean(7),
                        rs.getBoolean(8));
                standings.merge(rs.getString(1), standing, (a, b) -> new Standing(a.coverage(), a.truncate(),
                        a.hasPositions(), a.backfilling() || b.backfilling(), a.fencingRows()));
            }
        }
        return standings;
    }

    private static Position position(ResultSet rs, int column) throws SQLException {
        long commit = rs.getLong(column);
        return rs.wasNull() ? null : new Position(commit, rs.getLong(column + 1));
    }

    /**
     * A table whose changes all take the fence: a pushed truncate stands above the coverage (a change below it is
     * stale, which only the claim checks), the group truncates it, or a row moves to another key.
     */
    private static boolean wholeTableFenced(List<TargetChange> changes, List<Integer> live, Standing standing) {
        if (standing.truncate() != null
                && (standing.coverage() == null || standing.truncate().isAfter(standing.coverage()))) {
            return true;
        }
        Set<Position> deletes = new HashSet<>();
        Set<Position> upserts = new HashSet<>();
        for (int i : live) {
            TargetChange change = changes.get(i);
            if (change.op() == Operation.TRUNCATE || change.newKey() != null) {
                return true;
            }
            (change.op() == Operation.DELETE ? deletes : upserts).add(change.position());
        }
        deletes.retainAll(upserts); // a delete and a create at one position: a key change without its header
        return !deletes.isEmpty();
    }

    /**
     * The table's live changes of rows without a position, reduced per row to the last (the others superseded), as
     * one multi-row delete and one multi-row upsert per set of columns; a row deleted before its last upsert is
     * deleted first, so it comes back as the create made it. Rows with a position, or with a change that keeps
     * columns it did not send, go to {@code fenced}, all their changes.
     */
    private void writePlain(Statements statements, List<TargetChange> changes, List<Integer> live,
            Standing standing, Result[] results, List<Integer> fenced) throws SQLException {
        TargetTable table = changes.get(live.get(0)).table();
        Map<List<String>, List<Integer>> rows = new LinkedHashMap<>();
        for (int i : live) {
            rows.computeIfAbsent(changes.get(i).key(), k -> new ArrayList<>()).add(i);
        }
        RowBatchWriter rowWriter = new RowBatchWriter(sql, statements);
        Set<List<String>> positioned = standing.hasPositions()
                ? keysWithPositions(statements, rowWriter, table, changes, rows) : Set.of();
        List<TargetChange> deletes = new ArrayList<>();
        List<TargetChange> inserts = new ArrayList<>();
        List<TargetChange> updates = new ArrayList<>();
        for (Map.Entry<List<String>, List<Integer>> row : rows.entrySet()) {
            List<Integer> history = row.getValue();
            if (positioned.contains(row.getKey()) || history.stream().map(changes::get).anyMatch(
                    c -> c.table() != table || c.op() != Operation.DELETE && !c.kept().isEmpty())) {
                fenced.addAll(history);
                continue;
            }
            int last = history.get(history.size() - 1);
            TargetChange final_ = changes.get(last);
            if (final_.op() == Operation.DELETE) {
                deletes.add(final_);
            } else if (history.stream().anyMatch(i -> changes.get(i).op() == Operation.DELETE)) {
                deletes.add(final_);
                inserts.add(final_);
            } else {
                // a row the group creates is new to the target; one it updates is there
                (changes.get(history.get(0)).op() == Operation.CREATE ? inserts : updates).add(final_);
            }
            for (int i : history) {
                results[i] = i == last ? Result.APPLIED : Result.SUPERSEDED;
            }
        }
        if (!deletes.isEmpty()) {
            PreparedStatement delete = statements.get(sql.deleteRows(table));
            rowWriter.bindKeys(delete, 1, table, deletes);
            delete.executeUpdate();
        }
        rowWriter.insertNew(table, inserts);
        rowWriter.updateExisting(table, updates);
    }

    private Set<List<String>> keysWithPositions(Statements statements, RowBatchWriter rowWriter, TargetTable table,
            List<TargetChange> changes, Map<List<String>, List<Integer>> rows) throws SQLException {
        List<TargetChange> firsts = rows.values().stream().map(h -> changes.get(h.get(0))).toList();
        PreparedStatement ask = statements.get(sql.keysWithPositions(table));
        int next = rowWriter.bindKeys(ask, 1, table, firsts);
        ask.setString(next, table.id().toString());
        Set<List<String>> keys = new HashSet<>();
        try (ResultSet rs = ask.executeQuery()) {
            while (rs.next()) {
                keys.add(firsts.get(rs.getInt(1) - 1).key());
            }
        }
        return keys;
    }

    private void raiseCoverage(Statements statements, Map<String, Position> newest, Map<String, Position> oldest,
            Map<String, Standing> standings) throws SQLException {
        PreparedStatement raise = statements.get(sql.raiseCoverage());
        raise.setString(1, retention);
        raise.setArray(2, connection.createArrayOf("text", newest.keySet().toArray()));
        raise.setArray(3, connection.createArrayOf("int8", newest.values().stream().map(Position::commit).toArray()));
        raise.setArray(4, connection.createArrayOf("int8", newest.values().stream().map(Position::change).toArray()));
        raise.setArray(5, connection.createArrayOf("int8", oldest.values().stream().map(Position::commit).toArray()));
        raise.setArray(6, connection.createArrayOf("int8", oldest.values().stream().map(Position::change).toArray()));
        raise.setArray(7, connection.createArrayOf("bool", newest.keySet().stream()
                .map(name -> standings.get(name).takenOverFromPush()).toArray()));
        raise.executeUpdate();
    }

    /**
     * Row positions at or below the coverage decide nothing: every change there is stale by the coverage. Kept while a
     * backfill of the table is underway (its chunks leave alone exactly the rows with positions), and for the
     * retention after pull took over a table push wrote (a pushed change from before that is fenced by its row).
     */
    private void prune(Statements statements, Map<String, Position> newest, Map<String, Standing> standings)
            throws SQLException {
        PreparedStatement prune = statements.get(sql.prunePositionsBefore());
        for (Map.Entry<String, Position> table : newest.entrySet()) {
            if (standings.get(table.getKey()).keepsPositions()) {
                continue;
            }
            prune.setString(1, table.getKey());
            prune.setLong(2, table.getValue().commit());
            prune.setLong(3, table.getValue().change());
            prune.executeUpdate();
        }
    }
}
