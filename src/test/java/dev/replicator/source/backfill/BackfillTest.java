package dev.replicator.source.backfill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.replicator.apply.RejectedChangeException;
import dev.replicator.apply.TargetUnavailableException;
import dev.replicator.decode.BadEventException;
import dev.replicator.decode.Operation;
import dev.replicator.source.JobTable;
import dev.replicator.source.RowReader;
import dev.replicator.source.TwoDatabaseJobs;
import dev.replicator.testing.TableComparison;
import dev.replicator.testing.TestDatabases;

/**
 * Backfill against two real PostgreSQL servers: it copies whole tables in chunks, stops at its budget and resumes
 * from its checkpoint, never overwrites or resurrects what the stream wrote, a chunk that fails half-way leaves
 * data and checkpoint together at the chunk before, and a chunk that another invocation of the table checkpointed
 * first leaves nothing.
 */
class BackfillTest {

    static final String SCHEMA = """
            CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2), tags text[], doc jsonb,
                seen timestamptz, data bytea);
            CREATE TABLE lines (order_id int, line_no smallint, sku text, PRIMARY KEY (order_id, line_no));
            CREATE TABLE keyless (id int, name text);
            CREATE TABLE unmapped (id int PRIMARY KEY);
            """;

    static final int ITEMS = 95;
    static final int LINES = 48;
    static final Duration NO_BUDGET = Duration.ZERO;
    static final Duration AMPLE = Duration.ofMinutes(5);

    TwoDatabaseJobs jobs;

    @BeforeEach
    void setUp() {
        jobs = new TwoDatabaseJobs("backfill_test", SCHEMA, List.of("public.items", "public.lines", "public.keyless",
                "public.source_only"));
        TestDatabases.execute(jobs.source, """
                INSERT INTO items SELECT g, 'item ' || g, CASE WHEN g % 10 = 0 THEN NULL ELSE g * 1.25 END,
                    ARRAY['a' || g, NULL], jsonb_build_object('n', g, 'list', jsonb_build_array(g, 'x')),
                    timestamptz '2024-01-01 00:00:00+00' + g * interval '1 hour 1 second',
                    decode(lpad(to_hex(g), 4, '0'), 'hex')
                FROM generate_series(1, 95) g;
                INSERT INTO lines SELECT o, l, 'sku-' || o || '-' || l FROM generate_series(1, 12) o,
                    generate_series(1, 4) l;
                """);
    }

    static BackfillRequest items(int chunk) {
        return new BackfillRequest(List.of("public.items"), chunk, false);
    }

    void assertItemsEqual() {
        TableComparison.assertSameRows(jobs.source, jobs.target, "items", Set.of());
    }

    long targetCount(String table) {
        return Long.parseLong(TwoDatabaseJobs.rows(jobs.target, "SELECT count(*) FROM " + table).trim());
    }

    @Test
    void copiesEveryRowOfMultiChunkTablesAndEndsDone() {
        BackfillReport report = jobs.backfill(AMPLE).run("bf-1",
                new BackfillRequest(List.of("public.items", "public.lines"), 10, false));

        assertTrue(report.finished());
        assertNull(report.next());
        assertEquals(ITEMS + LINES, report.applied());
        assertEquals(0, report.stale());
        assertEquals(10 + 5, report.chunks(), "95 rows in chunks of 10, then 48 rows in chunks of 10");
        assertEquals(List.of(List.of("public.items", ITEMS, true), List.of("public.lines", LINES, true)),
                standing(report));
        assertEquals(List.of(100.0, 100.0), report.tables().stream().map(BackfillReport.TableProgress::percent)
                .toList(), "a finished table is at 100%");
        assertEquals(List.of((long) ITEMS, (long) LINES), report.tables().stream()
                .map(BackfillReport.TableProgress::estimatedRows).toList(), "a finished table's total is its rows");
        assertItemsEqual();
        TableComparison.assertSameRows(jobs.source, jobs.target, "lines", Set.of());
        assertEquals(new BackfillCheckpoints.Progress(List.of("12", "4"), LINES, true),
                jobs.checkpoints().read("public.lines"));

        BackfillReport again = jobs.backfill(AMPLE).run("bf-2", items(10));
        assertTrue(again.finished());
        assertEquals(0, again.chunks(), "a finished table is not copied again");
    }

    @Test
    void replicatorsTablesDroppedBeforeARunAreCreatedAgainAndKeepItsProgress() {
        assertEquals(BackfillCheckpoints.Progress.NONE, jobs.checkpoints().read("public.items"),
                "reading progress creates replicator's tables");
        TestDatabases.execute(jobs.target, "DROP SCHEMA replicator CASCADE");

        BackfillReport report = jobs.backfill(AMPLE).run("bf-1", items(40));

        assertTrue(report.finished());
        assertEquals(ITEMS, report.applied());
        assertEquals(new BackfillCheckpoints.Progress(List.of("95"), ITEMS, true),
                jobs.checkpoints().read("public.items"));
        assertItemsEqual();
    }

