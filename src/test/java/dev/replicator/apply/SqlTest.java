package dev.replicator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.replicator.decode.TableId;
import dev.replicator.convert.TargetColumn;
import dev.replicator.route.TargetTable;

/** The exact statements replicator sends, so a change to SQL is a visible, reviewed change. */
class SqlTest {

    static final Sql SQL = new Sql("replicator");

    static TargetColumn column(String name, String type) {
        return column(name, type, type);
    }

    /** A column whose catalog type name ({@code pg_type.typname}) differs from how format_type() prints it. */
    static TargetColumn column(String name, String type, String baseType) {
        return new TargetColumn(name, type, baseType, 'N', false, -1, -1, true, false);
    }

    static TargetTable table(String schema, String name, boolean identity, List<String> key, TargetColumn... columns) {
        Map<String, TargetColumn> map = new LinkedHashMap<>();
        for (TargetColumn c : columns) {
            map.put(c.name(), c);
        }
        return new TargetTable(new TableId(schema, name), map, key, identity);
    }

    static final TargetTable ORDERS = table("public", "order_lines", false, List.of("order_id", "line_no"),
            column("order_id", "integer"), column("line_no", "smallint"), column("sku", "character(8)", "bpchar"),
            column("price", "numeric(12,4)"));

    @Test
    void identifiersAreQuotedWithEmbeddedQuotesDoubled() {
        assertEquals("\"a\"\"b\"", Sql.quote("a\"b"));
        assertEquals("\"My Schema\".\"x; DROP TABLE y\"", Sql.qualified(new TableId("My Schema", "x; DROP TABLE y")));
    }

    @Test
    void updateDeleteAndMoveMatchTheWholeKey() {
        assertEquals("UPDATE \"public\".\"order_lines\" SET \"sku\" = ?::bpchar WHERE \"order_id\" = ?::integer"
                + " AND \"line_no\" = ?::smallint", SQL.update(ORDERS, List.of("sku")));
        assertEquals("DELETE FROM \"public\".\"order_lines\" WHERE \"order_id\" = ?::integer AND \"line_no\" = ?::smallint",
                SQL.delete(ORDERS));
        assertEquals("UPDATE \"public\".\"order_lines\" SET \"order_id\" = ?::integer, \"line_no\" = ?::smallint"
                + " WHERE \"order_id\" = ?::integer AND \"line_no\" = ?::smallint AND NOT EXISTS (SELECT 1 FROM"
                + " \"public\".\"order_lines\" n WHERE n.\"order_id\" = ?::integer AND n.\"line_no\" = ?::smallint)",
                SQL.moveKey(ORDERS));
    }

    @Test
    void truncateKeepsRowsWrittenByNewerChanges() {
        assertEquals("DELETE FROM \"public\".\"order_lines\" r WHERE NOT EXISTS (SELECT 1 FROM \"replicator\".row_position p"
                + " WHERE p.table_name = ? AND p.row_key = ARRAY[(r.\"order_id\")::text, (r.\"line_no\")::text]::text"
                + " AND (p.commit_pos, p.change_pos) > (?, ?))", SQL.truncateBefore(ORDERS));
    }

    /** The ranges where a table's changes are stale: up to its last truncate, and pull's coverage. */
    private static final String FENCE = "(SELECT commit_pos, change_pos, -1::bigint AS start_commit,"
            + " -1::bigint AS start_change FROM \"replicator\".table_position WHERE table_name = n.name UNION ALL"
            + " SELECT commit_pos, change_pos, start_commit, start_change FROM \"replicator\".pull_coverage"
            + " WHERE table_name = n.name)";

