package dev.replicator.apply;

import static dev.replicator.apply.ChangeOutcome.Result.APPLIED;
import static dev.replicator.apply.ChangeOutcome.Result.STALE;
import static dev.replicator.apply.ChangeOutcome.Result.SUPERSEDED;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import javax.sql.DataSource;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import dev.replicator.apply.ChangeOutcome.Result;
import dev.replicator.convert.ConversionOptions;
import dev.replicator.convert.ValueConverter;
import dev.replicator.decode.FieldValue;
import dev.replicator.decode.Operation;
import dev.replicator.decode.Position;
import dev.replicator.decode.RowChange;
import dev.replicator.decode.TableId;
import dev.replicator.decode.ValueEncoding;
import dev.replicator.route.TableMappings;
import dev.replicator.route.TableRouter;
import dev.replicator.route.TargetCatalog;
import dev.replicator.route.TargetChange;
import dev.replicator.testing.TestDatabases;

/**
 * Pulled changes against real PostgreSQL: rows only pull writes get plain statements and leave no position; one
 * coverage per table makes what pull already applied stale, pulled again or pushed; the per-row fence stays where a
 * position must decide.
 */
class PulledWriterTest {

    DataSource db;
    TableRouter router;
    TargetWriter writer;

    @BeforeEach
    void setUp() {
        db = TestDatabases.freshDatabase(TestDatabases.target(), "pulled_writer_test");
        TestDatabases.execute(db, "CREATE TABLE items (id int PRIMARY KEY, v text, note text)");
        TargetCatalog catalog = new TargetCatalog(db);
        router = new TableRouter(TableMappings.of(Map.of("public.items", Optional.empty()), Map.of(), false,
                "replicator"), catalog, new ValueConverter(ConversionOptions.DEFAULTS));
        writer = new TargetWriter(db, new Sql("replicator"), "replicator", catalog::invalidate);
    }

    @Test
    void rowsOnlyPullWritesLeaveNoPositionAndTheCoverageRises() {
        assertEquals(List.of(SUPERSEDED, SUPERSEDED, APPLIED, SUPERSEDED, APPLIED, APPLIED), pulled(upsert(10, 1, "a"),
                upsert(11, 2, "b"), upsert(12, 1, "a2"), delete(13, 2), upsert(14, 3, "c"), upsert(15, 2, "b2")),
                "the last change of each row is written, the others are superseded");
        assertEquals("1\ta2\t\\N\n2\tb2\t\\N\n3\tc\t\\N\n", rows());
        assertEquals("0\n", count("replicator.row_position"), "pull wrote no position");
        assertEquals("public.items\t15\t15\n", coverage());
    }

    /**
     * Creates go in as plain inserts and updates as plain updates; a create of a row the target has anyway, or an
     * update of a row it lacks, is upserted instead, in the same transaction, and nothing else of the group is lost.
     */
    @Test
    void createsOfRowsTheTargetHasAndUpdatesOfRowsItLacksAreUpserted() {
        assertEquals(List.of(APPLIED, APPLIED), pulled(create(10, 1, "one"), create(11, 2, "two")));
        assertEquals(List.of(APPLIED, APPLIED), pulled(upsert(12, 1, "one, updated"), upsert(13, 3, "three, missing")));
        assertEquals("1\tone, updated\t\\N\n2\ttwo\t\\N\n3\tthree, missing\t\\N\n", rows());
        TestDatabases.execute(db, "INSERT INTO items VALUES (4, 'already there', 'kept?')");
        assertEquals(List.of(APPLIED, APPLIED, APPLIED), pulled(create(14, 4, "four"), create(15, 5, "five"),
                upsert(16, 2, "two, updated")));
        assertEquals("1\tone, updated\t\\N\n2\ttwo, updated\t\\N\n3\tthree, missing\t\\N\n4\tfour\t\\N\n"
                + "5\tfive\t\\N\n", rows());
        assertEquals("public.items\t16\t16\n", coverage(), "the group committed whole");
        assertEquals(List.of(SUPERSEDED, APPLIED), pulled(create(17, 6, "six"), upsert(18, 6, "six, updated")),
                "a row the group creates and then updates is new to the target");
        assertEquals("6\tsix, updated\t\\N\n", TestDatabases.copy(db, "SELECT * FROM items WHERE id = 6"));
    }

    /** Created rows are copied: tabs, line breaks, backslashes and NULLs in values land exactly. */
    @Test
    void copiedValuesLandExactly() throws Exception {
        String tricky = "tab\there, line\nbreak, cr\r, back\\slash \\N, \"quoted\", ünïcødé";
        assertEquals(List.of(APPLIED, APPLIED), pulled(create(10, 1, tricky), create(11, 2, "\\N")));
        try (var connection = db.getConnection();
                var query = connection.prepareStatement("SELECT v, note FROM items ORDER BY id");
                var rs = query.executeQuery()) {
            rs.next();
            assertEquals(tricky, rs.getString(1));
            assertEquals(null, rs.getString(2));
            rs.next();
            assertEquals("\\N", rs.getString(1));
        }
    }

