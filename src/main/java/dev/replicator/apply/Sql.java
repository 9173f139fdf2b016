package dev.replicator.apply;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.StringJoiner;
import java.util.stream.Collectors;

import dev.replicator.decode.TableId;
import dev.replicator.convert.TargetColumn;
import dev.replicator.route.TargetTable;

/**
 * Builds every statement replicator runs on the target. Identifiers are always quoted (embedded quotes doubled) and
 * every value is a bound parameter cast to the column's type, so PostgreSQL parses the text input itself.
 * Plain Java: the exact statements are asserted in tests.
 */
public final class Sql {

    private final String positions;
    private final String tablePositions;
    private final String coverage;
    private final String rejected;
    private final String backfillProgress;
    /** Whether the row positions have the {@value #LAGGING} column: a role that does not own them cannot add it. */
    private volatile boolean lagging = true;

    /** @param ordering the schema holding replicator's own tables */
    public Sql(String ordering) {
        this.positions = quote(ordering) + ".row_position";
        this.tablePositions = quote(ordering) + ".table_position";
        this.coverage = quote(ordering) + ".pull_coverage";
        this.rejected = quote(ordering) + ".rejected";
        this.backfillProgress = quote(ordering) + ".backfill_progress";
    }

    /**
     * The row positions have no {@value #LAGGING} column and this role cannot add it: statements leave it out, and
     * columns a change keeps are not fenced apart from their row.
     */
    public void withoutLagging() {
        lagging = false;
        rounds.clear();
    }

    /** Whether the statements record and read {@value #LAGGING}. */
    public boolean tracksLagging() {
        return lagging;
    }

    public static String quote(String identifier) {
        return TableId.quote(identifier);
    }

    public static String qualified(TableId table) {
        return table.sql();
    }

    static String parameter(TargetColumn column) {
        return "?::" + column.castType();
    }

    /** Sets the given non-key columns of the row with the key (parameters: values, then key). */
    public String update(TargetTable table, List<String> columns) {
        String set = columns.stream().map(c -> quote(c) + " = " + parameter(table.column(c)))
                .collect(Collectors.joining(", "));
        return "UPDATE " + qualified(table.id()) + " SET " + set + " WHERE " + keyMatch(table, "");
    }

    public String exists(TargetTable table) {
        return "SELECT 1 FROM " + qualified(table.id()) + " WHERE " + keyMatch(table, "");
    }

    public String delete(TargetTable table) {
        return "DELETE FROM " + qualified(table.id()) + " WHERE " + keyMatch(table, "");
    }

    /**
     * Moves a row to a new key unless a row already has it (parameters: new key, old key, new key).
     * Keeps the columns a key change event leaves out (unchanged TOAST values).
     */
    public String moveKey(TargetTable table) {
        String set = table.keyColumns().stream().map(c -> quote(c.name()) + " = " + parameter(c))
                .collect(Collectors.joining(", "));
        String target = qualified(table.id());
        return "UPDATE " + target + " SET " + set + " WHERE " + keyMatch(table, "")
                + " AND NOT EXISTS (SELECT 1 FROM " + target + " n WHERE " + keyMatch(table, "n.") + ")";
    }

    /** The canonical text of a key, computed by PostgreSQL from bound key values so it matches {@link #rowKeyOf}. */
    static String rowKeyParameters(TargetTable table) {
        StringJoiner key = new StringJoiner(", ", "ARRAY[", "]::text");
        table.keyColumns().forEach(c -> key.add(keyText(c, parameter(c))));
        return key.toString();
    }

    /** The canonical text of the key of a stored row, under the given alias. */
    static String rowKeyOf(TargetTable table, String alias) {
        StringJoiner key = new StringJoiner(", ", "ARRAY[", "]::text");
        table.keyColumns().forEach(c -> key.add(keyText(c, alias + "." + quote(c.name()))));
        return key.toString();
    }

    /**
     * The text one key column's value is recorded under: its text output (in the pinned settings, see
     * {@code TextSettings}), made the same for every value the type's equality takes as equal, where the output is
     * not: an unconstrained numeric without trailing zeros ({@code 1.0} and {@code 1.00} are one key), a float's
     * {@code -0} as {@code 0}, an interval justified ({@code 24:00:00} and {@code 1 day}, {@code 30 days} and
     * {@code 1 mon} are one key), a citext in lower case. So every path that names the row (push, pull, backfill,
     * refresh, repair) records it under one text, whatever spelling its event or source gave the key.
     *
     * @param value an expression of the column's type
     */
    public static String keyText(TargetColumn column, String value) {
        if (column.array()) {
            return "(" + value + ")::text";
        }
        return switch (column.baseType()) {
            case "numeric" -> column.precision() < 0 ? "trim_scale(" + value + ")::text" : "(" + value + ")::text";
            case "float4", "float8" -> "((" + value + ") + 0)::text";
            case "interval" -> "justify_interval(" + value + ")::text";
            case "citext" -> "lower((" + value + ")::text)";
            default -> "(" + value + ")::text";
        };
    }