    @Test
    void claimingManyRowsReturnsTheIndexesOfTheChangesNewerThanTheirRowsAndTheTruncate() {
        assertEquals("WITH input AS (SELECT u.ord, ARRAY[(u.k1::integer)::text, (u.k2::smallint)::text]::text AS row_key,"
                + " u.commit_pos, u.change_pos, u.deleted FROM unnest(?::text[], ?::text[], ?::bigint[], ?::bigint[],"
                + " ?::boolean[]) WITH ORDINALITY AS u(k1, k2, commit_pos, change_pos, deleted, ord)),"
                + " truncated AS (SELECT f.* FROM (SELECT ?::text AS name) n, LATERAL " + FENCE + " f),"
                + " claim AS (INSERT INTO \"replicator\".row_position AS p (table_name, row_key, commit_pos, change_pos,"
                + " deleted, updated_at) SELECT ?, row_key, commit_pos, change_pos, deleted, now() FROM input i"
                + " WHERE NOT EXISTS (SELECT 1 FROM truncated t WHERE (t.commit_pos, t.change_pos) >= (i.commit_pos,"
                + " i.change_pos) AND (i.commit_pos, i.change_pos) >= (t.start_commit, t.start_change)) ORDER BY ord"
                + " ON CONFLICT (table_name, row_key) DO UPDATE SET commit_pos = EXCLUDED.commit_pos,"
                + " change_pos = EXCLUDED.change_pos, deleted = EXCLUDED.deleted, updated_at = now(), lagging = NULL"
                + " WHERE (p.commit_pos, p.change_pos, NOT p.deleted) < (EXCLUDED.commit_pos, EXCLUDED.change_pos,"
                + " NOT EXCLUDED.deleted) RETURNING row_key),"
                + " claimed AS (SELECT input.* FROM input JOIN claim USING (row_key)) SELECT array_agg(ord),"
                + " set_config('replicator.claimed_deletes', coalesce(array_agg(ord) FILTER (WHERE deleted), '{}')::text,"
                + " true) FROM claimed",
                SQL.claimRows(ORDERS, List.of()));
    }

    /**
     * A change that keeps columns records, per kept column, where it stood before: its own lagging position, or the
     * row's; and the rows of changes left unclaimed are looked at for lagging columns, locked.
     */
    @Test
    void claimingPartialChangesRecordsWhereTheirKeptColumnsStand() {
        String full = SQL.claimRows(ORDERS, List.of());
        String partial = SQL.claimRows(ORDERS, List.of(), false, true);
        assertEquals(full.replace("u.deleted FROM unnest(?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::boolean[])"
                + " WITH ORDINALITY AS u(k1, k2, commit_pos, change_pos, deleted, ord)", "u.deleted, u.kept::text[] AS"
                        + " kept FROM unnest(?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::boolean[], ?::text[])"
                        + " WITH ORDINALITY AS u(k1, k2, commit_pos, change_pos, deleted, kept, ord)")
                .replace("deleted, updated_at) SELECT ?, row_key, commit_pos, change_pos, deleted, now() FROM",
                        "deleted, updated_at, lagging) SELECT ?, row_key, commit_pos, change_pos, deleted, now(),"
                                + " CASE WHEN cardinality(kept) > 0 THEN (SELECT jsonb_object_agg(k, '[-1, -1]'::jsonb)"
                                + " FROM unnest(kept) k) END FROM")
                .replace("lagging = NULL", "lagging = (SELECT jsonb_object_agg(k, coalesce(p.lagging -> k,"
                        + " jsonb_build_array(p.commit_pos, p.change_pos))) FROM jsonb_object_keys(EXCLUDED.lagging) k)"),
                partial);
        assertEquals("SELECT u.ord, p.lagging, p.commit_pos, p.change_pos FROM unnest(?::text[], ?::text[],"
                + " ?::bigint[], ?::bigint[]) WITH ORDINALITY AS u(k1, k2, commit_pos, change_pos, ord)"
                + " JOIN \"replicator\".row_position p ON p.table_name = ?"
                + " AND p.row_key = ARRAY[(u.k1::integer)::text, (u.k2::smallint)::text]::text"
                + " WHERE p.lagging IS NOT NULL AND NOT EXISTS (SELECT 1 FROM (SELECT ?::text AS name) n, LATERAL "
                + FENCE + " t WHERE (t.commit_pos, t.change_pos) >= (u.commit_pos, u.change_pos)"
                + " AND (u.commit_pos, u.change_pos) >= (t.start_commit, t.start_change)) FOR UPDATE OF p",
                SQL.laggingOf(ORDERS));
    }