    @Test
    void aGroupReadAgainAfterAPullDiedBeforeConfirmingIsStale() {
        pulled(upsert(10, 1, "a"), upsert(11, 2, "b"));
        pulled(upsert(12, 1, "a2"), delete(13, 2));
        assertEquals(List.of(STALE, STALE, STALE, STALE, APPLIED), pulled(upsert(10, 1, "a"), upsert(11, 2, "b"),
                upsert(12, 1, "a2"), delete(13, 2), upsert(14, 3, "c")));
        assertEquals("1\ta2\t\\N\n3\tc\t\\N\n", rows(), "the row deleted at 13 did not come back");
    }

    @Test
    void aPushedChangeAtOrBelowTheCoverageIsStaleAndOneAboveItIsFencedByItsRow() {
        assertEquals(List.of(APPLIED, APPLIED), pulled(upsert(100, 5, "pulled"), upsert(111, 6, "six")));
        assertEquals(STALE, pushed(upsert(105, 5, "late")), "pull applied the stream past it");
        assertEquals(STALE, pushed(upsert(50, 5, "older than all pull saw")), "push never wrote the table before");
        assertEquals(STALE, pushed(delete(111, 6)), "at the coverage itself");
        assertEquals(APPLIED, pushed(upsert(120, 6, "newer")));
        assertEquals("5\tpulled\t\\N\n6\tnewer\t\\N\n", rows());
        assertEquals(List.of(STALE), pulled(upsert(115, 6, "pulled-older")), "the pushed position at 120 decides");
        assertEquals("6\tnewer\t\\N\n", TestDatabases.copy(db, "SELECT * FROM items WHERE id = 6"));
        assertEquals(List.of(APPLIED), pulled(upsert(130, 6, "pulled-newer")));
        assertEquals("0\n", count("replicator.row_position"), "the position at 120 decides nothing under 130");
    }

    @Test
    void pullTakingOverATablePushWroteKeepsRowPositionsForTheRetention() {
        assertEquals(APPLIED, pushed(upsert(100, 5, "pushed")));
        assertEquals(List.of(APPLIED, APPLIED), pulled(upsert(200, 5, "pulled"), upsert(201, 7, "seven")));
        assertEquals(STALE, pushed(upsert(150, 5, "late, older than pull's first change")), "its row decides");
        assertEquals(APPLIED, pushed(upsert(150, 8, "late, a row pull never wrote")), "its row decides");
        assertEquals(STALE, pushed(upsert(201, 7, "pulled already")), "the coverage decides");
        assertEquals("5\tpulled\t\\N\n7\tseven\t\\N\n8\tlate, a row pull never wrote\t\\N\n", rows());
        assertEquals("public.items\t201\t200\n", TestDatabases.copy(db,
                "SELECT table_name, commit_pos, start_commit FROM replicator.pull_coverage"));
        assertEquals("3\n", count("replicator.row_position"));
        TestDatabases.execute(db, "UPDATE replicator.pull_coverage SET fence_rows_until = now() - interval '1 second'");
        assertEquals(List.of(APPLIED, APPLIED), pulled(upsert(300, 9, "nine"), upsert(301, 5, "again")));
        assertEquals("0\n", count("replicator.row_position"), "past the retention, positions under 301 go");
    }

    @Test
    void aPushedTruncateBelowTheCoverageIsStaleAndOneAboveItFencesTheTable() {
        pulled(upsert(50, 1, "a"), upsert(51, 2, "b"));
        assertEquals(STALE, pushed(truncate(40)), "pull applied every change of the table up to 51");
        assertEquals("1\ta\t\\N\n2\tb\t\\N\n", rows());
        assertEquals(APPLIED, pushed(truncate(60)));
        assertEquals("", rows());
        assertEquals(List.of(STALE, APPLIED), pulled(upsert(55, 1, "before the truncate"), upsert(65, 2, "after")));
        assertEquals("2\tafter\t\\N\n", rows());
    }