    /**
     * Claims the positions of many rows of one table and writes the claimed upserts, in one statement (parameters: one
     * text[] per key column, bigint[] commits, bigint[] changes, boolean[] deleted flags, with {@code partial} a text[]
     * of the columns each change keeps (each element an array literal), one text[] per given column, then the table
     * name twice). A change is claimed when it is newer than its row's
     * position (at one position a delete ranks below an upsert, see {@link BatchOrder#compareHistory}) and than the
     * table's last truncate; rows are claimed in array order, which the caller makes the stable lock order, and each
     * key may appear once. Returns one row: the 1-based array indexes of the claimed changes. The indexes of the claimed
     * deletes are left in the transaction-local setting {@value #CLAIMED_DELETES} for {@link #deleteClaimedRows}. With
     * no columns the statement only claims. The upsert may share the claim's statement: INSERT .. ON CONFLICT finds a
     * conflicting row even when a concurrent writer committed it after the statement's snapshot. Deletes may not share
     * it.
     * <p>
     * A change not claimed may still have columns to write, where its row has lagging columns that stand below it
     * (see {@link #LAGGING}): the caller asks {@link #laggingOf} about those after this statement.
     */
    public String claimRows(TargetTable table, List<String> columns) {
        return claimRows(table, columns, false, false);
    }

    /**
     * {@link #claimRows}, or with {@code one} the same statement for a round of one change: each parameter is then
     * the one element its array would hold. Its input is a row of those values instead of an {@code unnest} of
     * one-element arrays, which cost a single change a third more time per statement.
     */
    public String claimRows(TargetTable table, List<String> columns, boolean one) {
        return claimRows(table, columns, one, false);
    }

    /** {@link #claimRows}, with the columns each change keeps when {@code partial}. */
    public String claimRows(TargetTable table, List<String> columns, boolean one, boolean partial) {
        boolean keeps = partial && lagging;
        List<TargetColumn> key = table.keyColumns();
        String input = one ? oneRowInput(key, columns, keeps) : unnestInput(key, columns, keeps);
        // a partial change records where the columns it keeps stand: their own lagging position, or the row's
        String recorded = !lagging ? "" : keeps ? ", " + LAGGING + " = (SELECT jsonb_object_agg(k, coalesce(p." + LAGGING
                + " -> k, jsonb_build_array(p.commit_pos, p.change_pos))) FROM jsonb_object_keys(EXCLUDED." + LAGGING
                + ") k)" : ", " + LAGGING + " = NULL";
        return "WITH input AS (" + input + "),"
                + " truncated AS (SELECT f.* FROM (SELECT ?::text AS name) n, LATERAL " + fenceOf("n.name") + " f),"
                + " claim AS (INSERT INTO " + positions + " AS p (table_name, row_key, commit_pos, change_pos, deleted,"
                + " updated_at" + (keeps ? ", " + LAGGING : "") + ") SELECT ?, row_key, commit_pos, change_pos, deleted,"
                + " now()" + (keeps ? ", CASE WHEN cardinality(kept) > 0 THEN (SELECT jsonb_object_agg(k, '" + LOWEST
                        + "'::jsonb) FROM unnest(kept) k) END" : "")
                + " FROM input i WHERE NOT EXISTS (SELECT 1 FROM truncated t WHERE " + fences("t", "i") + ") ORDER BY ord"
                + " ON CONFLICT (table_name, row_key) DO UPDATE SET commit_pos = EXCLUDED.commit_pos,"
                + " change_pos = EXCLUDED.change_pos, deleted = EXCLUDED.deleted, updated_at = now()" + recorded
                + " WHERE (p.commit_pos, p.change_pos, NOT p.deleted) < (EXCLUDED.commit_pos, EXCLUDED.change_pos,"
                + " NOT EXCLUDED.deleted) RETURNING row_key),"
                + " claimed AS (SELECT input.* FROM input JOIN claim USING (row_key))" + writtenClaimed(table, columns)
                + " SELECT array_agg(ord), set_config('" + CLAIMED_DELETES + "',"
                + " coalesce(array_agg(ord) FILTER (WHERE deleted), '{}')::text, true) FROM claimed";
    }

    /**
     * Of changes a claim left unclaimed, those whose rows have lagging columns and that are newer than the table's
     * last truncate, with those columns and the row's position, the rows locked (parameters: one text[] per key column,
     * bigint[] commits, bigint[] changes, then the table name twice). Returns the 1-based array index, the lagging
     * columns as text and the position of each such row. Asked after the claim, in a statement of its own, so that it
     * sees what a concurrent writer the claim waited for committed.
     */
    public String laggingOf(TargetTable table) {
        KeyArrays k = KeyArrays.of(table.keyColumns());
        return "SELECT u.ord, p." + LAGGING + ", p.commit_pos, p.change_pos FROM unnest(" + k.arrays()
                + ", ?::bigint[], ?::bigint[]) WITH ORDINALITY AS u(" + k.names() + ", commit_pos, change_pos, ord) JOIN " + positions
                + " p ON p.table_name = ? AND p.row_key = " + k.rowKey() + " WHERE p." + LAGGING + " IS NOT NULL"
                + " AND NOT EXISTS (SELECT 1 FROM (SELECT ?::text AS name) n, LATERAL " + fenceOf("n.name") + " t"
                + " WHERE " + fences("t", "u") + ") FOR UPDATE OF p";
    }

