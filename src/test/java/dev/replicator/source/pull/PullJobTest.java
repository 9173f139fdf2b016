package dev.replicator.source.pull;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

import org.postgresql.ds.PGSimpleDataSource;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import dev.replicator.apply.ChangeOutcome;
import dev.replicator.apply.OpenWrite;
import dev.replicator.apply.RejectedChangeException;
import dev.replicator.apply.Sql;
import dev.replicator.apply.TargetWriter;
import dev.replicator.apply.TargetUnavailableException;
import dev.replicator.decode.FieldValue;
import dev.replicator.decode.PgOutputDecoder;
import dev.replicator.decode.PgOutputMessage;
import dev.replicator.decode.RowChange;
import dev.replicator.decode.TableId;
import dev.replicator.route.TargetChange;
import dev.replicator.testing.DebeziumLoss;
import dev.replicator.testing.LogicalSource;
import dev.replicator.testing.TableComparison;
import dev.replicator.testing.TestDatabases;

/**
 * Pull mode against real PostgreSQL: a source with logical WAL, its slot drained into a target, streamed over the
 * replication protocol ({@link PeekedPullJobTest}: the same, peeked through the SQL interface).
 */
class PullJobTest {

    /** {@code replicator.pull.read=stream}. */
    boolean stream() {
        return true;
    }

    PullHarness harness(String name) {
        return harness(name, LogicalSource.server(), TestDatabases.target(), 100_000, 5000);
    }

    PullHarness harness(String name, EmbeddedPostgres sourceServer, EmbeddedPostgres targetServer, int peekChanges,
            int groupChanges) {
        return new PullHarness((stream() ? "" : "peek_") + name, sourceServer, targetServer, peekChanges,
                groupChanges, false, stream());
    }

    private static final String TYPES = "/fixtures/debezium-server-3.6/types/";
    private static final String SMALL = "/fixtures/debezium-server-3.6/small/";

    /** Every type of the type matrix lands equal by COPY, with none of Debezium's losses. */
    @Test
    void everyTypeLandsExactly() throws SQLException {
        PullHarness h = harness("pull_types");
        TestDatabases.runScript(h.source, TYPES + "schema.sql");
        TestDatabases.runScript(h.target, TYPES + "schema.sql");
        h.createSlot();
        TestDatabases.runScript(h.source, TYPES + "workload.sql");

        PullReport report = h.pull();

        assertTrue(report.done());
        assertTrue(report.applied() > 0);
        TableComparison.assertSameRows(h.source, h.target, EnumSet.noneOf(DebeziumLoss.class));
    }

    /** Inserts, updates, a key change, an unchanged TOASTed value, deletes and a truncate, as the source ran them. */
    @Test
    void everyOperationLandsExactly() throws SQLException {
        PullHarness h = harness("pull_small");
        TestDatabases.runScript(h.source, SMALL + "schema.sql");
        TestDatabases.runScript(h.target, SMALL + "schema.sql");
        h.createSlot();
        TestDatabases.runScript(h.source, SMALL + "workload.sql");

        PullReport report = h.pull();

        assertTrue(report.done());
        assertEquals(PgOutputDecoder.lsnText(h.confirmedLsn()), report.confirmedLsn());
        TableComparison.assertSameRows(h.source, h.target, EnumSet.noneOf(DebeziumLoss.class));
        assertEquals(0, h.pull().applied(), "a drained slot has nothing more");
    }

    /** An update that leaves a TOASTed value alone does not send it ('u'); the target keeps the value it has. */
    @Test
    void unchangedToastedValueKeepsTheTargetsValue() throws SQLException {
        PullHarness h = harness("pull_toast");
        h.both("CREATE TABLE docs (id int PRIMARY KEY, n int, body text)");
        TestDatabases.execute(h.source, "ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL");
        h.createSlot();
        TestDatabases.execute(h.source, "INSERT INTO docs SELECT 1, 0, string_agg(md5(g::text), '')"
                + " FROM generate_series(1, 400) g");
        assertEquals(1, h.pull().applied());
        TestDatabases.execute(h.source, "UPDATE docs SET n = 1 WHERE id = 1");

        assertTrue(unavailableSeen(h), "the update did not leave the TOASTed value out");
        PullReport report = h.pull();

        assertEquals(1, report.applied());
        TableComparison.assertSameRows(h.source, h.target, "docs", EnumSet.noneOf(DebeziumLoss.class));
    }