    /** Table, rows and done of each table the report names (rows as an int, to compare with the constants). */
    static List<List<Object>> standing(BackfillReport report) {
        return report.tables().stream().map(t -> List.<Object>of(t.table(), (int) t.rows(), t.done())).toList();
    }

    @Test
    void reportsProgressAgainstTheSourcesEstimateUntilDone() {
        TestDatabases.execute(jobs.source, "ANALYZE items");
        BackfillReport first = jobs.backfill(NO_BUDGET).run("bf-1", items(10));

        BackfillReport.TableProgress items = first.tables().get(0);
        assertEquals(95L, items.estimatedRows(), "the estimate is the source's pg_class.reltuples");
        assertEquals(10.5, items.percent(), "10 of 95 rows, rounded down to a tenth");
        assertFalse(items.done());
        assertNotNull(items.secondsLeft(), "a rate is known after a chunk, and the time left with it");

        BackfillReport last = jobs.backfill(AMPLE).run("bf-2", items(10));
        BackfillReport.TableProgress done = last.tables().get(0);
        assertTrue(done.done());
        assertEquals(100.0, done.percent());
        assertEquals(0L, done.secondsLeft());
        assertEquals((long) ITEMS, done.estimatedRows());

        TestDatabases.execute(jobs.source, "INSERT INTO items SELECT g, 'grown ' || g FROM generate_series(96, 300) g");
        BackfillReport again = jobs.backfill(AMPLE).run("bf-3", items(10));
        assertEquals(100.0, again.tables().get(0).percent(), "a finished table stays at 100% until restarted");
    }

    @Test
    void withoutStatisticsTheTotalIsUnknownButRowsAndRateAreReported() {
        TestDatabases.execute(jobs.source, "ALTER TABLE items SET (autovacuum_enabled = false)");
        BackfillReport first = jobs.backfill(NO_BUDGET).run("bf-1", items(10));
        BackfillReport.TableProgress items = first.tables().get(0);
        assertEquals(10, items.rows());
        assertNull(items.estimatedRows(), "a table never analyzed has no estimate (reltuples -1)");
        assertNull(items.percent());
        assertNull(items.secondsLeft());
    }

    @Test
    void stopsAtItsBudgetWithAContinuationAndResumesFromItsCheckpoint() {
        BackfillRequest request = items(10);
        int calls = 0;
        BackfillReport report;
        do {
            // a new Backfill each time: what carries over is the checkpoint in the target, not memory
            report = jobs.backfill(NO_BUDGET).run("bf-" + ++calls, request);
            assertEquals(1, report.chunks(), "one chunk per call when the budget is spent at once");
            if (calls == 1) {
                assertFalse(report.finished());
                assertEquals(10, targetCount("items"));
                assertEquals(List.of(List.of("public.items", 10, false)), standing(report));
            }
            if (!report.finished()) {
                assertNotNull(report.next(), "an unfinished backfill answers with where to continue");
                assertEquals(request.continuation(), report.next());
                request = report.next();
            }
        } while (!report.finished() && calls < 20);

        assertTrue(report.finished());
        assertEquals(10, calls, "nine full chunks and a last short one");
        assertEquals(new BackfillCheckpoints.Progress(List.of("95"), ITEMS, true),
                jobs.checkpoints().read("public.items"));
        assertItemsEqual();
    }

    @Test
    void aStreamedChangeNewerThanTheCopyWinsWhicheverLandsFirst() {
        Map<String, String> five = sourceRow(5);
        five.put("name", "streamed before the copy");
        assertTrue(jobs.streamed("public.items", Operation.UPDATE, 1_000, five).applied());

        BackfillReport report = jobs.backfill(AMPLE).run("bf-1", items(10));
        assertEquals(ITEMS - 1, report.applied());
        assertEquals(1, report.stale(), "the copy of row 5 is older than the streamed change");

        Map<String, String> seven = sourceRow(7);
        seven.put("name", "streamed after the copy");
        assertTrue(jobs.streamed("public.items", Operation.UPDATE, 1_001, seven).applied());

        // the source as the stream says it is now: then both sides hold the same rows
        TestDatabases.execute(jobs.source, "UPDATE items SET name = 'streamed before the copy' WHERE id = 5;"
                + " UPDATE items SET name = 'streamed after the copy' WHERE id = 7");
        assertItemsEqual();
    }