    /**
     * The ranges of positions in which every change of a table is stale, whatever its row's position: up to the
     * table's last truncate, and from where pull took the table over up to how far it has applied the source's stream
     * to it ({@code pull_coverage}: pull applied every change of the table in that range, or a newer one of the same
     * row). Zero to two rows of {@code commit_pos, change_pos} (the top) and {@code start_commit, start_change}.
     *
     * @param name an expression of the table's name
     */
    private String fenceOf(String name) {
        return "(SELECT commit_pos, change_pos, -1::bigint AS start_commit, -1::bigint AS start_change FROM "
                + tablePositions + " WHERE table_name = " + name + " UNION ALL SELECT commit_pos, change_pos,"
                + " start_commit, start_change FROM " + coverage + " WHERE table_name = " + name + ")";
    }

    /** Whether a fence row {@code t} of {@link #fenceOf} makes the change {@code c} stale. */
    private static String fences(String t, String c) {
        return "(" + t + ".commit_pos, " + t + ".change_pos) >= (" + c + ".commit_pos, " + c + ".change_pos) AND ("
                + c + ".commit_pos, " + c + ".change_pos) >= (" + t + ".start_commit, " + t + ".start_change)";
    }

    /** The claim's upsert of the claimed rows with these columns, or nothing when there are none. */
    private static String writtenClaimed(TargetTable table, List<String> columns) {
        if (columns.isEmpty()) {
            return "";
        }
        StringJoiner casts = new StringJoiner(", ");
        for (int i = 0; i < columns.size(); i++) {
            casts.add("c" + (i + 1) + "::" + table.column(columns.get(i)).castType());
        }
        return ", written AS (INSERT INTO " + qualified(table.id()) + " (" + columnList(columns) + ")"
                + (table.identityAlways() ? " OVERRIDING SYSTEM VALUE" : "") + " SELECT " + casts
                + " FROM claimed WHERE NOT deleted ON CONFLICT (" + columnList(table.primaryKey()) + ") "
                + onConflict(table, columns) + ")";
    }

    /**
     * Key columns as {@code unnest} input: one text[] parameter per column ({@code arrays}), named {@code k1, k2, ..}
     * ({@code names}), the canonical text of the row's key from them under the alias {@code u} ({@code rowKey}), and
     * the match of a stored row {@code r} to them ({@code matchRow}).
     */
    private record KeyArrays(String rowKey, String arrays, String names, String matchRow) {
        static KeyArrays of(List<TargetColumn> key) {
            StringJoiner rowKey = new StringJoiner(", ", "ARRAY[", "]::text");
            StringJoiner arrays = new StringJoiner(", ");
            StringJoiner names = new StringJoiner(", ");
            StringJoiner match = new StringJoiner(" AND ");
            for (int i = 0; i < key.size(); i++) {
                rowKey.add(keyText(key.get(i), "u.k" + (i + 1) + "::" + key.get(i).castType()));
                arrays.add("?::text[]");
                names.add("k" + (i + 1));
                match.add("r." + quote(key.get(i).name()) + " = u.k" + (i + 1) + "::" + key.get(i).castType());
            }
            return new KeyArrays(rowKey.toString(), arrays.toString(), names.toString(), match.toString());
        }
    }

    /** The input of {@link #claimRows}: one row per array element, numbered from 1 in array order. */
    private static String unnestInput(List<TargetColumn> key, List<String> columns, boolean partial) {
        KeyArrays k = KeyArrays.of(key);
        StringJoiner arrays = new StringJoiner(", ").add(k.arrays());
        StringJoiner names = new StringJoiner(", ").add(k.names());
        arrays.add("?::bigint[]").add("?::bigint[]").add("?::boolean[]");
        names.add("commit_pos").add("change_pos").add("deleted");
        if (partial) {
            arrays.add("?::text[]");
            names.add("kept");
        }
        StringJoiner values = new StringJoiner("");
        for (int i = 0; i < columns.size(); i++) {
            arrays.add("?::text[]");
            names.add("c" + (i + 1));
            values.add(", u.c" + (i + 1));
        }
        return "SELECT u.ord, " + k.rowKey() + " AS row_key, u.commit_pos, u.change_pos, u.deleted"
                + (partial ? ", u.kept::text[] AS kept" : "") + values
                + " FROM unnest(" + arrays + ") WITH ORDINALITY AS u(" + names + ", ord)";
    }

    /** The input of {@link #claimRows} for one change: the values its arrays would hold, as one row. */
    private static String oneRowInput(List<TargetColumn> key, List<String> columns, boolean partial) {
        StringJoiner rowKey = new StringJoiner(", ", "ARRAY[", "]::text");
        key.forEach(c -> rowKey.add(keyText(c, "?::text::" + c.castType())));
        StringJoiner values = new StringJoiner("");
        for (int i = 0; i < columns.size(); i++) {
            values.add(", ?::text AS c" + (i + 1));
        }
        return "SELECT 1::bigint AS ord, " + rowKey + " AS row_key, ?::bigint AS commit_pos, ?::bigint AS change_pos,"
                + " ?::boolean AS deleted" + (partial ? ", ?::text[] AS kept" : "") + values;
    }

    /**
     * Where a column stands when nothing recorded it: below every change, as a row a backfill copied or the target
     * had before replication. {@code [commit, change]}.
     */
    static final String LOWEST = "[-1, -1]";