    /**
     * The slot is decoded in the peeking session, whose settings print every value: a source database whose defaults
     * print intervals in the SQL standard's style, bytea in escape form and floats short still lands every value as
     * it is.
     */
    @Test
    void valuesLandAsTheyAreWhateverTheSourcesSettingsPrint() throws SQLException {
        PullHarness h = harness("pull_settings");
        h.both("CREATE TABLE t (id int PRIMARY KEY, i interval, b bytea, f float8, r real, m money, ts timestamptz,"
                + " span tstzrange)");
        String database = h.settings.slot();
        TestDatabases.execute(h.source, "ALTER DATABASE " + database + " SET IntervalStyle = 'sql_standard';"
                + " ALTER DATABASE " + database + " SET bytea_output = 'escape';"
                + " ALTER DATABASE " + database + " SET TimeZone = 'Asia/Kolkata'");
        h.createSlot();
        TestDatabases.execute(h.source, "INSERT INTO t VALUES (1, '-1 day -2 hours', '\\x00ff27', 0.30000000000000004,"
                + " 0.123456789, 1234.56, '2024-03-10 06:30:00+00', '[2024-03-10 06:30:00+00,2024-03-11 00:00:00+00)'),"
                + " (2, '1 year -2 mons +3 days -04:05:06', '\\x', '-1e-300', '-0', -0.01, '-infinity', 'empty')");

        h.pull();

        String compare = "SELECT id, i = %s, b = %s, f = %s, r = %s, m = %s, ts = %s, span = %s FROM t WHERE id = %d";
        assertEquals("1\tt\tt\tt\tt\tt\tt\tt\n", TestDatabases.copy(h.target, String.format(compare,
                "'-1 day -2 hours'::interval", "'\\x00ff27'::bytea", "0.30000000000000004::float8", "0.123456789::real",
                "1234.56::money", "'2024-03-10 06:30:00+00'::timestamptz",
                "'[2024-03-10 06:30:00+00,2024-03-11 00:00:00+00)'::tstzrange", 1)));
        assertEquals("2\tt\tt\tt\tt\tt\tt\tt\n", TestDatabases.copy(h.target, String.format(compare,
                "'1 year -2 mons +3 days -04:05:06'::interval", "'\\x'::bytea", "'-1e-300'::float8", "'-0'::real",
                "(-0.01)::money", "'-infinity'::timestamptz", "'empty'::tstzrange", 2)));
    }

    private static boolean unavailableSeen(PullHarness h) throws SQLException {
        PgOutputDecoder decoder = new PgOutputDecoder("check");
        List<Boolean> seen = new ArrayList<>();
        new LogicalSlot(h.source, h.settings).peek(1000, (lsn, data) -> {
            if (decoder.decode(lsn, data) instanceof PgOutputMessage.Changes changes) {
                for (RowChange change : changes.changes()) {
                    seen.add(change.row().get("body") == FieldValue.UNAVAILABLE);
                }
            }
            return true;
        });
        return seen.equals(List.of(true));
    }