    @Test
    void claimingManyRowsWritesTheClaimedUpsertsInTheSameStatement() {
        String claimOnly = SQL.claimRows(ORDERS, List.of());
        assertEquals(claimOnly.replace("u.deleted FROM unnest(?::text[], ?::text[], ?::bigint[], ?::bigint[],"
                + " ?::boolean[]) WITH ORDINALITY AS u(k1, k2, commit_pos, change_pos, deleted, ord))",
                "u.deleted, u.c1, u.c2, u.c3 FROM unnest(?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::boolean[],"
                        + " ?::text[], ?::text[], ?::text[]) WITH ORDINALITY AS u(k1, k2, commit_pos, change_pos, deleted,"
                        + " c1, c2, c3, ord))")
                .replace(" SELECT array_agg(ord),", ", written AS (INSERT INTO \"public\".\"order_lines\" (\"order_id\","
                        + " \"line_no\", \"price\") SELECT c1::integer, c2::smallint, c3::numeric(12,4) FROM claimed"
                        + " WHERE NOT deleted ON CONFLICT (\"order_id\", \"line_no\") DO UPDATE SET \"price\" ="
                        + " EXCLUDED.\"price\") SELECT array_agg(ord),"),
                SQL.claimRows(ORDERS, List.of("order_id", "line_no", "price")));
    }

    /** An explicit cast to character(8) would cut a longer value; the column's assignment refuses it instead. */
    @Test
    void upsertingManyRowsCastsEachArrayElementToItsColumn() {
        assertEquals("INSERT INTO \"public\".\"order_lines\" (\"order_id\", \"line_no\", \"sku\", \"price\") SELECT"
                + " u.c1::integer, u.c2::smallint, u.c3::bpchar, u.c4::numeric(12,4) FROM unnest(?::text[], ?::text[],"
                + " ?::text[], ?::text[]) AS u(c1, c2, c3, c4) ON CONFLICT (\"order_id\", \"line_no\") DO UPDATE SET"
                + " \"sku\" = EXCLUDED.\"sku\", \"price\" = EXCLUDED.\"price\"",
                SQL.upsertRows(ORDERS, List.of("order_id", "line_no", "sku", "price")));
        // only the key: nothing to overwrite; an always-generated identity takes the source's value
        TargetTable readings = table("public", "readings", true, List.of("id"), column("id", "bigint"));
        assertEquals("INSERT INTO \"public\".\"readings\" (\"id\") OVERRIDING SYSTEM VALUE SELECT u.c1::bigint"
                + " FROM unnest(?::text[]) AS u(c1) ON CONFLICT (\"id\") DO NOTHING",
                SQL.upsertRows(readings, List.of("id")));
    }

    /** Pulled rows new to the target: COPY, no conflict check (a row that exists fails it, 23505). */
    @Test
    void insertingManyNewRowsCopiesThem() {
        assertEquals("COPY \"public\".\"order_lines\" (\"order_id\", \"line_no\", \"sku\") FROM STDIN",
                SQL.copyRows(ORDERS, List.of("order_id", "line_no", "sku")));
    }

    /** Pulled updates of rows the target has: found by key, overwritten; the key columns are matched, not set. */
    @Test
    void updatingManyRowsMatchesTheKeyAndSetsTheRest() {
        assertEquals("UPDATE \"public\".\"order_lines\" r SET \"sku\" = u.c2::bpchar, \"price\" ="
                + " u.c4::numeric(12,4) FROM unnest(?::text[], ?::text[], ?::text[], ?::text[]) AS u(c1, c2, c3, c4)"
                + " WHERE r.\"line_no\" = u.c1::smallint AND r.\"order_id\" = u.c3::integer",
                SQL.updateRows(ORDERS, List.of("line_no", "sku", "order_id", "price")));
    }

    @Test
    void deletingManyRowsTakesOnlyThoseWhoseDeleteWasClaimed() {
        assertEquals("DELETE FROM \"public\".\"order_lines\" r USING unnest(?::text[], ?::text[]) WITH ORDINALITY"
                + " AS u(k1, k2, ord) WHERE r.\"order_id\" = u.k1::integer AND r.\"line_no\" = u.k2::smallint"
                + " AND u.ord IN (SELECT unnest(current_setting('replicator.claimed_deletes')::bigint[]))",
                SQL.deleteClaimedRows(ORDERS));
    }