    /**
     * The column of a row position that records, for the columns the row's last change kept (an unchanged TOASTed
     * value it did not send, a column a native upsert left out), the position of the change that last wrote each
     * ({@code {"column": [commit, change]}}); null when every column stands at the row's position. An older change
     * still writes those of its columns that stand below it.
     */
    public static final String LAGGING = "lagging";

    /**
     * The statements of one multi-row round, sent in one round trip: the table locks when asked ({@link #lockTables}),
     * {@link #claimRows}, {@link #deleteClaimedRows} when asked, and {@code COMMIT} when asked (the transaction's last
     * round then takes the commit along instead of a round trip of its own). Built once per table description and
     * columns: rebuilding the text cost as much as binding a small group's values.
     */
    public String claimRound(TargetTable table, List<String> columns, boolean locks, boolean deletes, boolean commit) {
        return claimRound(table, columns, locks, deletes, commit, false);
    }

    /** {@link #claimRound}, with {@code one} in its one-change form ({@link #claimRows(TargetTable, List, boolean)}). */
    public String claimRound(TargetTable table, List<String> columns, boolean locks, boolean deletes, boolean commit,
            boolean one) {
        return claimRound(List.of(new RoundPart(table, columns, deletes, one)), locks, commit);
    }

    /**
     * One table's part of a round: its claim (with these columns upserted, in the one-change form when {@code one},
     * with the columns each change keeps when {@code partial}) and, when {@code deletes}, the delete of its claimed
     * rows. A table description is compared by identity: the text depends on its column types.
     */
    public record RoundPart(TargetTable table, List<String> columns, boolean deletes, boolean one, boolean partial) {
        public RoundPart {
            columns = List.copyOf(columns);
        }

        /** A part whose changes keep no column. */
        public RoundPart(TargetTable table, List<String> columns, boolean deletes, boolean one) {
            this(table, columns, deletes, one, false);
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof RoundPart part && part.table == table && part.deletes == deletes
                    && part.one == one && part.partial == partial && part.columns.equals(columns);
        }

        @Override
        public int hashCode() {
            return (System.identityHashCode(table) * 31 + columns.hashCode()) * 8 + (partial ? 4 : 0) + (one ? 2 : 0)
                    + (deletes ? 1 : 0);
        }
    }

    /**
     * The round of several tables, sent in one round trip: the table locks when asked, each part's claim and delete
     * in the order given (the lock order), and {@code COMMIT} when asked. Each delete reads the claimed indexes its
     * own claim left just before it.
     */
    public String claimRound(List<RoundPart> parts, boolean locks, boolean commit) {
        RoundKey key = new RoundKey(List.copyOf(parts), locks, commit);
        String text = rounds.get(key);
        if (text == null) {
            StringJoiner statements = new StringJoiner("; ");
            if (locks) {
                statements.add(lockTables());
            }
            for (RoundPart part : parts) {
                statements.add(claimRows(part.table(), part.columns(), part.one(), part.partial()));
                if (part.deletes()) {
                    statements.add(deleteClaimedRows(part.table(), part.one()));
                }
            }
            if (commit) {
                statements.add("COMMIT");
            }
            text = statements.toString();
            if (rounds.size() >= MAX_ROUNDS) {
                rounds.clear(); // descriptions replaced by catalog refreshes would otherwise pile up
            }
            rounds.put(key, text);
        }
        return text;
    }

    private static final int MAX_ROUNDS = 1024;
    private final Map<RoundKey, String> rounds = new ConcurrentHashMap<>();

    private record RoundKey(List<RoundPart> parts, boolean locks, boolean commit) {
    }

    /** Where {@link #claimRows} leaves the indexes of the deletes it claimed, for the rest of the transaction. */
    public static final String CLAIMED_DELETES = "replicator.claimed_deletes";

    /**
     * Deletes the rows whose delete the preceding {@link #claimRows} claimed (parameters: one text[] per key column,
     * the same arrays as the claim's). A statement of its own, sent after the claim: the claim may wait for a
     * concurrent writer of the row, and a DELETE in the claim's statement would use the snapshot taken before that
     * wait and miss the row the writer just committed. It needs no answer from the claim, so both go in one round
     * trip, and it joins nothing but the target table. The setting is read once, in a subquery: as a plain
     * {@code = ANY (...)} filter PostgreSQL would parse it again for every key, which cost more than the delete.
     */
    public String deleteClaimedRows(TargetTable table) {
        return deleteClaimedRows(table, false);
    }

    /** {@link #deleteClaimedRows}, or with {@code one} for a round of one change (parameters: its key values). */
    public String deleteClaimedRows(TargetTable table, boolean one) {
        List<TargetColumn> key = table.keyColumns();
        if (one) {
            return "DELETE FROM " + qualified(table.id()) + " r WHERE " + key.stream()
                    .map(c -> "r." + quote(c.name()) + " = ?::text::" + c.castType()).collect(Collectors.joining(" AND "))
                    + " AND 1 IN (SELECT unnest(current_setting('" + CLAIMED_DELETES + "')::bigint[]))";
        }
        KeyArrays k = KeyArrays.of(key);
        return "DELETE FROM " + qualified(table.id()) + " r USING unnest(" + k.arrays() + ") WITH ORDINALITY AS u("
                + k.names() + ", ord) WHERE " + k.matchRow() + " AND u.ord IN (SELECT unnest(current_setting('"
                + CLAIMED_DELETES + "')::bigint[]))";
    }