    /**
     * A pull that commits on the target and dies before confirming the slot: the next pull reads the same
     * transactions again, finds every change stale, and confirms.
     */
    @Test
    void crashBetweenCommitAndConfirmRereadsStale() throws SQLException {
        PullHarness h = harness("pull_crash");
        h.both("CREATE TABLE t (id int PRIMARY KEY, v text)");
        h.createSlot();
        TestDatabases.execute(h.source, "INSERT INTO t SELECT g, 'a' || g FROM generate_series(1, 50) g");
        TestDatabases.execute(h.source, "UPDATE t SET v = 'b' WHERE id <= 10");
        TestDatabases.execute(h.source, "DELETE FROM t WHERE id > 45");
        long before = h.confirmedLsn();
        LogicalSlot dying = new LogicalSlot(h.source, h.settings) {
            @Override
            void confirm(SlotReading reading, long lsn) {
                throw new IllegalStateException("the instance died before confirming");
            }
        };

        assertThrows(IllegalStateException.class, () -> h.job(dying).run("crash", PullRequest.DRAIN));
        assertEquals(before, h.confirmedLsn(), "nothing was confirmed");
        TableComparison.assertSameRows(h.source, h.target, "t", EnumSet.noneOf(DebeziumLoss.class));

        PullReport again = h.pull();
        assertEquals(0, again.applied());
        assertEquals(65, again.stale() + again.superseded());
        assertTrue(again.done());
        assertTrue(h.confirmedLsn() > before);
        TableComparison.assertSameRows(h.source, h.target, "t", EnumSet.noneOf(DebeziumLoss.class));
    }

    /** While one pull reads the slot, a second one is answered busy (503) and the first finishes undisturbed. */
    @Test
    void secondConcurrentPullIsBusy() throws Exception {
        PullHarness h = harness("pull_busy");
        h.both("CREATE TABLE t (id int PRIMARY KEY, v text)");
        h.createSlot();
        TestDatabases.execute(h.source, "INSERT INTO t SELECT g, 'a' FROM generate_series(1, 100) g");
        CountDownLatch reading = new CountDownLatch(1);
        CountDownLatch secondDone = new CountDownLatch(1);
        LogicalSlot slow = new LogicalSlot(h.source, h.settings) {
            @Override
            SlotReading open(Standing standing) throws SQLException {
                SlotReading opened = super.open(standing);
                return new SlotReading() {
                    @Override
                    public long read(MessageSink sink, BooleanSupplier cancelled) throws SQLException {
                        return opened.read((lsn, data) -> {
                            reading.countDown();
                            try {
                                secondDone.await(10, TimeUnit.SECONDS);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                            return sink.accept(lsn, data);
                        }, cancelled);
                    }

                    @Override
                    public boolean drained(long messages) {
                        return opened.drained(messages);
                    }

                    @Override
                    public void confirm(long lsn) throws SQLException {
                        opened.confirm(lsn);
                    }

                    @Override
                    public void close() throws SQLException {
                        opened.close();
                    }
                };
            }
        };
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<PullReport> first = pool.submit(() -> h.job(slow).run("first", PullRequest.DRAIN));
            assertTrue(reading.await(10, TimeUnit.SECONDS));
            TargetUnavailableException busy = assertThrows(TargetUnavailableException.class, h::pull);
            secondDone.countDown();
            assertEquals(503, busy.status());
            assertTrue(busy.getMessage().contains("another pull"), busy.getMessage());
            PullReport report = first.get(30, TimeUnit.SECONDS);
            assertEquals(100, report.applied());
            assertTrue(report.done());
        } finally {
            pool.shutdownNow();
        }
        TableComparison.assertSameRows(h.source, h.target, "t", EnumSet.noneOf(DebeziumLoss.class));
    }