    @Test
    void aRowDeletedByTheStreamIsNeverResurrectedByACopy() {
        BackfillRequest request = items(10);
        BackfillReport first = jobs.backfill(NO_BUDGET).run("bf-1", request);
        assertEquals(10, targetCount("items"));

        // deletes of rows the copy has not reached yet, and of one it has copied
        for (int id : List.of(15, 60, 95, 3)) {
            jobs.streamed("public.items", Operation.DELETE, 1_000 + id, Map.of("id", String.valueOf(id)));
        }
        BackfillReport rest = jobs.backfill(AMPLE).run("bf-2", first.next());
        assertTrue(rest.finished());
        assertEquals(3, rest.stale(), "rows 15, 60 and 95 were deleted after the source read them");
        assertEquals("", TwoDatabaseJobs.rows(jobs.target, "SELECT id FROM items WHERE id IN (3, 15, 60, 95)"));

        TestDatabases.execute(jobs.source, "DELETE FROM items WHERE id IN (3, 15, 60, 95)");
        assertItemsEqual();
    }

    /**
     * Two invocations of one table's backfill race (a continuation delivered twice, say). The late one reads its first
     * chunk; meanwhile the other copies the whole table and marks it done, after which pull writes the table's rows
     * plainly, without fencing them: row 5 changes, row 7 is deleted. The late chunk then loses its checkpoint and is
     * rolled back; committed, it would put back row 5's older version and bring back row 7.
     */
    @Test
    void aChunkWhoseCheckpointAnotherInvocationAdvancedFirstIsRolledBack() {
        BackfillReport[] other = new BackfillReport[1];
        RowReader late = pausingAfterRead(() -> {
            other[0] = jobs.backfill(AMPLE).run("bf-2", items(10));
            TestDatabases.execute(jobs.source, "UPDATE items SET name = 'pulled after the backfill' WHERE id = 5;"
                    + " DELETE FROM items WHERE id = 7");
            assertTrue(jobs.pulled("public.items", Operation.UPDATE, 2_000, sourceRow(5)).applied());
            assertTrue(jobs.pulled("public.items", Operation.DELETE, 2_001, Map.of("id", "7")).applied());
        });

        BackfillReport report = jobs.backfill(AMPLE, late).run("bf-1", items(10));

        assertTrue(other[0].finished());
        assertEquals("5\tpulled after the backfill\n", TwoDatabaseJobs.rows(jobs.target,
                "SELECT id, name FROM items WHERE id IN (5, 7)"),
                "the late chunk leaves the pulled row 5 and the deleted row 7 as pull wrote them");
        assertItemsEqual();
        assertEquals(0, report.chunks(), "the chunk rolled back is not counted");
        assertEquals(0, report.applied());
        assertEquals(List.of(List.of("public.items", ITEMS, true)), standing(report),
                "the late invocation takes up the other's progress: the table is done");
        assertEquals(new BackfillCheckpoints.Progress(List.of("95"), ITEMS, true),
                jobs.checkpoints().read("public.items"));
    }

    /**
     * A reader that, the first time, runs {@code meanwhile} once a chunk's snapshot is taken and before the chunk is
     * written: another invocation's work then lands between this one's read and its write.
     */
    private RowReader pausingAfterRead(Runnable meanwhile) {
        AtomicBoolean paused = new AtomicBoolean();
        return new RowReader(jobs.source, jobs.router) {
            @Override
            public <T> T copyChunk(String eventId, JobTable table, List<String> after, int limit, CopyWork<T> work) {
                return super.copyChunk(eventId, table, after, limit, (plan, rows) -> {
                    if (!paused.getAndSet(true)) {
                        meanwhile.run();
                    }
                    return work.run(plan, rows);
                });
            }
        };
    }

    @Test
    void aConnectionKilledInTheMiddleOfAChunkIsRetriedAndTheChunkCountedOnce() {
        killWritesOfRow(25, 2);

        BackfillReport report = jobs.backfill(AMPLE).run("bf-1", items(10));

        assertTrue(report.finished());
        assertEquals(ITEMS, report.applied());
        assertEquals(new BackfillCheckpoints.Progress(List.of("95"), ITEMS, true),
                jobs.checkpoints().read("public.items"));
        assertTrue(Long.parseLong(TwoDatabaseJobs.rows(jobs.target, "SELECT last_value FROM kills").trim()) >= 3,
                "the sessions writing row 25 were killed twice, and row 25 written again");
        assertItemsEqual();
    }

    @Test
    void aChunkWhoseConnectionKeepsDyingLeavesDataAndCheckpointAtTheChunkBeforeAndTheRerunCompletes() {
        killWritesOfRow(25, Integer.MAX_VALUE);

        assertThrows(TargetUnavailableException.class, () -> jobs.backfill(AMPLE).run("bf-1", items(10)));

        assertChunksBeforeTheFailureOnly(20);
        TestDatabases.execute(jobs.target, "DROP TRIGGER kill_writer ON items");
        BackfillReport rerun = jobs.backfill(AMPLE).run("bf-2", items(10));
        assertTrue(rerun.finished());
        assertEquals(ITEMS - 20, rerun.applied());
        assertEquals(new BackfillCheckpoints.Progress(List.of("95"), ITEMS, true),
                jobs.checkpoints().read("public.items"));
        assertItemsEqual();
    }