    /**
     * Inserts or overwrites many rows with the same columns in one statement (parameters: one text[] per column,
     * in the given order; each element is the column's text input, cast here). Each key may appear once.
     */
    public String upsertRows(TargetTable table, List<String> columns) {
        StringJoiner casts = new StringJoiner(", ");
        StringJoiner arrays = new StringJoiner(", ");
        StringJoiner names = new StringJoiner(", ");
        for (int i = 0; i < columns.size(); i++) {
            casts.add("u.c" + (i + 1) + "::" + table.column(columns.get(i)).castType());
            arrays.add("?::text[]");
            names.add("c" + (i + 1));
        }
        return "INSERT INTO " + qualified(table.id()) + " (" + columnList(columns) + ")"
                + (table.identityAlways() ? " OVERRIDING SYSTEM VALUE" : "") + " SELECT " + casts
                + " FROM unnest(" + arrays + ") AS u(" + names + ") ON CONFLICT (" + columnList(table.primaryKey())
                + ") " + onConflict(table, columns);
    }

    /**
     * Inserts many new rows with the same columns as COPY text: each value read by its column's own input, rows
     * written in batches, no conflict check, so a row that exists fails the statement (23505) and the caller upserts
     * instead. COPY writes the given value of an always-generated identity, as {@code OVERRIDING SYSTEM VALUE} would.
     */
    public String copyRows(TargetTable table, List<String> columns) {
        return "COPY " + qualified(table.id()) + " (" + columnList(columns) + ") FROM STDIN";
    }

    /**
     * Overwrites many existing rows with the same columns, found by key (parameters as {@link #upsertRows}; the
     * columns hold the whole key and at least one other column). A row that is missing is left out of the count, and
     * the caller upserts instead.
     */
    public String updateRows(TargetTable table, List<String> columns) {
        StringJoiner set = new StringJoiner(", ");
        StringJoiner match = new StringJoiner(" AND ");
        StringJoiner arrays = new StringJoiner(", ");
        StringJoiner names = new StringJoiner(", ");
        for (int i = 0; i < columns.size(); i++) {
            String column = columns.get(i);
            String value = "u.c" + (i + 1) + "::" + table.column(column).castType();
            if (table.primaryKey().contains(column)) {
                match.add("r." + quote(column) + " = " + value);
            } else {
                set.add(quote(column) + " = " + value);
            }
            arrays.add("?::text[]");
            names.add("c" + (i + 1));
        }
        return "UPDATE " + qualified(table.id()) + " r SET " + set + " FROM unnest(" + arrays + ") AS u(" + names
                + ") WHERE " + match;
    }

    /**
     * Locks a row's position record and returns it (parameters: table name, key). A missing record is created at the
     * lowest position, so that a concurrent change of that row waits for this transaction instead of racing it.
     */
    public String lockRowPosition(TargetTable table) {
        return "INSERT INTO " + positions + " AS p (table_name, row_key, commit_pos, change_pos, deleted, updated_at)"
                + " VALUES (?, " + rowKeyParameters(table) + ", 0, 0, true, now())"
                + " ON CONFLICT (table_name, row_key) DO UPDATE SET updated_at = p.updated_at"
                + " RETURNING commit_pos, change_pos";
    }

    /**
     * Records a truncate's position for a table if newer, and unless pull has applied the source's stream past it (it
     * truncated then, or a later change stands) (parameters: table name, commit, change). Returns a row when recorded.
     */
    public String claimTable() {
        return "INSERT INTO " + tablePositions + " AS p (table_name, commit_pos, change_pos, updated_at)"
                + " SELECT v.name, v.commit_pos, v.change_pos, now() FROM (SELECT ?::text AS name,"
                + " ?::bigint AS commit_pos, ?::bigint AS change_pos) v WHERE NOT EXISTS (SELECT 1 FROM " + coverage
                + " c WHERE c.table_name = v.name AND " + fences("c", "v") + ")"
                + " ON CONFLICT (table_name) DO UPDATE SET commit_pos = EXCLUDED.commit_pos,"
                + " change_pos = EXCLUDED.change_pos, updated_at = now()"
                + " WHERE (p.commit_pos, p.change_pos) < (EXCLUDED.commit_pos, EXCLUDED.change_pos)"
                + " RETURNING 1";
    }

    /**
     * Empties a table as of a truncate's position: rows whose recorded position is newer came after the truncate
     * and stay (parameters: table name, commit, change).
     */
    public String truncateBefore(TargetTable table) {
        return "DELETE FROM " + qualified(table.id()) + " r WHERE NOT EXISTS (SELECT 1 FROM " + positions
                + " p WHERE p.table_name = ? AND p.row_key = " + rowKeyOf(table, "r")
                + " AND (p.commit_pos, p.change_pos) > (?, ?))";
    }

    /** Forgets row positions a truncate made obsolete (parameters: table name, commit, change). */
    public String prunePositionsBefore() {
        return "DELETE FROM " + positions + " WHERE table_name = ? AND (commit_pos, change_pos) <= (?, ?)";
    }