    /** A round of one change: the same statement, its input one row of scalar parameters in the arrays' order. */
    @Test
    void claimingOneRowTakesItsValuesAsOneRowInsteadOfArrays() {
        List<String> columns = List.of("order_id", "line_no", "price");
        String many = SQL.claimRows(ORDERS, columns);
        String manyInput = many.substring(0, many.indexOf("), truncated AS"));
        assertEquals(many.replace(manyInput, "WITH input AS (SELECT 1::bigint AS ord, ARRAY[(?::text::integer)::text,"
                + " (?::text::smallint)::text]::text AS row_key, ?::bigint AS commit_pos, ?::bigint AS change_pos,"
                + " ?::boolean AS deleted, ?::text AS c1, ?::text AS c2, ?::text AS c3"),
                SQL.claimRows(ORDERS, columns, true));
        assertEquals("DELETE FROM \"public\".\"order_lines\" r WHERE r.\"order_id\" = ?::text::integer"
                + " AND r.\"line_no\" = ?::text::smallint"
                + " AND 1 IN (SELECT unnest(current_setting('replicator.claimed_deletes')::bigint[]))",
                SQL.deleteClaimedRows(ORDERS, true));
        assertEquals(Sql.lockTables() + "; " + SQL.claimRows(ORDERS, columns, true) + "; "
                + SQL.deleteClaimedRows(ORDERS, true) + "; COMMIT", SQL.claimRound(ORDERS, columns, true, true, true, true));
        assertEquals(SQL.claimRows(ORDERS, columns), SQL.claimRound(ORDERS, columns, false, false, false, false));
    }

    @Test
    void aRoundOfSeveralTablesSendsEachTablesClaimAndDeleteInTheOrderGiven() {
        TargetTable notes = table("public", "notes", false, List.of("id"), column("id", "bigint"), column("body", "text"));
        List<String> lineColumns = List.of("order_id", "line_no", "price");
        List<String> noteColumns = List.of("id", "body");
        assertEquals(Sql.lockTables() + "; " + SQL.claimRows(ORDERS, lineColumns) + "; "
                + SQL.deleteClaimedRows(ORDERS) + "; " + SQL.claimRows(notes, noteColumns) + "; COMMIT",
                SQL.claimRound(List.of(new Sql.RoundPart(ORDERS, lineColumns, true, false),
                        new Sql.RoundPart(notes, noteColumns, false, false)), true, true));
        assertEquals(SQL.claimRows(notes, List.of()) + "; " + SQL.deleteClaimedRows(notes) + "; "
                + SQL.claimRows(ORDERS, lineColumns),
                SQL.claimRound(List.of(new Sql.RoundPart(notes, List.of(), true, false),
                        new Sql.RoundPart(ORDERS, lineColumns, false, false)), false, false));
    }

    @Test
    void aRoundSendsTheLocksTheClaimTheDeleteAndTheCommitAsAskedAndFollowsTheTableDescription() {
        List<String> columns = List.of("order_id", "line_no", "price");
        assertEquals(Sql.lockTables() + "; " + SQL.claimRows(ORDERS, columns) + "; " + SQL.deleteClaimedRows(ORDERS),
                SQL.claimRound(ORDERS, columns, true, true, false));
        assertEquals(SQL.claimRows(ORDERS, columns), SQL.claimRound(ORDERS, columns, false, false, false));
        assertEquals(SQL.claimRows(ORDERS, List.of()) + "; " + SQL.deleteClaimedRows(ORDERS),
                SQL.claimRound(ORDERS, List.of(), false, true, false));
        assertEquals(SQL.claimRows(ORDERS, columns) + "; " + SQL.deleteClaimedRows(ORDERS) + "; COMMIT",
                SQL.claimRound(ORDERS, columns, false, true, true));
        // the same table described again after its price column changed type
        TargetTable altered = table("public", "order_lines", false, List.of("order_id", "line_no"),
                column("order_id", "integer"), column("line_no", "smallint"), column("sku", "character(8)"),
                column("price", "numeric(14,2)"));
        assertTrue(SQL.claimRound(altered, columns, false, false, false).contains("c3::numeric(14,2)"));
        assertTrue(SQL.claimRound(ORDERS, columns, false, false, false).contains("c3::numeric(12,4)"));
    }