    @Test
    void aCheckpointThatCannotBeWrittenRollsBackItsChunkAndTheRerunCompletes() {
        jobs.checkpoints().read("public.items"); // creates replicator's tables
        TestDatabases.execute(jobs.target, """
                CREATE FUNCTION refuse_progress() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.rows >= 30 THEN
                        RAISE EXCEPTION 'no progress past 30 rows';
                    END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER refuse_progress BEFORE INSERT OR UPDATE ON replicator.backfill_progress
                    FOR EACH ROW EXECUTE FUNCTION refuse_progress();
                """);

        assertThrows(RejectedChangeException.class, () -> jobs.backfill(AMPLE).run("bf-1", items(10)));

        assertChunksBeforeTheFailureOnly(20);
        TestDatabases.execute(jobs.target, "DROP TRIGGER refuse_progress ON replicator.backfill_progress");
        assertTrue(jobs.backfill(AMPLE).run("bf-2", items(10)).finished());
        assertEquals(ITEMS, jobs.checkpoints().read("public.items").rows());
        assertItemsEqual();
    }

    @Test
    void aTableNotReplicatedWithoutAKeyOrMissingInTheTargetIsAClearError() {
        TestDatabases.execute(jobs.source, "CREATE TABLE source_only (id int PRIMARY KEY)"); // none in the target

        BadEventException unmapped = assertThrows(BadEventException.class,
                () -> jobs.backfill(AMPLE).run("bf-1", new BackfillRequest(List.of("public.unmapped"), 10, false)));
        assertEquals("bf-1", unmapped.eventId());
        assertTrue(unmapped.getMessage().contains("public.unmapped is not replicated"), unmapped.getMessage());

        BadEventException keyless = assertThrows(BadEventException.class,
                () -> jobs.backfill(AMPLE).run("bf-2", new BackfillRequest(List.of("public.keyless"), 10, false)));
        assertEquals("bf-2", keyless.eventId());
        assertTrue(keyless.getMessage().contains("public.keyless needs the same primary key"), keyless.getMessage());

        BadEventException malformed = assertThrows(BadEventException.class,
                () -> jobs.backfill(AMPLE).run("bf-3", new BackfillRequest(List.of("a.b.c"), 10, false)));
        assertTrue(malformed.getMessage().contains("schema.table"), malformed.getMessage());

        BadEventException missing = assertThrows(BadEventException.class,
                () -> jobs.backfill(AMPLE).run("bf-4", new BackfillRequest(List.of("public.source_only"), 10, false)));
        assertTrue(missing.getMessage().contains("target table public.source_only does not exist"),
                missing.getMessage());

        assertEquals(0, targetCount("items"), "nothing is copied when a named table is wrong");
    }

    /** The first chunks are in the target with their checkpoint, and nothing of the chunk that failed. */
    private void assertChunksBeforeTheFailureOnly(int rows) {
        assertEquals(new BackfillCheckpoints.Progress(List.of(String.valueOf(rows)), rows, false),
                jobs.checkpoints().read("public.items"));
        assertEquals(String.valueOf(rows), TwoDatabaseJobs.rows(jobs.target, "SELECT count(*) FROM items").trim());
        assertEquals(String.valueOf(rows), TwoDatabaseJobs.rows(jobs.target, "SELECT max(id) FROM items").trim());
    }

    /**
     * A trigger that terminates the session writing the row, the first {@code times} times; a sequence counts the
     * kills, since it is not rolled back with the killed transaction.
     */
    private void killWritesOfRow(int id, int times) {
        TestDatabases.execute(jobs.target, """
                CREATE SEQUENCE kills;
                CREATE FUNCTION kill_writer() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.id = %d AND nextval('kills') <= %d THEN
                        PERFORM pg_terminate_backend(pg_backend_pid());
                    END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER kill_writer BEFORE INSERT OR UPDATE ON items FOR EACH ROW EXECUTE FUNCTION kill_writer();
                """.formatted(id, times));
    }

    /** A source row's columns as text, as the stream would carry them. */
    private Map<String, String> sourceRow(int id) {
        return new LinkedHashMap<>(TwoDatabaseJobs.row(jobs.source, "SELECT id::text AS id, name, price::text AS price,"
                + " tags::text AS tags, doc::text AS doc, seen::text AS seen, data::text AS data FROM items WHERE id = "
                + id));
    }
}