    /**
     * The lagging columns of a table's rows that stand at or below a truncate's position (parameters: table name,
     * commit, change): the rows outlived the truncate, these columns of theirs did not.
     */
    public String laggingColumnsBefore() {
        return "SELECT DISTINCT e.key FROM " + positions + " p, jsonb_each(p." + LAGGING + ") e WHERE p.table_name = ?"
                + " AND p." + LAGGING + " IS NOT NULL AND ((e.value ->> 0)::bigint, (e.value ->> 1)::bigint) <= (?, ?)";
    }

    /**
     * Sets one column back to its default in the rows where it lags at or below a truncate's position (parameters:
     * table name, the column's name twice, commit, change): the truncate emptied the row it belonged to.
     */
    public String resetLaggingBefore(TargetTable table, String column) {
        return "UPDATE " + qualified(table.id()) + " r SET " + quote(column) + " = DEFAULT FROM " + positions + " p"
                + " WHERE p.table_name = ? AND p.row_key = " + rowKeyOf(table, "r") + " AND ((p." + LAGGING
                + " -> ? ->> 0)::bigint, (p." + LAGGING + " -> ? ->> 1)::bigint) <= (?, ?)";
    }

    /**
     * Raises the lagging columns of a table's rows to a truncate's position where they stood below it (parameters:
     * commit, change, commit, change, table name).
     */
    public String raiseLaggingTo() {
        return "UPDATE " + positions + " SET " + LAGGING + " = (SELECT jsonb_object_agg(e.key, CASE WHEN"
                + " ((e.value ->> 0)::bigint, (e.value ->> 1)::bigint) <= (?, ?) THEN jsonb_build_array(?::bigint,"
                + " ?::bigint) ELSE e.value END) FROM jsonb_each(" + LAGGING + ") e) WHERE table_name = ? AND "
                + LAGGING + " IS NOT NULL";
    }

    /**
     * What a pulled group must know of each of its tables, asked once the tables are locked (parameters: text[] of
     * target table names, text[] of the source table each change came from, pairwise): per pair the table's pull
     * coverage and last truncate (commit and change, null when none), whether any row of it has a position, whether
     * a backfill of the source table is underway (begun and not done), and whether pull still keeps the positions of
     * the rows it writes because push wrote the table before pull took it over.
     */
    public String pullStandings() {
        return "SELECT u.name, c.commit_pos, c.change_pos, t.commit_pos, t.change_pos,"
                + " EXISTS (SELECT 1 FROM " + positions + " p WHERE p.table_name = u.name),"
                + " EXISTS (SELECT 1 FROM " + backfillProgress + " b WHERE b.table_name = u.source AND NOT b.done),"
                + " coalesce(c.fence_rows_until > now(), false)"
                + " FROM unnest(?::text[], ?::text[]) AS u(name, source)"
                + " LEFT JOIN " + coverage + " c ON c.table_name = u.name"
                + " LEFT JOIN " + tablePositions + " t ON t.table_name = u.name";
    }

    /**
     * Which of the given keys have a row position (parameters: one text[] per key column, then the table name).
     * Returns the 1-based array index of each.
     */
    public String keysWithPositions(TargetTable table) {
        KeyArrays k = KeyArrays.of(table.keyColumns());
        return "SELECT u.ord FROM unnest(" + k.arrays() + ") WITH ORDINALITY AS u(" + k.names() + ", ord) WHERE EXISTS"
                + " (SELECT 1 FROM " + positions + " p WHERE p.table_name = ? AND p.row_key = " + k.rowKey() + ")";
    }

    /** Deletes many rows by key in one statement (parameters: one text[] per key column). */
    public String deleteRows(TargetTable table) {
        KeyArrays k = KeyArrays.of(table.keyColumns());
        return "DELETE FROM " + qualified(table.id()) + " r USING unnest(" + k.arrays() + ") AS u(" + k.names()
                + ") WHERE " + k.matchRow();
    }

    /**
     * Raises tables' pull coverage where it stands lower, or starts it (parameters: text[] of table names, bigint[]
     * commits, bigint[] changes of the newest change pulled, bigint[] start commits, bigint[] start changes of the
     * first, boolean[] whether push wrote the table before, then the retention as interval text). A table push wrote
     * before is covered from pull's first change on, and pull keeps the positions of the rows it writes for the
     * retention: a pushed change older than that first change, delivered late, is then fenced by its row. A table push
     * never wrote is covered from the start of its history.
     */
    public String raiseCoverage() {
        return "INSERT INTO " + coverage + " AS c (table_name, commit_pos, change_pos, start_commit, start_change,"
                + " fence_rows_until, updated_at) SELECT u.name, u.commit_pos, u.change_pos,"
                + " CASE WHEN u.pushed THEN u.start_commit ELSE -1 END, CASE WHEN u.pushed THEN u.start_change ELSE -1 END,"
                + " CASE WHEN u.pushed THEN now() + ?::interval END, now() FROM unnest(?::text[], ?::bigint[],"
                + " ?::bigint[], ?::bigint[], ?::bigint[], ?::boolean[])"
                + " AS u(name, commit_pos, change_pos, start_commit, start_change, pushed)"
                + " ON CONFLICT (table_name) DO UPDATE SET commit_pos = EXCLUDED.commit_pos,"
                + " change_pos = EXCLUDED.change_pos, updated_at = now()"
                + " WHERE (c.commit_pos, c.change_pos) < (EXCLUDED.commit_pos, EXCLUDED.change_pos)";
    }