    /**
     * A column the target lacks stops the pull with a 422 naming it; the transactions before it are applied and
     * confirmed, nothing from it on. Once the target has the column, the next pull goes on from there.
     */
    @Test
    void schemaDriftStopsBeforeTheTransactionAndConfirmsNothingPastIt() throws SQLException {
        PullHarness h = harness("pull_drift");
        h.both("CREATE TABLE t (id int PRIMARY KEY, v text)");
        h.createSlot();
        TestDatabases.execute(h.source, "INSERT INTO t VALUES (1, 'one')");
        long afterFirst = currentLsn(h);
        TestDatabases.execute(h.source, "ALTER TABLE t ADD COLUMN extra int");
        TestDatabases.execute(h.source, "INSERT INTO t VALUES (2, 'two', 2)");
        TestDatabases.execute(h.source, "INSERT INTO t VALUES (3, 'three', 3)");

        RejectedChangeException stop = assertThrows(RejectedChangeException.class, h::pull);

        assertTrue(stop.getMessage().contains("\"extra\""), stop.getMessage());
        assertTrue(stop.getMessage().contains("does not exist in target table public.t"), stop.getMessage());
        long confirmed = h.confirmedLsn();
        assertTrue(confirmed > 0 && confirmed <= afterFirst, "confirmed past the first transaction");
        assertEquals(1, PullHarness.count(h.target, "SELECT count(*) FROM t"));
        assertThrows(RejectedChangeException.class, h::pull, "the stop holds until the target is fixed");
        assertEquals(confirmed, h.confirmedLsn());

        TestDatabases.execute(h.target, "ALTER TABLE t ADD COLUMN extra int");
        h.catalog.invalidate(new dev.replicator.decode.TableId("public", "t"));
        PullReport report = h.pull();
        assertEquals(2, report.applied());
        TableComparison.assertSameRows(h.source, h.target, "t", EnumSet.noneOf(DebeziumLoss.class));
    }

    /** A table the target does not have stops the pull naming it. */
    @Test
    void missingTargetTableStopsThePull() throws SQLException {
        PullHarness h = harness("pull_missing");
        TestDatabases.execute(h.source, "CREATE TABLE only_here (id int PRIMARY KEY)");
        h.createSlot();
        TestDatabases.execute(h.source, "INSERT INTO only_here VALUES (1)");

        RejectedChangeException stop = assertThrows(RejectedChangeException.class, h::pull);

        assertTrue(stop.getMessage().contains("only_here"), stop.getMessage());
    }

    /** With create=false a missing slot is an error naming it, and nothing is created. */
    @Test
    void missingSlotWithoutCreateIsAnError() {
        PullHarness h = harness("pull_nocreate");
        SlotSettings noCreate = new SlotSettings(h.settings.slot(), h.settings.publication(), false, 1000, 100);
        RejectedChangeException error = assertThrows(RejectedChangeException.class,
                () -> new LogicalSlot(h.source, noCreate).ensure("test"));
        assertTrue(error.getMessage().contains(h.settings.publication()), error.getMessage());
        assertEquals(0, PullHarness.count(h.source, "SELECT count(*) FROM pg_publication"));
    }

    /** Several source transactions share a target transaction, and a pull stops early when asked to. */
    @Test
    void groupsTransactionsAndContinues() throws SQLException {
        PullHarness h = harness("pull_groups", LogicalSource.server(),
                TestDatabases.target(), 50, 20);
        h.both("CREATE TABLE t (id int PRIMARY KEY, v int)");
        h.createSlot();
        for (int i = 0; i < 30; i++) {
            TestDatabases.execute(h.source, "INSERT INTO t VALUES (" + i + ", 0); UPDATE t SET v = 1 WHERE id = " + i);
        }
        AtomicInteger pulls = new AtomicInteger();
        PullReport report;
        do {
            report = h.job().run("part", new PullRequest(10));
            pulls.incrementAndGet();
        } while (!report.done());
        assertTrue(pulls.get() > 2, "stopped after about 10 changes each time: " + pulls.get());
        TableComparison.assertSameRows(h.source, h.target, "t", EnumSet.noneOf(DebeziumLoss.class));
    }