    @Test
    void aBackfillUnderwayKeepsThePositionsOfPulledRowsUntilItIsDone() {
        TestDatabases.execute(db, "CREATE SCHEMA IF NOT EXISTS replicator");
        pulled(upsert(10, 1, "a"));
        TestDatabases.execute(db, "INSERT INTO replicator.backfill_progress VALUES ('public.items', NULL, 0, false,"
                + " now())");
        pulled(upsert(20, 1, "a2"), delete(21, 2), upsert(22, 3, "c"));
        assertEquals("public.items\t{1}\t20\tf\npublic.items\t{2}\t21\tt\npublic.items\t{3}\t22\tf\n",
                TestDatabases.copy(db, "SELECT table_name, row_key, commit_pos, deleted FROM replicator.row_position"
                        + " ORDER BY row_key"), "a chunk leaves these rows alone, and the deleted one stays deleted");
        TestDatabases.execute(db, "UPDATE replicator.backfill_progress SET done = true");
        pulled(upsert(30, 4, "d"));
        assertEquals("0\n", count("replicator.row_position"));
        assertEquals("1\ta2\t\\N\n3\tc\t\\N\n4\td\t\\N\n", rows());
    }

    @Test
    void aKeyChangeMovesTheRowAndAnUnsentToastedValueStays() {
        pulled(upsert(10, 1, "a", "long"));
        Map<String, FieldValue> newKey = Map.of("id", text("2"));
        TargetChange move = route(new RowChange("move", new TableId("public", "items"), Operation.DELETE,
                new Position(20, 20), Map.of("id", text("1")), newKey, null, ValueEncoding.NATIVE));
        assertEquals(List.of(APPLIED, APPLIED), pulled(move, upsert(20, 2, "a", "long")));
        assertEquals("2\ta\tlong\n", rows());
        Map<String, String> values = new LinkedHashMap<>();
        values.put("id", "2");
        values.put("v", "b");
        TargetChange toast = new TargetChange("toast", move.table(), Operation.UPDATE, new Position(30, 30),
                List.of("2"), values, Set.of("note"), null, "public.items", -1);
        assertEquals(List.of(APPLIED), pulled(toast));
        assertEquals("2\tb\tlong\n", rows(), "the note was not sent: the target keeps it");
        assertEquals("0\n", count("replicator.row_position"));
    }

    @Test
    void aRowDeletedAndCreatedAgainInOneGroupComesBackAsTheCreateMadeIt() {
        pulled(upsert(10, 1, "a", "note"));
        Map<String, FieldValue> row = new LinkedHashMap<>();
        row.put("id", text("1"));
        row.put("v", text("again"));
        TargetChange create = route(new RowChange("create", new TableId("public", "items"), Operation.CREATE,
                new Position(30, 30), row, null, null, ValueEncoding.NATIVE));
        // a native create that leaves the note out keeps it: fenced, as the push path writes it
        assertEquals(List.of(APPLIED, APPLIED), pulled(delete(20, 1), create));
        assertEquals("1\tagain\t\\N\n", rows(), "the delete emptied the row before the create");
    }

    private List<Result> pulled(TargetChange... changes) {
        return writer.writePulled(List.of(changes)).stream().map(ChangeOutcome::result).toList();
    }

    private Result pushed(TargetChange change) {
        return writer.write(List.of(change)).get(0).result();
    }

    private TargetChange upsert(long position, int id, String v) {
        return upsert(position, id, v, null);
    }

    private TargetChange upsert(long position, int id, String v, String note) {
        return write(Operation.UPDATE, position, id, v, note);
    }

    private TargetChange create(long position, int id, String v) {
        return write(Operation.CREATE, position, id, v, null);
    }

    private TargetChange write(Operation op, long position, int id, String v, String note) {
        Map<String, FieldValue> row = new LinkedHashMap<>();
        row.put("id", text(String.valueOf(id)));
        row.put("v", text(v));
        row.put("note", note == null ? FieldValue.of(JsonNodeFactory.instance.nullNode(), null) : text(note));
        return route(new RowChange(op.code() + "@" + position, new TableId("public", "items"), op,
                new Position(position, position), row, null, null, ValueEncoding.NATIVE));
    }

    private TargetChange delete(long position, int id) {
        return route(new RowChange("d@" + position, new TableId("public", "items"), Operation.DELETE,
                new Position(position, position), Map.of("id", text(String.valueOf(id))), null, null,
                ValueEncoding.NATIVE));
    }

    private TargetChange truncate(long position) {
        return route(new RowChange("t@" + position, new TableId("public", "items"), Operation.TRUNCATE,
                new Position(position, position), Map.of(), null, null, ValueEncoding.NATIVE));
    }

    private static FieldValue text(String value) {
        return FieldValue.of(JsonNodeFactory.instance.textNode(value), null);
    }

    private TargetChange route(RowChange change) {
        try {
            return router.route(change);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private String rows() {
        return TestDatabases.copy(db, "SELECT * FROM items ORDER BY id");
    }

    private String count(String table) {
        return TestDatabases.copy(db, "SELECT count(*) FROM " + table);
    }

    private String coverage() {
        return TestDatabases.copy(db, "SELECT table_name, commit_pos, change_pos FROM replicator.pull_coverage");
    }
}