    /**
     * Marks a table's backfill as begun, before its first chunk is read, unless it has a checkpoint already
     * (parameter: table name): from then on pull fences the table's rows, so that no chunk read before a pulled change
     * overwrites it.
     */
    public String beginBackfill() {
        return "INSERT INTO " + backfillProgress + " (table_name, last_key, rows, done, updated_at)"
                + " VALUES (?, NULL, 0, false, now()) ON CONFLICT (table_name) DO NOTHING";
    }

    /** Unconditional truncate, for changes applied without positions. */
    public String truncate(TargetTable table) {
        return "TRUNCATE " + qualified(table.id());
    }

    /**
     * Serialises truncates against row changes: takes the advisory locks of several tables in one round trip, in array
     * order, exclusive where the flag is set (parameters: text[] of table names, boolean[] of flags).
     */
    public static String lockTables() {
        return "SELECT count(CASE WHEN u.exclusive THEN pg_advisory_xact_lock(hashtext(u.name))"
                + " ELSE pg_advisory_xact_lock_shared(hashtext(u.name)) END)"
                + " FROM unnest(?::text[], ?::boolean[]) AS u(name, exclusive)";
    }

    /** Removes tombstones older than the retention (parameter: interval text). */
    public String pruneTombstones() {
        return "DELETE FROM " + positions + " WHERE deleted AND updated_at < now() - ?::interval";
    }

    /** Creates replicator's own tables in the target. */
    public List<String> createSchema(String schema) {
        return List.of(
                "CREATE SCHEMA IF NOT EXISTS " + quote(schema),
                // byte order ("C"): keys are only matched, never sorted, and the database's own collation made
                // every index comparison of a claim go through the C library's strcoll
                "CREATE TABLE IF NOT EXISTS " + positions + " (table_name text COLLATE \"C\" NOT NULL,"
                        + " row_key text COLLATE \"C\" NOT NULL,"
                        + " commit_pos bigint NOT NULL, change_pos bigint NOT NULL, deleted boolean NOT NULL,"
                        + " updated_at timestamptz NOT NULL, " + LAGGING + " jsonb, PRIMARY KEY (table_name, row_key))",
                "CREATE TABLE IF NOT EXISTS " + tablePositions + " (table_name text PRIMARY KEY,"
                        + " commit_pos bigint NOT NULL, change_pos bigint NOT NULL, updated_at timestamptz NOT NULL)",
                // the request's headers and body as bytes (what jsonb cannot hold is kept all the same), and a
                // jsonb view of it where jsonb can hold the body
                "CREATE TABLE IF NOT EXISTS " + rejected + " (id bigserial PRIMARY KEY,"
                        + " received_at timestamptz NOT NULL DEFAULT now(), event_id text, event_type text,"
                        + " status int NOT NULL, reason text NOT NULL, event jsonb, batch_index int,"
                        + " event_md5 text, headers bytea, body bytea)",
                // tables parked into before batches were parked change by change lack these two
                "ALTER TABLE " + rejected + " ADD COLUMN IF NOT EXISTS batch_index int",
                "ALTER TABLE " + rejected + " ADD COLUMN IF NOT EXISTS event_md5 text",
                // tables parked into before requests were kept as bytes: their rows keep the jsonb event only
                "ALTER TABLE " + rejected + " ADD COLUMN IF NOT EXISTS headers bytea",
                "ALTER TABLE " + rejected + " ADD COLUMN IF NOT EXISTS body bytea",
                "ALTER TABLE " + rejected + " ALTER COLUMN event DROP NOT NULL",
                "CREATE UNIQUE INDEX IF NOT EXISTS rejected_event_md5 ON " + rejected + " (event_md5)",
                "CREATE TABLE IF NOT EXISTS " + backfillProgress + " (table_name text PRIMARY KEY, last_key text[],"
                        + " rows bigint NOT NULL, done boolean NOT NULL, updated_at timestamptz NOT NULL)",
                // how far pull has applied the source's stream to each table: one row per table, not one per row
                "CREATE TABLE IF NOT EXISTS " + coverage + " (table_name text COLLATE \"C\" PRIMARY KEY,"
                        + " commit_pos bigint NOT NULL, change_pos bigint NOT NULL, start_commit bigint NOT NULL,"
                        + " start_change bigint NOT NULL, fence_rows_until timestamptz, updated_at timestamptz NOT NULL)");
    }

    /** Whether the row positions lack the {@value #LAGGING} column, as tables created by an earlier version do. */
    public String laggingMissing() {
        return "SELECT to_regclass('" + positions.replace("'", "''") + "') IS NOT NULL AND NOT EXISTS (SELECT 1"
                + " FROM pg_attribute WHERE attrelid = to_regclass('" + positions.replace("'", "''") + "')"
                + " AND attname = '" + LAGGING + "' AND NOT attisdropped)";
    }

    /** Adds the {@value #LAGGING} column: null in every existing row, which is what it means for them. */
    public String addLagging() {
        return "ALTER TABLE " + positions + " ADD COLUMN IF NOT EXISTS " + LAGGING + " jsonb";
    }