    /** With replicator.apply-truncate=false a pulled truncate is counted as skipped and empties nothing. */
    @Test
    void truncateIsSkippedWhenApplyTruncateIsOff() throws SQLException {
        PullHarness h = harness("pull_truncate_off");
        h.both("CREATE TABLE t (id int PRIMARY KEY, v text)");
        h.createSlot();
        TestDatabases.execute(h.source, "INSERT INTO t SELECT g, 'a' FROM generate_series(1, 5) g");
        TestDatabases.execute(h.source, "TRUNCATE t");
        TestDatabases.execute(h.source, "INSERT INTO t VALUES (6, 'b')");

        PullReport report = h.job(new LogicalSlot(h.source, h.settings), h.writer, false).run("off",
                PullRequest.DRAIN);

        assertTrue(report.done());
        assertEquals(6, report.applied());
        assertEquals(1, report.skipped());
        assertEquals(6, PullHarness.count(h.target, "SELECT count(*) FROM t"), "the truncate emptied the target");
        assertEquals(PgOutputDecoder.lsnText(h.confirmedLsn()), report.confirmedLsn());
    }

    /**
     * A change the target refuses (a CHECK the source does not have) in a group of several source transactions:
     * the transactions before it are committed and confirmed, the 422 names the table and not the value, and nothing
     * from its transaction on is applied or confirmed. Once the target takes it, the next pull goes on from there.
     */
    @Test
    void refusedChangeInAGroupKeepsTheTransactionsBeforeIt() throws SQLException {
        PullHarness h = harness("pull_refused");
        h.both("CREATE TABLE t (id int PRIMARY KEY, v int)");
        TestDatabases.execute(h.target, "ALTER TABLE t ADD CONSTRAINT small CHECK (v < 1000)");
        h.createSlot();
        TestDatabases.execute(h.source, "INSERT INTO t SELECT g, g FROM generate_series(1, 10) g");
        TestDatabases.execute(h.source, "INSERT INTO t SELECT g, g FROM generate_series(11, 20) g");
        long beforeBad = currentLsn(h);
        TestDatabases.execute(h.source, "INSERT INTO t VALUES (21, 21), (22, 987654321), (23, 23)");
        TestDatabases.execute(h.source, "INSERT INTO t SELECT g, g FROM generate_series(24, 30) g");

        RejectedChangeException refused = assertThrows(RejectedChangeException.class, h::pull);

        assertTrue(refused.getMessage().contains("public.t"), refused.getMessage());
        assertTrue(refused.getMessage().contains("stopped at"), refused.getMessage());
        assertTrue(!refused.getMessage().contains("987654321"), refused.getMessage());
        assertEquals(20, PullHarness.count(h.target, "SELECT count(*) FROM t"), "the two transactions before it");
        long confirmed = h.confirmedLsn();
        assertTrue(confirmed > 0 && confirmed <= beforeBad, "confirmed past the refused transaction");
        assertTrue(refused.getMessage().contains("confirmed up to " + PgOutputDecoder.lsnText(confirmed)),
                refused.getMessage());
        assertThrows(RejectedChangeException.class, h::pull, "the stop holds until the target takes the change");
        assertEquals(confirmed, h.confirmedLsn());
        assertEquals(20, PullHarness.count(h.target, "SELECT count(*) FROM t"));

        TestDatabases.execute(h.target, "ALTER TABLE t DROP CONSTRAINT small");
        PullReport report = h.pull();
        assertEquals(10, report.applied());
        TableComparison.assertSameRows(h.source, h.target, "t", EnumSet.noneOf(DebeziumLoss.class));
    }

