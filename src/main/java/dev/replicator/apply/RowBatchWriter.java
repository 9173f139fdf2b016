package dev.replicator.apply;

import java.io.IOException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.replicator.apply.ChangeOutcome.Result;
import dev.replicator.convert.ArrayLiteral;
import dev.replicator.convert.TargetColumn;
import dev.replicator.decode.Position;
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

    private static final ObjectMapper JSON = new ObjectMapper();

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
                    || change.newKey() != null || !change.unavailable().isEmpty() || keepsRequired(table, change)) {
                return false;
            }
        }
        return true;
    }

    /**
     * An upsert that leaves out a NOT NULL column: INSERT .. ON CONFLICT checks NOT NULL before the conflict, so it
     * can only update its row in place.
     */
    static boolean keepsRequired(TargetTable table, TargetChange change) {
        if (change.op() == Operation.DELETE || change.kept().isEmpty()) {
            return false;
        }
        for (String kept : change.kept()) {
            if (table.column(kept) != null && !table.column(kept).nullable()) {
                return true;
            }
        }
        return false;
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
        Claims[] claimed = claimRound(first, locks, commitFirst);
        for (int i = 0; i < plans.size(); i++) {
            upsertOtherColumnSets(first.get(i), claimed[i]);
            plans.get(i).record(0, outcomes(first.get(i), claimed[i]));
        }
        for (Plan plan : plans) {
            for (int r = 1; r < plan.rounds().size(); r++) {
                later--;
                Round round = plan.round(r);
                Claims claimedNow = claimRound(List.of(round), null, commit && later == 0 && round.oneColumnSet())[0];
                upsertOtherColumnSets(round, claimedNow);
                plan.record(r, outcomes(round, claimedNow));
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

        void record(int r, Result[] written) {
            List<Integer> round = rounds.get(r);
            for (int i = 0; i < round.size(); i++) {
                outcomes[round.get(i)] = written[i];
            }
        }

        Result[] results() {
            overtaken.forEach((left, decider) -> outcomes[left] = outcomes[decider] == Result.APPLIED
                    && BatchOrder.compareHistory(changes.get(left), changes.get(decider)) < 0
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
        int keep = row.size() - 1;
        // the first of a duplicate's copies stands for them all (a delete and an upsert at one position are no copies:
        // the upsert is newer, see BatchOrder.compareHistory)
        while (keep > 0 && BatchOrder.compareHistory(changes.get(row.get(keep - 1)), changes.get(row.get(keep))) == 0) {
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
    private record Round(TargetTable table, List<TargetChange> rows, Set<List<String>> columnSets, boolean deletes,
            boolean partial) {

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
            return new Round(table, rows, columnSets, deletes, keepsColumns(rows));
        }

        /** Only claims: nothing upserted or deleted. */
        static Round claimOnly(TargetTable table, TargetChange row) {
            return new Round(table, List.of(row), Set.of(), false, keepsColumns(List.of(row)));
        }

        private static boolean keepsColumns(List<TargetChange> rows) {
            for (TargetChange row : rows) {
                if (!row.kept().isEmpty()) {
                    return true;
                }
            }
            return false;
        }

        boolean oneColumnSet() {
            return columnSets.size() <= 1;
        }

        /** The columns the claim's statement upserts: none when the upserts have several sets. */
        List<String> columns() {
            return columnSets.size() == 1 ? columnSets.iterator().next() : List.of();
        }
    }

    private void upsertOtherColumnSets(Round round, Claims claimed) throws SQLException {
        if (round.oneColumnSet()) {
            return;
        }
        List<TargetChange> upserts = new ArrayList<>();
        for (int i = 0; i < round.rows().size(); i++) {
            if (claimed.found()[i] == Claim.NEWER && round.rows().get(i).op() != Operation.DELETE) {
                upserts.add(round.rows().get(i));
            }
        }
        upsert(round.table(), upserts);
    }

    /** What a claim found for one change. */
    enum Claim {
        /** newer than its row: claimed, written with the round (or by the caller after a claim only) */
        NEWER,
        /** not newer than its row, and nothing of its row lags behind it: no effect */
        STALE,
        /** not newer than its row, whose lagging columns may still be older than it: {@link #merge} decides */
        MERGE
    }

    /** A row's lagging columns ({@code {"column": [commit, change]}} text) and its position. */
    record Lagging(String columns, Position row) {
    }

    /** What the claims of a round found, per change, and the lagging columns of the rows of the changes to merge. */
    record Claims(Claim[] found, Map<Integer, Lagging> lagging) {
    }

    /**
     * Only claims the change's row (and checks the table's truncate), for a change whose write needs more than an
     * upsert or delete: the caller writes it when this finds {@link Claim#NEWER}, and merges it on
     * {@link Claim#MERGE}.
     *
     * @param locks the transaction's table locks if not taken yet
     */
    Claims claim(TargetTable table, TargetChange change, TableLocks locks) throws SQLException {
        return claimRound(List.of(Round.claimOnly(table, change)), locks, false)[0];
    }

    /** What became of each change of a round: its claim, and what a merge wrote of the ones to merge. */
    private Result[] outcomes(Round round, Claims claims) throws SQLException {
        Result[] written = new Result[claims.found().length];
        for (int i = 0; i < written.length; i++) {
            written[i] = switch (claims.found()[i]) {
                case NEWER -> Result.APPLIED;
                case STALE -> Result.STALE;
                case MERGE -> merge(round.table(), round.rows().get(i), claims.lagging().get(i));
            };
        }
        return written;
    }

    /**
     * Writes what an older change still has to say about a row whose last changes kept some columns (see
     * {@link Sql#LAGGING}): each column it carries that stands below it (an upsert), or each such column set back to
     * its default (a delete: the row it had was deleted and created again after it). The row's position stays; the
     * columns written now stand at the change's position. The claim left the row locked.
     */
    Result merge(TargetTable table, TargetChange change, Lagging lagging) throws SQLException {
        boolean delete = change.op() == Operation.DELETE;
        if (delete && lagging.row().equals(change.position())) {
            return Result.STALE; // the delete half of a key change that kept the row, whose create was written
        }
        List<String> columns = new ArrayList<>();
        ObjectNode raised = JSON.createObjectNode();
        try {
            JsonNode positions = JSON.readTree(lagging.columns());
            for (var it = positions.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> column = it.next();
                String name = column.getKey();
                Position at = new Position(column.getValue().get(0).asLong(), column.getValue().get(1).asLong());
                TargetColumn described = table.column(name);
                if (at.compareTo(change.position()) < 0 && described != null && !described.generated()
                        && !table.primaryKey().contains(name) && (delete || change.values().containsKey(name))) {
                    columns.add(name);
                    raised.putArray(name).add(change.position().commit()).add(change.position().change());
                }
            }
        } catch (IOException e) {
            throw new SQLException("unreadable " + Sql.LAGGING + " of a row of " + table.id(), "XX000", e);
        }
        if (columns.isEmpty()) {
            return Result.STALE;
        }
        Collections.sort(columns); // one statement text per set of columns
        if (delete) {
            PreparedStatement reset = statements.get(sql.resetToDefaults(table, columns));
            bindKey(reset, 1, table, change);
            reset.executeUpdate();
        } else {
            PreparedStatement update = statements.get(sql.update(table, columns));
            int p = 1;
            for (String column : columns) {
                TextParameters.bind(update, p++, change.values().get(column));
            }
            TextParameters.bindAll(update, p, change.key());
            update.executeUpdate();
        }
        PreparedStatement record = statements.get(sql.raiseLagging(table));
        record.setString(1, raised.toString());
        record.setString(2, table.id().toString());
        bindKey(record, 3, table, change);
        record.executeUpdate();
        return Result.APPLIED;
    }

    /**
     * Sends one round of one or more tables in one round trip ({@link Sql#claimRound(List, boolean, boolean)}) and
     * returns, per table, what its rows' claims found. A round of a single change binds the one-change form; a round
     * of several tables always the array form, which keeps the number of statement texts small. Changes left
     * unclaimed are looked at once more after the round, where replicator keeps lagging columns: their rows' records
     * decide whether they are stale or are to be merged. When the round took the commit along, that look and the
     * merges are a transaction of their own after it: a change is left unclaimed only by a duplicate or a reordered
     * delivery, and one to merge only where a row was written by a change that kept columns, so the usual round
     * costs nothing more.
     */
    private Claims[] claimRound(List<Round> rounds, TableLocks locks, boolean commit) throws SQLException {
        boolean one = rounds.size() == 1 && rounds.get(0).rows().size() == 1;
        List<Sql.RoundPart> parts = rounds.stream().map(round -> new Sql.RoundPart(round.table(), round.columns(),
                round.deletes(), one, round.partial())).toList();
        PreparedStatement statement = statements.get(sql.claimRound(parts, locks != null, commit));
        int p = locks == null ? 1 : locks.bind(statement, 1);
        for (Round round : rounds) {
            p = bindRound(statement, p, round, one);
        }
        statement.execute();
        if (locks != null) {
            statement.getMoreResults(); // past the locks' count
        }
        Claims[] claims = new Claims[rounds.size()];
        for (int r = 0; r < rounds.size(); r++) {
            if (r > 0) {
                statement.getMoreResults(); // to this table's claim
            }
            Claim[] found = new Claim[rounds.get(r).rows().size()];
            Arrays.fill(found, Claim.STALE);
            try (ResultSet rs = statement.getResultSet()) {
                rs.next();
                Array indexes = rs.getArray(1);
                if (indexes != null) {
                    for (Object index : (Object[]) indexes.getArray()) {
                        found[((Number) index).intValue() - 1] = Claim.NEWER;
                    }
                }
            }
            claims[r] = new Claims(found, new HashMap<>());
            if (rounds.get(r).deletes()) {
                statement.getMoreResults(); // the delete's count: it removed what was claimed
            }
        }
        for (int r = 0; r < rounds.size(); r++) {
            lagging(rounds.get(r), claims[r]);
        }
        return claims;
    }

    /** Marks the unclaimed changes whose rows have lagging columns as changes to merge, with those columns. */
    private void lagging(Round round, Claims claims) throws SQLException {
        if (!sql.tracksLagging()) {
            return;
        }
        List<Integer> unclaimed = new ArrayList<>();
        for (int i = 0; i < claims.found().length; i++) {
            if (claims.found()[i] == Claim.STALE) {
                unclaimed.add(i);
            }
        }
        if (unclaimed.isEmpty()) {
            return; // the usual case: nothing more to ask
        }
        List<TargetChange> rows = unclaimed.stream().map(round.rows()::get).toList();
        PreparedStatement query = statements.get(sql.laggingOf(round.table()));
        int p = bind(query, 1, keyArrays(round.table(), rows));
        p = bindPositions(query, p, rows);
        query.setString(p++, round.table().id().toString());
        query.setString(p, round.table().id().toString());
        try (ResultSet rs = query.executeQuery()) {
            while (rs.next()) {
                int index = unclaimed.get(rs.getInt(1) - 1);
                claims.found()[index] = Claim.MERGE;
                claims.lagging().put(index, new Lagging(rs.getString(2), new Position(rs.getLong(3), rs.getLong(4))));
            }
        }
    }


    /** Binds one table's part of a round from parameter {@code first} on; returns the next parameter's index. */
    private int bindRound(PreparedStatement statement, int first, Round round, boolean one) throws SQLException {
        TargetTable table = round.table();
        List<TargetChange> rows = round.rows();
        List<String> columns = round.columns();
        int p = first;
        List<Array> keys = one ? null : keyArrays(table, rows);
        if (one) {
            p = bindOne(statement, p, table, rows.get(0), columns, round.partial());
        } else {
            p = bind(statement, p, keys);
            p = bindPositions(statement, p, rows);
            statement.setArray(p++, booleanArray(rows, row -> row.op() == Operation.DELETE));
            if (round.partial()) {
                statement.setArray(p++, textArray(rows, row -> arrayLiteral(row.kept())));
            }
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
    private int bindOne(PreparedStatement statement, int first, TargetTable table, TargetChange row,
            List<String> columns, boolean partial) throws SQLException {
        int p = bindKey(statement, first, table, row);
        statement.setLong(p++, row.position().commit());
        statement.setLong(p++, row.position().change());
        statement.setBoolean(p++, row.op() == Operation.DELETE);
        if (partial) {
            statement.setArray(p++, statements.connection().createArrayOf("text", row.kept().toArray()));
        }
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
     * Inserts rows that the target should not have yet (pulled creates), one COPY per set of columns: a conflict check
     * would cost each row a speculative insertion, and COPY writes rows in batches. If a row is there after all, the
     * COPY fails at a savepoint and the rows are upserted instead. Each key may appear once.
     */
    void insertNew(TargetTable table, List<TargetChange> rows) throws SQLException {
        for (Map.Entry<List<String>, List<TargetChange>> sameColumns : byColumns(rows).entrySet()) {
            Connection connection = statements.connection();
            Savepoint before = connection.setSavepoint();
            try {
                CopyText.copy(connection, sql.copyRows(table, sameColumns.getKey()), sameColumns.getKey(),
                        sameColumns.getValue());
            } catch (SQLException e) {
                if (!"23505".equals(e.getSQLState())) {
                    throw e;
                }
                connection.rollback(before);
                upsert(table, sameColumns.getValue());
                continue;
            }
            connection.releaseSavepoint(before);
        }
    }

    /**
     * Overwrites rows that the target should have (pulled updates) by key, one statement per set of columns: an update
     * does not lock each row before writing it, as a conflicting insert does. If any row is missing, the rows are
     * upserted instead. Each key may appear once.
     */
    void updateExisting(TargetTable table, List<TargetChange> rows) throws SQLException {
        for (Map.Entry<List<String>, List<TargetChange>> sameColumns : byColumns(rows).entrySet()) {
            List<String> columns = sameColumns.getKey();
            if (!columns.containsAll(table.primaryKey()) || columns.size() == table.primaryKey().size()) {
                upsert(table, sameColumns.getValue());
                continue;
            }
            PreparedStatement update = statements.get(sql.updateRows(table, columns));
            bindColumns(update, columns, sameColumns.getValue());
            if (update.executeUpdate() < sameColumns.getValue().size()) {
                upsert(table, sameColumns.getValue());
            }
        }
    }

    /**
     * Inserts or overwrites rows without claiming them (claimed already, or written without positions), one statement
     * per set of columns. Each key may appear once.
     */
    void upsert(TargetTable table, List<TargetChange> rows) throws SQLException {
        for (Map.Entry<List<String>, List<TargetChange>> sameColumns : byColumns(rows).entrySet()) {
            PreparedStatement upsert = statements.get(sql.upsertRows(table, sameColumns.getKey()));
            bindColumns(upsert, sameColumns.getKey(), sameColumns.getValue());
            upsert.executeUpdate();
        }
    }

    private static void bindColumns(PreparedStatement statement, List<String> columns, List<TargetChange> rows)
            throws SQLException {
        int p = 1;
        for (String column : columns) {
            statement.setArray(p++, textArray(rows, row -> row.values().get(column)));
        }
    }

    /** The rows by their set of columns, in order. */
    private static Map<List<String>, List<TargetChange>> byColumns(List<TargetChange> rows) {
        Map<List<String>, List<TargetChange>> upserts = new LinkedHashMap<>();
        Set<String> columns = null;
        List<TargetChange> same = null;
        for (TargetChange row : rows) {
            Set<String> these = row.values().keySet();
            if (columns == null || !sameInOrder(columns, these)) { // rows of one set of columns come in runs
                same = upserts.computeIfAbsent(List.copyOf(these), c -> new ArrayList<>());
                columns = these;
            }
            same.add(row);
        }
        return upserts;
    }

    private static boolean sameInOrder(Set<String> a, Set<String> b) {
        if (a.size() != b.size()) {
            return false;
        }
        Iterator<String> other = b.iterator();
        for (String name : a) {
            if (!name.equals(other.next())) {
                return false;
            }
        }
        return true;
    }

    /** Column names as one element of a text[] of text[]s: {@code {"a","b"}}, quotes and backslashes escaped. */
    static String arrayLiteral(Set<String> names) {
        return ArrayLiteral.of(new TreeSet<>(names).toArray(String[]::new));
    }

    /** Binds one text array per key column, in row order, from parameter {@code first} on; returns the next index. */
    int bindKeys(PreparedStatement statement, int first, TargetTable table, List<TargetChange> rows)
            throws SQLException {
        return bind(statement, first, keyArrays(table, rows));
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
    private static Array textArray(List<TargetChange> rows, Function<TargetChange, String> value) {
        return TextArray.of(rows, value);
    }
}
