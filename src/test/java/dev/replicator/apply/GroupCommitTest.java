package dev.replicator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import javax.sql.DataSource;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.replicator.decode.Operation;
import dev.replicator.decode.Position;
import dev.replicator.decode.TableId;
import dev.replicator.route.TargetCatalog;
import dev.replicator.route.TargetChange;
import dev.replicator.route.TargetTable;
import dev.replicator.testing.TestDatabases;

/**
 * Group commit against a real PostgreSQL, with one writer held behind the table's lock so that the requests queued
 * meanwhile are known to form one group.
 */
class GroupCommitTest {

    DataSource db;
    TargetTable codes;
    GroupCommit groupCommit;
    AtomicInteger committedGroups = new AtomicInteger();
    ExecutorService clients = Executors.newFixedThreadPool(4);

    @BeforeEach
    void setUp() throws SQLException {
        db = TestDatabases.freshDatabase(TestDatabases.target(), "group_commit_test");
        // a constraint checked only at commit: no statement can name the change that breaks it
        TestDatabases.execute(db, "CREATE TABLE codes (id int PRIMARY KEY, code int NOT NULL,"
                + " CONSTRAINT one_per_code UNIQUE (code) DEFERRABLE INITIALLY DEFERRED)");
        try (Connection connection = db.getConnection()) {
            codes = TargetCatalog.load(connection, new TableId("public", "codes")).orElseThrow();
        }
        groupCommit = groupCommit(1, Duration.ofMillis(1));
    }

    GroupCommit groupCommit(int writers, Duration maxWait) {
        return groupCommit(writers, maxWait, maxWait, new CpuContention());
    }

    GroupCommit groupCommit(int writers, Duration maxWait, Duration maxWaitCpuBound, CpuContention contention) {
        TargetWriter writer = new TargetWriter(db, new Sql("replicator"), "replicator", id -> {
        });
        return new GroupCommit(writer, new GroupCommit.Settings(writers, 1000, maxWait, maxWaitCpuBound, 1000),
                new GroupCommit.Listener() {
                    @Override
                    public void committed(int requests, int changes) {
                        committedGroups.incrementAndGet();
                    }

                    @Override
                    public void refused(int changes) {
                    }
                }, contention);
    }

    @AfterEach
    void tearDown() {
        groupCommit.close();
        clients.shutdownNow();
    }