    /**
     * With many small groups read ahead of the writer, a refused change in a later group: every group before it and
     * the transactions of its group before it are committed and confirmed, nothing after it, although the reader had
     * read past it.
     */
    @Test
    void refusedChangeAfterSeveralGroupsStopsThereWhileReadingAhead() throws SQLException {
        PullHarness h = harness("pull_refused_ahead", LogicalSource.server(), TestDatabases.target(),
                100_000, 10);
        h.both("CREATE TABLE t (id int PRIMARY KEY, v int)");
        TestDatabases.execute(h.target, "ALTER TABLE t ADD CONSTRAINT small CHECK (v < 1000)");
        h.createSlot();
        for (int i = 1; i <= 60; i++) {
            // transactions of 3 changes, groups of 4 transactions: the bad change is in the 6th group's third one
            int v = i == 23 ? 5000 : i;
            TestDatabases.execute(h.source, "INSERT INTO t VALUES (" + i + ", " + v + "), (" + (i + 100) + ", 0),"
                    + " (" + (i + 200) + ", 0)");
        }

        RejectedChangeException refused = assertThrows(RejectedChangeException.class, h::pull);

        assertTrue(refused.getMessage().contains("public.t"), refused.getMessage());
        assertEquals(22 * 3, PullHarness.count(h.target, "SELECT count(*) FROM t"), "the 22 transactions before");
        assertEquals(0, PullHarness.count(h.target, "SELECT count(*) FROM t WHERE id >= 23 AND id <= 60"));
        TestDatabases.execute(h.target, "ALTER TABLE t DROP CONSTRAINT small");
        PullReport report = h.pull();
        assertEquals(38 * 3, report.applied());
        assertEquals(0, report.stale(), "nothing after the refused change was committed before");
        TableComparison.assertSameRows(h.source, h.target, "t", EnumSet.noneOf(DebeziumLoss.class));
    }

    /**
     * A source transaction larger than the group size is written in pieces of about the group size into one target
     * transaction: memory holds a piece, not the transaction, and a change refused at its end leaves nothing of it
     * in the target (while the transaction before it stays). Once the target takes it, it lands whole.
     */
    @Test
    void aTransactionLargerThanTheGroupLandsAtomicallyInPieces() throws SQLException {
        PullHarness h = harness("pull_large", LogicalSource.server(), TestDatabases.target(), 100_000, 100);
        h.both("CREATE TABLE t (id int PRIMARY KEY, v int)");
        TestDatabases.execute(h.target, "ALTER TABLE t ADD CONSTRAINT small CHECK (v < 100000)");
        h.createSlot();
        TestDatabases.execute(h.source, "INSERT INTO t VALUES (0, 0)");
        TestDatabases.execute(h.source, "INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g;"
                + " UPDATE t SET v = v + 1 WHERE id BETWEEN 1 AND 500; INSERT INTO t VALUES (1001, 100001)");
        List<Integer> writes = new ArrayList<>();
        List<Integer> pieces = new ArrayList<>();
        TargetWriter counting = new TargetWriter(h.target, new Sql("replicator"), "replicator",
                h.catalog::invalidate) {
            @Override
            public List<ChangeOutcome> write(List<TargetChange> changes) {
                writes.add(changes.size());
                return super.write(changes);
            }

            @Override
            public OpenWrite open(Collection<TableId> tables) {
                return beforeEachPiece(super.open(tables), changes -> pieces.add(changes.size()));
            }
        };
        PullJob job = h.job(new LogicalSlot(h.source, h.settings), counting, true);

        RejectedChangeException refused = assertThrows(RejectedChangeException.class,
                () -> job.run("large", PullRequest.DRAIN));

        assertTrue(refused.getMessage().contains("public.t"), refused.getMessage());
        assertEquals(1, PullHarness.count(h.target, "SELECT count(*) FROM t"), "only the transaction before it");
        assertTrue(pieces.size() >= 15, "written in pieces: " + pieces);
        assertTrue(pieces.stream().allMatch(n -> n <= 101), "pieces of about the group size: " + pieces);
        assertTrue(writes.stream().allMatch(n -> n <= 101), "no write of the whole transaction: " + writes);

        TestDatabases.execute(h.target, "ALTER TABLE t DROP CONSTRAINT small");
        pieces.clear();
        PullReport report = job.run("large-again", PullRequest.DRAIN);
        assertTrue(report.done());
        assertEquals(1, report.transactions());
        assertEquals(1501, report.applied());
        assertTrue(pieces.size() >= 15, "written in pieces: " + pieces);
        TableComparison.assertSameRows(h.source, h.target, "t", EnumSet.noneOf(DebeziumLoss.class));
    }

