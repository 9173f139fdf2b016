package dev.replicator.apply;

import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

import dev.replicator.apply.ChangeOutcome.Result;
import dev.replicator.decode.Operation;
import dev.replicator.route.TargetChange;
import dev.replicator.route.TargetTable;

/**
 * Claims rows: the one place a positioned row change is fenced, many changes of a table together or a single one as a
 * round of one, through the same statements. Writes many positioned upserts and deletes with a few multi-row
 * statements instead of one or two round trips per change: per table, one statement claims the positions of all rows
 * (in the stable lock order) and writes the claimed upserts; a second one deletes the rows whose delete was claimed.
 * The delete is a statement of its own for the reason given in {@link Sql#deleteClaimedRows}. Whether a change is
 * newer than its row's position and than the table's last truncate is decided in the statements, so nothing waits for
 * an answer between them, and the statements of all tables of a transaction go in one round trip.
 * <p>
 * Several changes of one row are first reduced to the ones that must be written (see {@link #reduce}). What remains
 * of a row is written in rounds, its first change in the first round, its second in the next, so each is fenced
 * exactly as if written alone. Later rounds touch only rows whose positions the first round already locked, so they
 * cannot deadlock with other writers.
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

    /** One table's changes, given in write order (key, then position), all routed with {@code table}. */
    record TableChanges(TargetTable table, List<TargetChange> changes) {
    }

    /** {@link #write(List, TableLocks, boolean)} for the changes of one table. */
    Result[] write(TargetTable table, List<TargetChange> changes, TableLocks locks, boolean commit)
            throws SQLException {
        return write(List.of(new TableChanges(table, changes)), locks, commit)[0];
    }

    /**
     * Writes the changes of several tables, given in the lock order: the first round of every table together in one
     * round trip, then each table's later rounds (rows with more than one change to write), one round trip each.
     * Later rounds touch only rows the first round locked, so writing them after other tables' rows keeps the order.
     *
     * @param locks the transaction's table locks if not taken yet: they are taken in the first round trip, first
     * @param commit these are the transaction's last changes: commit with the last statement when nothing follows it
     * @return per table, per change, what became of it
     */
    Result[][] write(List<TableChanges> tables, TableLocks locks, boolean commit) throws SQLException {
        List<Plan> plans = new ArrayList<>();
        int later = 0;
        for (TableChanges table : tables) {
            Plan plan = Plan.of(table.table(), table.changes());
            plans.add(plan);
            later += plan.rounds().size() - 1;
        }
        List<Round> first = plans.stream().map(plan -> plan.round(0)).toList();
        boolean commitFirst = commit && later == 0 && first.stream().allMatch(Round::oneColumnSet);
        boolean[][] claimed = claimRound(first, locks, commitFirst);
        for (int i = 0; i < plans.size(); i++) {
            upsertOtherColumnSets(first.get(i), claimed[i]);
            plans.get(i).record(0, claimed[i]);
        }
        for (Plan plan : plans) {
            for (int r = 1; r < plan.rounds().size(); r++) {
                later--;
                Round round = plan.round(r);
                boolean[] claimedNow = claimRound(List.of(round), null, commit && later == 0 && round.oneColumnSet())[0];
                upsertOtherColumnSets(round, claimedNow);
                plan.record(r, claimedNow);
            }
        }
        Result[][] results = new Result[plans.size()][];
        for (int i = 0; i < plans.size(); i++) {
            results[i] = plans.get(i).results();
        }
        return results;
    }

    /**
     * What to write of one table: its changes split into rounds of one change per row (see {@link #reduce}), and the
     * changes left out, each with the written change that decides its outcome.
     */
    private record Plan(TargetTable table, List<TargetChange> changes, List<List<Integer>> rounds,
            Map<Integer, Integer> overtaken, Result[] outcomes) {

        static Plan of(TargetTable table, List<TargetChange> changes) {
            Map<String, List<Integer>> byRow = new LinkedHashMap<>();
            for (int i = 0; i < changes.size(); i++) {
                byRow.computeIfAbsent(changes.get(i).rowIdentity(), row -> new ArrayList<>(1)).add(i);
            }
            List<List<Integer>> rounds = new ArrayList<>();
            Map<Integer, Integer> overtaken = new HashMap<>(); // a change left out -> the written change that decides it
            for (List<Integer> row : byRow.values()) {
                List<Integer> written = row.size() == 1 ? row : reduce(changes, row, overtaken);
                for (int round = 0; round < written.size(); round++) {
                    if (round == rounds.size()) {
                        rounds.add(new ArrayList<>());
                    }
                    rounds.get(round).add(written.get(round));
                }
            }
            return new Plan(table, changes, rounds, overtaken, new Result[changes.size()]);
        }

        Round round(int r) {
            return Round.of(table, rounds.get(r).stream().map(changes::get).toList());
        }

        void record(int r, boolean[] claimed) {
            List<Integer> round = rounds.get(r);
            for (int i = 0; i < round.size(); i++) {
                outcomes[round.get(i)] = claimed[i] ? Result.APPLIED : Result.STALE;
            }
        }

        Result[] results() {
            overtaken.forEach((left, decider) -> outcomes[left] = outcomes[decider] == Result.APPLIED
                    && changes.get(left).position().compareTo(changes.get(decider).position()) < 0
                            ? Result.SUPERSEDED
                            : Result.STALE); // a duplicate of the written change, or older than what the target holds
            return outcomes;
        }
    }

    /**
     * The changes of one row that must be written, in history order: its last change and, when that is an upsert
     * after a delete, the last delete before it too (the row is re-created: columns the events do not carry must get
     * their defaults again, not keep the old row's). Every other change is left out and recorded in {@code overtaken}
     * with the written change that follows it, which decides its outcome: if that one is stale, so is every older one.
     * A row whose upserts after its last delete carry different columns (a column added or dropped mid-stream) keeps
     * every change, written in rounds, so each column keeps the last value the history gave it.
     */
    private static List<Integer> reduce(List<TargetChange> changes, List<Integer> row, Map<Integer, Integer> overtaken) {
        int last = row.get(row.size() - 1);
        // the first of equal positions stands for them: the write order puts a delete before a create there
        int keep = row.size() - 1;
        while (keep > 0 && changes.get(row.get(keep - 1)).position().equals(changes.get(last).position())) {
            keep--;
        }
        int newest = row.get(keep);
        int delete = -1;
        Set<?> columns = null;
        for (int i = keep; i >= 0; i--) {
            TargetChange change = changes.get(row.get(i));
            if (change.op() == Operation.DELETE) {
                delete = i;
                break;
            }
            if (columns == null) {
                columns = change.values().keySet();
            } else if (!columns.equals(change.values().keySet())) {
                return row;
            }
        }
        boolean recreated = delete >= 0 && delete < keep;
        for (int i = 0; i < row.size(); i++) {
            if (i != keep && !(recreated && i == delete)) {
                overtaken.put(row.get(i), recreated && i < delete ? row.get(delete) : newest);
            }
        }
        return recreated ? List.of(row.get(delete), newest) : List.of(newest);
    }

    /**
     * One change per row of a table. Its upserts are written by the claim's statement when they share one set of
     * columns; upserts with different columns (rare: a column added mid-stream) are written after the claim, per set.
     */
    private record Round(TargetTable table, List<TargetChange> rows, Set<List<String>> columnSets, boolean deletes) {

        static Round of(TargetTable table, List<TargetChange> rows) {
            Set<List<String>> columnSets = new LinkedHashSet<>();
            boolean deletes = false;
            for (TargetChange row : rows) {
                if (row.op() == Operation.DELETE) {
                    deletes = true;
                } else {
                    columnSets.add(List.copyOf(row.values().keySet()));
                }
            }
            return new Round(table, rows, columnSets, deletes);
        }

        boolean oneColumnSet() {
            return columnSets.size() <= 1;
        }

        /** The columns the claim's statement upserts: none when the upserts have several sets. */
        List<String> columns() {
            return columnSets.size() == 1 ? columnSets.iterator().next() : List.of();
        }
    }

    private void upsertOtherColumnSets(Round round, boolean[] claimed) throws SQLException {
        if (round.oneColumnSet()) {
            return;
        }
        List<TargetChange> upserts = new ArrayList<>();
        for (int i = 0; i < round.rows().size(); i++) {
            if (claimed[i] && round.rows().get(i).op() != Operation.DELETE) {
                upserts.add(round.rows().get(i));
            }
        }
        upsert(round.table(), upserts);
    }

    /**
     * Only claims the change's row (and checks the table's truncate), for a change whose write needs more than an
     * upsert or delete: the caller writes it when this returns true.
     *
     * @param locks the transaction's table locks if not taken yet
     */
    boolean claim(TargetTable table, TargetChange change, TableLocks locks) throws SQLException {
        Round round = new Round(table, List.of(change), Set.of(), false); // claims only: nothing upserted or deleted
        return claimRound(List.of(round), locks, false)[0][0];
    }

    /**
     * Sends one round of one or more tables in one round trip ({@link Sql#claimRound(List, boolean, boolean)}) and
     * returns, per table, which of its rows were claimed. A round of a single change binds the one-change form; a
     * round of several tables always the array form, which keeps the number of statement texts small.
     */
    private boolean[][] claimRound(List<Round> rounds, TableLocks locks, boolean commit) throws SQLException {
        boolean one = rounds.size() == 1 && rounds.get(0).rows().size() == 1;
        List<Sql.RoundPart> parts = rounds.stream()
                .map(round -> new Sql.RoundPart(round.table(), round.columns(), round.deletes(), one)).toList();
        PreparedStatement statement = statements.get(sql.claimRound(parts, locks != null, commit));
        int p = locks == null ? 1 : locks.bind(statement, 1);
        for (Round round : rounds) {
            p = bindRound(statement, p, round, one);
        }
        statement.execute();
        if (locks != null) {
            statement.getMoreResults(); // past the locks' count
        }
        boolean[][] claimed = new boolean[rounds.size()][];
        for (int r = 0; r < rounds.size(); r++) {
            if (r > 0) {
                statement.getMoreResults(); // to this table's claim
            }
            claimed[r] = new boolean[rounds.get(r).rows().size()];
            try (ResultSet rs = statement.getResultSet()) {
                rs.next();
                Array indexes = rs.getArray(1);
                if (indexes != null) {
                    for (Object index : (Object[]) indexes.getArray()) {
                        claimed[r][((Number) index).intValue() - 1] = true;
                    }
                }
            }
            if (rounds.get(r).deletes()) {
                statement.getMoreResults(); // the delete's count: it removed what was claimed
            }
        }
        return claimed;
    }

    /** Binds one table's part of a round from parameter {@code first} on; returns the next parameter's index. */
    private int bindRound(PreparedStatement statement, int first, Round round, boolean one) throws SQLException {
        TargetTable table = round.table();
        List<TargetChange> rows = round.rows();
        List<String> columns = round.columns();
        int p = first;
        List<Array> keys = one ? null : keyArrays(table, rows);
        if (one) {
            p = bindOne(statement, p, table, rows.get(0), columns);
        } else {
            p = bind(statement, p, keys);
            p = bindPositions(statement, p, rows);
            statement.setArray(p++, booleanArray(rows, row -> row.op() == Operation.DELETE));
            for (String column : columns) {
                statement.setArray(p++, textArray(rows, row -> row.values().get(column)));
            }
        }
        statement.setString(p++, table.id().toString());
        statement.setString(p++, table.id().toString());
        if (round.deletes() && one) {
            p = bindKey(statement, p, table, rows.get(0));
        } else if (round.deletes()) {
            p = bind(statement, p, keys); // the same key arrays: the delete picks the claimed ones by index
        }
        return p;
    }

    /** Binds the input of a round of one change: what its arrays would hold, element by element. */
    private static int bindOne(PreparedStatement statement, int first, TargetTable table, TargetChange row,
            List<String> columns) throws SQLException {
        int p = bindKey(statement, first, table, row);
        statement.setLong(p++, row.position().commit());
        statement.setLong(p++, row.position().change());
        statement.setBoolean(p++, row.op() == Operation.DELETE);
        for (String column : columns) {
            statement.setString(p++, row.values().get(column));
        }
        return p;
    }

    private static int bindKey(PreparedStatement statement, int first, TargetTable table, TargetChange row)
            throws SQLException {
        int p = first;
        for (int k = 0; k < table.primaryKey().size(); k++) {
            statement.setString(p++, row.key().get(k));
        }
        return p;
    }

    /**
     * Inserts or overwrites rows without claiming them (claimed already, or written without positions), one statement
     * per set of columns. Each key may appear once.
     */
    void upsert(TargetTable table, List<TargetChange> rows) throws SQLException {
        Map<List<String>, List<TargetChange>> upserts = new LinkedHashMap<>();
        for (TargetChange row : rows) {
            upserts.computeIfAbsent(List.copyOf(row.values().keySet()), c -> new ArrayList<>()).add(row);
        }
        for (Map.Entry<List<String>, List<TargetChange>> sameColumns : upserts.entrySet()) {
            PreparedStatement upsert = statements.get(sql.upsertRows(table, sameColumns.getKey()));
            int p = 1;
            for (String column : sameColumns.getKey()) {
                upsert.setArray(p++, textArray(sameColumns.getValue(), row -> row.values().get(column)));
            }
            upsert.executeUpdate();
        }
    }

    /** One text array per key column, in row order. */
    private List<Array> keyArrays(TargetTable table, List<TargetChange> rows) throws SQLException {
        List<Array> keys = new ArrayList<>();
        for (int k = 0; k < table.primaryKey().size(); k++) {
            int column = k;
            keys.add(textArray(rows, row -> row.key().get(column)));
        }
        return keys;
    }

    /** Binds the arrays from parameter {@code first} on; returns the next parameter's index. */
    private static int bind(PreparedStatement statement, int first, List<Array> arrays) throws SQLException {
        int p = first;
        for (Array array : arrays) {
            statement.setArray(p++, array);
        }
        return p;
    }

    /** Binds the commit and change positions as two bigint arrays; returns the next parameter's index. */
    private int bindPositions(PreparedStatement statement, int first, List<TargetChange> rows) throws SQLException {
        Object[] commits = new Object[rows.size()];
        Object[] positions = new Object[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            commits[i] = rows.get(i).position().commit();
            positions[i] = rows.get(i).position().change();
        }
        statement.setArray(first, statements.connection().createArrayOf("int8", commits));
        statement.setArray(first + 1, statements.connection().createArrayOf("int8", positions));
        return first + 2;
    }

    private Array booleanArray(List<TargetChange> rows, Predicate<TargetChange> flag) throws SQLException {
        Object[] values = new Object[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            values[i] = flag.test(rows.get(i));
        }
        return statements.connection().createArrayOf("bool", values);
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