    TargetChange row(int id, int code) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("id", String.valueOf(id));
        values.put("code", String.valueOf(code));
        return new TargetChange("e" + id, codes, Operation.CREATE, new Position(id, 1), List.of(String.valueOf(id)),
                values, Set.of(), null, "public.codes", -1);
    }

    @Test
    void aFailureAtCommitIsPinnedOnItsRequestByWritingEachAlone() throws Exception {
        List<CompletableFuture<List<ChangeOutcome>>> requests = new ArrayList<>();
        CompletableFuture<List<ChangeOutcome>> first;
        try (Connection holder = lockTable()) {
            first = submit(List.of(row(1, 1)));
            waitUntil(() -> groupCommit.writing() == 1);
            // queued one after the other, so that "the second with code 7" is well defined
            requests.add(submit(List.of(row(2, 7), row(3, 8))));
            waitUntil(() -> groupCommit.queued() == 1);
            requests.add(submit(List.of(row(4, 7)))); // the second row with code 7: refused at commit
            waitUntil(() -> groupCommit.queued() == 2);
            requests.add(submit(List.of(row(5, 9))));
            waitUntil(() -> groupCommit.queued() == 3);
            holder.commit();
        }
        assertEquals(1, first.get().size());
        assertTrue(requests.get(0).get().stream().allMatch(ChangeOutcome::applied));
        ExecutionException refused = assertThrows(ExecutionException.class,
                () -> requests.get(1).get());
        assertInstanceOf(RejectedChangeException.class, refused.getCause());
        assertTrue(requests.get(2).get().get(0).applied());
        assertEquals("1\t1\n2\t7\n3\t8\n5\t9\n", TestDatabases.copy(db, "SELECT id, code FROM codes ORDER BY id"));
        assertEquals(3, committedGroups.get(), "the first alone, then the two good requests each alone");
    }

    @Test
    void whileOneGroupIsWrittenTheNextGathersAndGoesWhenItCommitsNotAtItsLongestWait() throws Exception {
        groupCommit.close();
        groupCommit = groupCommit(2, Duration.ofSeconds(60));
        List<CompletableFuture<List<ChangeOutcome>>> requests = new ArrayList<>();
        CompletableFuture<List<ChangeOutcome>> first;
        try (Connection holder = lockTable()) {
            first = submit(List.of(row(1, 1)));
            waitUntil(() -> groupCommit.writing() == 1);
            // the second writer takes a request and sleeps for more (given time to get there: a writer that has not yet
            // found the queue empty takes what is in it, and the two below would not wait in the queue)
            requests.add(submit(List.of(row(2, 2))));
            waitUntil(() -> groupCommit.inFlight() == 2 && groupCommit.queued() == 0);
            Thread.sleep(50);
            for (int id = 3; id <= 4; id++) {
                requests.add(submit(List.of(row(id, id))));
            }
            // the others wait in the queue while it sleeps
            waitUntil(() -> groupCommit.queued() == 2);
            Thread.sleep(100);
            assertEquals(1, groupCommit.writing(), "the next group waits while the first is being written");
            holder.commit();
        }
        assertTrue(first.get(10, TimeUnit.SECONDS).get(0).applied());
        for (CompletableFuture<List<ChangeOutcome>> request : requests) {
            assertTrue(request.get(10, TimeUnit.SECONDS).get(0).applied(), "written once the first group committed");
        }
        waitUntil(() -> groupCommit.writing() == 0); // a group is counted just after its requests are answered
        assertEquals(2, committedGroups.get(), "the first alone, then the three gathered meanwhile together");
    }

    @Test
    void whileTheWritersWaitForCpusAGroupWaitsForTheOneBeingWrittenLongerThanMaxWait() throws Exception {
        CpuContention cpuBound = new CpuContention();
        for (int i = 0; i < 50; i++) {
            cpuBound.record(1, 1); // groups whose writers waited for a CPU all the time
        }
        groupCommit.close();
        groupCommit = groupCommit(2, Duration.ofMillis(1), Duration.ofSeconds(60), cpuBound);
        CompletableFuture<List<ChangeOutcome>> first;
        CompletableFuture<List<ChangeOutcome>> second;
        try (Connection holder = lockTable()) {
            first = submit(List.of(row(1, 1)));
            waitUntil(() -> groupCommit.writing() == 1);
            second = submit(List.of(row(2, 2)));
            waitUntil(() -> groupCommit.queued() == 0);
            Thread.sleep(100); // a hundred times max-wait
            assertEquals(1, groupCommit.writing(), "the next group waits for the one being written");
            holder.commit();
        }
        assertTrue(first.get(10, TimeUnit.SECONDS).get(0).applied());
        assertTrue(second.get(10, TimeUnit.SECONDS).get(0).applied(), "written once the first group committed");
        waitUntil(() -> groupCommit.writing() == 0);
        assertEquals(2, committedGroups.get());
    }

    @Test
    void theWaitWhenCpuBoundIsNeverShorterThanMaxWait() {
        assertEquals(Duration.ofMillis(20),
                new GroupCommit.Settings(1, 1, Duration.ofMillis(20), Duration.ofMillis(10), 1).maxWaitCpuBound());
        assertEquals(Duration.ofMillis(10),
                new GroupCommit.Settings(1, 1, Duration.ofMillis(1), Duration.ofMillis(10), 1).maxWaitCpuBound());
    }

    @Test
    void aGroupWaitsForTheOneBeingWrittenAtMostItsLongestWaitThenIsWrittenBesideIt() throws Exception {
        groupCommit.close();
        // the writers have not waited for CPUs: the longer wait for that case does not apply
        groupCommit = groupCommit(2, Duration.ofMillis(50), Duration.ofSeconds(60), new CpuContention());
        CompletableFuture<List<ChangeOutcome>> first;
        CompletableFuture<List<ChangeOutcome>> second;
        try (Connection holder = lockTable()) {
            first = submit(List.of(row(1, 1)));
            waitUntil(() -> groupCommit.writing() == 1);
            second = submit(List.of(row(2, 2)));
            // the target is slower than the longest wait: both groups are written side by side
            waitUntil(() -> groupCommit.writing() == 2);
            holder.commit();
        }
        assertTrue(first.get(10, TimeUnit.SECONDS).get(0).applied());
        assertTrue(second.get(10, TimeUnit.SECONDS).get(0).applied());
        waitUntil(() -> groupCommit.writing() == 0);
        assertEquals(2, committedGroups.get());
    }

    @Test
    void aChangeThatMustWaitForItsRowFailsOnlyItsOwnRequest() throws Exception {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("id", "9");
        // the code was not sent (an unchanged TOAST value) and row 9 does not exist yet: 409, retried later
        TargetChange early = new TargetChange("early", codes, Operation.UPDATE, new Position(9, 1), List.of("9"), values,
                Set.of("code"), null, "public.codes", -1);
        List<CompletableFuture<List<ChangeOutcome>>> requests = new ArrayList<>();
        CompletableFuture<List<ChangeOutcome>> first;
        try (Connection holder = lockTable()) {
            first = submit(List.of(row(1, 1)));
            waitUntil(() -> groupCommit.writing() == 1);
            requests.add(submit(List.of(row(2, 2))));
            requests.add(submit(List.of(early)));
            requests.add(submit(List.of(row(3, 3))));
            waitUntil(() -> groupCommit.queued() == 3);
            holder.commit();
        }
        assertTrue(first.get().get(0).applied());
        assertTrue(requests.get(0).get().get(0).applied());
        ExecutionException waiting = assertThrows(ExecutionException.class, () -> requests.get(1).get());
        assertEquals(409, assertInstanceOf(TargetUnavailableException.class, waiting.getCause()).status());
        assertTrue(requests.get(2).get().get(0).applied());
        assertEquals("1\t1\n2\t2\n3\t3\n", TestDatabases.copy(db, "SELECT id, code FROM codes ORDER BY id"));
        assertEquals(2, committedGroups.get(), "the first alone, then its two neighbours together without it");
    }

    @Test
    void aParkingRequestLosesOnlyItsRefusedChangeWhichItKeepsInTheSameTransaction() throws Exception {
        TestDatabases.execute(db, "CREATE TABLE kept (event_id text)");
        Map<String, String> values = new LinkedHashMap<>();
        values.put("id", "3");
        values.put("code", null); // NOT NULL: refused by the statement that writes it
        TargetChange refused = new TargetChange("e3", codes, Operation.CREATE, new Position(3, 1), List.of("3"), values,
                Set.of(), null, "public.codes", -1);
        GroupCommit.Parking parking = new GroupCommit.Parking() {
            @Override
            public boolean hasParked() {
                return false;
            }

            @Override
            public void park(Connection connection, List<GroupCommit.Refusal> refusedByTarget) throws SQLException {
                try (PreparedStatement insert = connection.prepareStatement("INSERT INTO kept VALUES (?)")) {
                    for (GroupCommit.Refusal refusal : refusedByTarget) {
                        insert.setString(1, refusal.change().eventId());
                        insert.executeUpdate();
                    }
                }
            }
        };
        CompletableFuture<List<ChangeOutcome>> first;
        CompletableFuture<GroupCommit.Tolerated> tolerant;
        CompletableFuture<List<ChangeOutcome>> neighbour;
        try (Connection holder = lockTable()) {
            first = submit(List.of(row(1, 1)));
            waitUntil(() -> groupCommit.writing() == 1);
            tolerant = CompletableFuture.supplyAsync(() -> groupCommit.writeParking(List.of(row(2, 2), refused),
                    parking), clients);
            waitUntil(() -> groupCommit.queued() == 1);
            neighbour = submit(List.of(row(4, 4)));
            waitUntil(() -> groupCommit.queued() == 2);
            holder.commit();
        }
        assertTrue(first.get().get(0).applied());
        GroupCommit.Tolerated result = tolerant.get();
        assertEquals(1, result.outcomes().size());
        assertTrue(result.outcomes().get(0).applied());
        assertEquals(List.of(refused), result.refused().stream().map(GroupCommit.Refusal::change).toList());
        assertTrue(neighbour.get().get(0).applied());
        assertEquals("1\t1\n2\t2\n4\t4\n", TestDatabases.copy(db, "SELECT id, code FROM codes ORDER BY id"));
        assertEquals("e3\n", TestDatabases.copy(db, "SELECT event_id FROM kept"));
        assertEquals(2, committedGroups.get(), "the first alone, then both requests together");
    }

    private Connection lockTable() throws SQLException {
        Connection holder = db.getConnection();
        holder.setAutoCommit(false);
        try (PreparedStatement lock = holder.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
            lock.setString(1, "public.codes");
            lock.execute();
        }
        return holder;
    }

    private CompletableFuture<List<ChangeOutcome>> submit(List<TargetChange> changes) {
        return CompletableFuture.supplyAsync(() -> groupCommit.write(changes), clients);
    }

    private static void waitUntil(BooleanSupplier state) throws InterruptedException {
        for (int i = 0; i < 6000 && !state.getAsBoolean(); i++) {
            Thread.sleep(5);
        }
        if (!state.getAsBoolean()) {
            throw new AssertionError("the expected state was not reached within 30 s");
        }
    }
}