    /**
     * A source transaction in pieces, the first of table b and the second of table a, beside a pushed writer that
     * comes between the two: it takes its tables' locks as every pushed writer does, shared and in name order (a,
     * then b), and waits. Locked only as each piece came, the pull would hold b and wait for a while the pushed
     * writer held a and waited for b: a deadlock (40P01), failing one of them. Neither fails, and the pushed writer
     * goes on once the pull has committed.
     */
    @Test
    void aTransactionInPiecesDoesNotDeadlockWithAPushedWriter() throws Exception {
        PullHarness h = harness("pull_piece_locks", LogicalSource.server(), TestDatabases.target(), 100_000, 10);
        h.both("CREATE TABLE a (id int PRIMARY KEY, v int); CREATE TABLE b (id int PRIMARY KEY, v int)");
        h.createSlot();
        TestDatabases.execute(h.source, "INSERT INTO b SELECT g, g FROM generate_series(1, 10) g;"
                + " INSERT INTO a SELECT g, g FROM generate_series(1, 10) g");
        ExecutorService pushing = Executors.newSingleThreadExecutor();
        CompletableFuture<Integer> pushedPid = new CompletableFuture<>();
        List<Future<?>> pushed = new ArrayList<>();
        List<Integer> pieces = new ArrayList<>();
        TargetWriter between = new TargetWriter(h.target, new Sql("replicator"), "replicator",
                h.catalog::invalidate) {
            @Override
            public OpenWrite open(Collection<TableId> tables) {
                return beforeEachPiece(super.open(tables), changes -> {
                    if (pieces.size() == 1) {
                        pushed.add(pushing.submit(() -> pushLocks(h, pushedPid)));
                        awaitLockWait(h, pushedPid);
                    }
                    pieces.add(changes.size());
                });
            }
        };
        try {
            PullReport report = h.job(new LogicalSlot(h.source, h.settings), between, true).run("pieces",
                    PullRequest.DRAIN);

            assertEquals(List.of(10, 10), pieces, "one piece of b, then one of a");
            assertEquals(1, pushed.size());
            pushed.get(0).get(30, TimeUnit.SECONDS); // no deadlock on the pushed writer's side either
            assertTrue(report.done());
            assertEquals(20, report.applied());
        } finally {
            pushing.shutdownNow();
        }
        TableComparison.assertSameRows(h.source, h.target, "a", EnumSet.noneOf(DebeziumLoss.class));
        TableComparison.assertSameRows(h.source, h.target, "b", EnumSet.noneOf(DebeziumLoss.class));
    }

    /** A pushed writer's first statement: its tables' locks, shared and in name order; then its commit. */
    private static Void pushLocks(PullHarness h, CompletableFuture<Integer> pid) throws SQLException {
        try (Connection connection = h.target.getConnection()) {
            connection.setAutoCommit(false);
            try (Statement statement = connection.createStatement();
                    ResultSet rs = statement.executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                pid.complete(rs.getInt(1));
            }
            try (PreparedStatement lock = connection.prepareStatement(Sql.lockTables())) {
                lock.setArray(1, connection.createArrayOf("text", new Object[] { "public.a", "public.b" }));
                lock.setArray(2, connection.createArrayOf("bool", new Object[] { false, false }));
                lock.execute();
            }
            connection.commit();
            return null;
        }
    }