    /**
     * The key columns of the row positions that are not in byte order yet, as tables created before they were
     * (parameter: none); empty when nothing is left to change.
     */
    public String positionKeysToConvert() {
        return "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass('" + positions.replace("'", "''")
                + "') AND attname IN ('table_name', 'row_key') AND attcollation <> 'pg_catalog.\"C\"'::regcollation";
    }

    /** Puts the key columns of the row positions in byte order: rebuilds the table's index. */
    public String convertPositionKeys() {
        return "ALTER TABLE " + positions + " ALTER COLUMN table_name TYPE text COLLATE \"C\","
                + " ALTER COLUMN row_key TYPE text COLLATE \"C\"";
    }

    /**
     * Sets a row's recorded position, which the caller holds locked ({@link #lockRowPosition}) (parameters: commit,
     * change, deleted, table name, key).
     */
    public String setRowPosition(TargetTable table) {
        return "UPDATE " + positions + " SET commit_pos = ?, change_pos = ?, deleted = ?, updated_at = now()"
                + (lagging ? ", " + LAGGING + " = NULL" : "")
                + " WHERE table_name = ? AND row_key = " + rowKeyParameters(table);
    }

    /**
     * Records where some lagging columns of a row the caller holds locked stand now (parameters: the columns'
     * positions as jsonb, table name, key).
     */
    public String raiseLagging(TargetTable table) {
        return "UPDATE " + positions + " SET " + LAGGING + " = coalesce(" + LAGGING + ", '{}') || ?::jsonb"
                + " WHERE table_name = ? AND row_key = " + rowKeyParameters(table);
    }

    /**
     * Sets the given columns of the row with the key back to their defaults (parameters: key): what a delete leaves
     * of a column for the create that follows it.
     */
    public String resetToDefaults(TargetTable table, List<String> columns) {
        return "UPDATE " + qualified(table.id()) + " SET " + columns.stream().map(c -> quote(c) + " = DEFAULT")
                .collect(Collectors.joining(", ")) + " WHERE " + keyMatch(table, "");
    }

    /** A table's backfill checkpoint: the last key copied (text of each key column), rows copied, done. */
    public String backfillProgress() {
        return "SELECT last_key, rows, done FROM " + backfillProgress + " WHERE table_name = ?";
    }

    /**
     * Advances a table's backfill checkpoint, only from the key this chunk started after, so two invocations that
     * copied the same chunk count it once (parameters: table name, last key text[], rows, done, the starting key).
     */
    public String advanceBackfill() {
        return "INSERT INTO " + backfillProgress + " AS b (table_name, last_key, rows, done, updated_at)"
                + " VALUES (?, ?, ?, ?, now())"
                + " ON CONFLICT (table_name) DO UPDATE SET last_key = EXCLUDED.last_key, rows = b.rows + EXCLUDED.rows,"
                + " done = EXCLUDED.done, updated_at = now()"
                + " WHERE b.last_key IS NOT DISTINCT FROM ? AND NOT b.done";
    }

    /** Forgets a table's backfill checkpoint, so the next backfill starts from its first key (parameter: name). */
    public String resetBackfill() {
        return "DELETE FROM " + backfillProgress + " WHERE table_name = ?";
    }

    /**
     * Keeps an event that cannot be applied (parameters: id, type, status, reason, batch index, with {@code view} the
     * headers as a JSON object, then the header lines and the body as bytes). The same request delivered again finds
     * its row by the digest of the bytes kept (header lines, an empty line, body: the request as HTTP writes it) and
     * takes the latest reason, instead of being kept twice. With {@code view}, the row also gets the request as jsonb
     * ({@code {"headers": ..., "body": ...}}); the statement then fails when jsonb cannot hold the body.
     */
    public String parkRejected(boolean view) {
        return "INSERT INTO " + rejected + " (event_id, event_type, status, reason, batch_index, headers, body,"
                + " event_md5" + (view ? ", event" : "") + ")"
                + " SELECT ?, ?, ?, ?, ?, h, b, md5(h || decode('0d0a', 'hex') || b)"
                + (view ? ", jsonb_build_object('headers', ?::jsonb, 'body',"
                        + " CASE WHEN length(b) = 0 THEN 'null'::jsonb ELSE convert_from(b, 'UTF8')::jsonb END)" : "")
                + " FROM (SELECT ?::bytea AS h, ?::bytea AS b) v"
                + " ON CONFLICT (event_md5) DO UPDATE SET status = EXCLUDED.status, reason = EXCLUDED.reason,"
                + " batch_index = EXCLUDED.batch_index RETURNING id";
    }

    /** Overwrite the non-key columns given, or keep the row when only the key is given. */
    private static String onConflict(TargetTable table, List<String> columns) {
        List<String> nonKey = columns.stream().filter(c -> !table.primaryKey().contains(c)).toList();
        return nonKey.isEmpty() ? "DO NOTHING"
                : "DO UPDATE SET " + nonKey.stream().map(c -> quote(c) + " = EXCLUDED." + quote(c))
                        .collect(Collectors.joining(", "));
    }

    private static String keyMatch(TargetTable table, String alias) {
        return table.keyColumns().stream().map(c -> alias + quote(c.name()) + " = " + parameter(c))
                .collect(Collectors.joining(" AND "));
    }

    private static String columnList(List<String> columns) {
        return columns.stream().map(Sql::quote).collect(Collectors.joining(", "));
    }
}