    @Test
    void tablesAreLockedInArrayOrderInOneStatement() {
        assertEquals("SELECT count(CASE WHEN u.exclusive THEN pg_advisory_xact_lock(hashtext(u.name))"
                + " ELSE pg_advisory_xact_lock_shared(hashtext(u.name)) END)"
                + " FROM unnest(?::text[], ?::boolean[]) AS u(name, exclusive)", Sql.lockTables());
    }

    /** Pull's statements: what a group asks of its tables, rows by key, the coverage it raises. */
    @Test
    void pullAsksItsTablesStandingsDeletesRowsByKeyAndRaisesItsCoverage() {
        assertEquals("SELECT u.name, c.commit_pos, c.change_pos, t.commit_pos, t.change_pos,"
                + " EXISTS (SELECT 1 FROM \"replicator\".row_position p WHERE p.table_name = u.name),"
                + " EXISTS (SELECT 1 FROM \"replicator\".backfill_progress b WHERE b.table_name = u.source AND NOT b.done),"
                + " coalesce(c.fence_rows_until > now(), false) FROM unnest(?::text[], ?::text[]) AS u(name, source)"
                + " LEFT JOIN \"replicator\".pull_coverage c ON c.table_name = u.name"
                + " LEFT JOIN \"replicator\".table_position t ON t.table_name = u.name", SQL.pullStandings());
        assertEquals("SELECT u.ord FROM unnest(?::text[], ?::text[]) WITH ORDINALITY AS u(k1, k2, ord) WHERE EXISTS"
                + " (SELECT 1 FROM \"replicator\".row_position p WHERE p.table_name = ?"
                + " AND p.row_key = ARRAY[(u.k1::integer)::text, (u.k2::smallint)::text]::text)",
                SQL.keysWithPositions(ORDERS));
        assertEquals("DELETE FROM \"public\".\"order_lines\" r USING unnest(?::text[], ?::text[]) AS u(k1, k2)"
                + " WHERE r.\"order_id\" = u.k1::integer AND r.\"line_no\" = u.k2::smallint", SQL.deleteRows(ORDERS));
        assertEquals("INSERT INTO \"replicator\".pull_coverage AS c (table_name, commit_pos, change_pos, start_commit,"
                + " start_change, fence_rows_until, updated_at) SELECT u.name, u.commit_pos, u.change_pos,"
                + " CASE WHEN u.pushed THEN u.start_commit ELSE -1 END, CASE WHEN u.pushed THEN u.start_change ELSE -1 END,"
                + " CASE WHEN u.pushed THEN now() + ?::interval END, now() FROM unnest(?::text[], ?::bigint[],"
                + " ?::bigint[], ?::bigint[], ?::bigint[], ?::boolean[])"
                + " AS u(name, commit_pos, change_pos, start_commit, start_change, pushed)"
                + " ON CONFLICT (table_name) DO UPDATE SET commit_pos = EXCLUDED.commit_pos,"
                + " change_pos = EXCLUDED.change_pos, updated_at = now()"
                + " WHERE (c.commit_pos, c.change_pos) < (EXCLUDED.commit_pos, EXCLUDED.change_pos)", SQL.raiseCoverage());
        assertEquals("INSERT INTO \"replicator\".table_position AS p (table_name, commit_pos, change_pos, updated_at)"
                + " SELECT v.name, v.commit_pos, v.change_pos, now() FROM (SELECT ?::text AS name,"
                + " ?::bigint AS commit_pos, ?::bigint AS change_pos) v WHERE NOT EXISTS (SELECT 1 FROM"
                + " \"replicator\".pull_coverage c WHERE c.table_name = v.name AND (c.commit_pos, c.change_pos) >="
                + " (v.commit_pos, v.change_pos) AND (v.commit_pos, v.change_pos) >= (c.start_commit, c.start_change))"
                + " ON CONFLICT (table_name) DO UPDATE SET commit_pos = EXCLUDED.commit_pos,"
                + " change_pos = EXCLUDED.change_pos, updated_at = now()"
                + " WHERE (p.commit_pos, p.change_pos) < (EXCLUDED.commit_pos, EXCLUDED.change_pos) RETURNING 1",
                SQL.claimTable(), "a truncate pull has applied past is stale, as a row change is");
    }
}