    /** Waits until the session of that pid waits for a lock. */
    private static void awaitLockWait(PullHarness h, CompletableFuture<Integer> pid) {
        try {
            int waiting = pid.get(10, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (PullHarness.count(h.target, "SELECT count(*) FROM pg_stat_activity WHERE pid = " + waiting
                    + " AND wait_event_type = 'Lock'") == 0) {
                assertTrue(System.nanoTime() < deadline, "the pushed writer never waited for a lock");
                Thread.sleep(10);
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A transaction still open on the source when the pull begins does not keep the pull waiting: it drains what was
     * committed, and the open transaction's changes come with the next pull once it commits.
     */
    @Test
    void aTransactionOpenOnTheSourceDoesNotHoldThePull() throws Exception {
        PullHarness h = harness("pull_open_tx");
        h.both("CREATE TABLE t (id int PRIMARY KEY, v int)");
        h.createSlot();
        TestDatabases.execute(h.source, "INSERT INTO t VALUES (1, 1)");
        try (Connection open = h.source.getConnection()) {
            open.setAutoCommit(false);
            try (Statement insert = open.createStatement()) {
                insert.execute("INSERT INTO t VALUES (2, 2)");
            }
            TestDatabases.execute(h.source, "INSERT INTO t VALUES (3, 3)");
            PullReport first = h.pull();
            assertTrue(first.done());
            assertEquals(2, first.applied());
            assertEquals(2, PullHarness.count(h.target, "SELECT count(*) FROM t"));
            open.commit();
        }
        PullReport second = h.pull();
        assertEquals(1, second.applied());
        TableComparison.assertSameRows(h.source, h.target, "t", EnumSet.noneOf(DebeziumLoss.class));
        assertEquals(0, h.pull().applied(), "an empty slot ends at once");
    }

    /**
     * A writer slower than the source's {@code wal_sender_timeout} (2 s here, on the reading session): while the
     * reading waits for the writer it keeps the source's sender alive, so the pull neither fails nor loses a change.
     */
    @Test
    void aWriterSlowerThanTheSendersTimeoutKeepsTheReadingAlive() throws Exception {
        PullHarness h = harness("pull_slow_writer", LogicalSource.server(), TestDatabases.target(), 100_000, 15);
        h.both("CREATE TABLE t (id int PRIMARY KEY, v int)");
        h.createSlot();
        for (int i = 0; i < 20; i++) {
            TestDatabases.execute(h.source, "INSERT INTO t SELECT g, g FROM generate_series(" + i * 10 + ", "
                    + (i * 10 + 9) + ") g");
        }
        PGSimpleDataSource impatient = TestDatabases.dataSource(LogicalSource.server(), h.settings.slot());
        impatient.setOptions("-c wal_sender_timeout=2s");
        AtomicInteger writes = new AtomicInteger();
        TargetWriter slow = new TargetWriter(h.target, new Sql("replicator"), "replicator", h.catalog::invalidate) {
            @Override
            public List<ChangeOutcome> writePulled(List<TargetChange> changes) {
                if (writes.getAndIncrement() == 0) {
                    try {
                        Thread.sleep(5000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return super.writePulled(changes);
            }
        };

        PullReport report = h.job(new LogicalSlot(impatient, h.settings), slow, true).run("slow", PullRequest.DRAIN);

        assertTrue(report.done());
        assertEquals(200, report.applied());
        assertEquals(10, writes.get(), "two source transactions of ten changes per group");
        TableComparison.assertSameRows(h.source, h.target, "t", EnumSet.noneOf(DebeziumLoss.class));
        assertEquals(currentLsnOfLastCommit(h), h.confirmedLsn(), "confirmed up to the last transaction's end");
    }

    private static long currentLsnOfLastCommit(PullHarness h) throws SQLException {
        PgOutputDecoder decoder = new PgOutputDecoder("check");
        long[] end = { -1 };
        new LogicalSlot(h.source, h.settings).peek(1000, (lsn, data) -> {
            if (decoder.decode(lsn, data) instanceof PgOutputMessage.Commit commit) {
                end[0] = commit.endLsn();
            }
            return true;
        });
        return end[0] < 0 ? h.confirmedLsn() : end[0];
    }

    private static long currentLsn(PullHarness h) {
        return PullHarness.count(h.source, "SELECT (pg_current_wal_lsn() - '0/0')::bigint");
    }

    /** The open transaction, running {@code before} with each piece before it is written. */
    private static OpenWrite beforeEachPiece(OpenWrite open, Consumer<List<TargetChange>> before) {
        return new OpenWrite() {
            @Override
            public List<ChangeOutcome> write(List<TargetChange> changes) {
                before.accept(changes);
                return open.write(changes);
            }

            @Override
            public void commit() {
                open.commit();
            }

            @Override
            public void close() {
                open.close();
            }
        };
    }
}
