package dev.replicator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import javax.sql.DataSource;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.replicator.decode.Operation;
import dev.replicator.decode.Position;
import dev.replicator.decode.TableId;
import dev.replicator.route.TargetCatalog;
import dev.replicator.route.TargetChange;
import dev.replicator.route.TargetTable;
import dev.replicator.testing.TestDatabases;

/** Lock, then read: a refresh against a real PostgreSQL never loses a streamed change and never lowers a position. */
class RefreshWriterTest {

    static final Position READ_AT = new Position(0, 100);

    DataSource db;
    TargetTable items;
    TargetWriter writer;
    RefreshWriter refresher;

    @BeforeEach
    void setUp() throws SQLException {
        db = TestDatabases.freshDatabase(TestDatabases.target(), "refresh_test");
        TestDatabases.execute(db, "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)");
        try (Connection connection = db.getConnection()) {
            items = TargetCatalog.load(connection, new TableId("public", "items")).orElseThrow();
        }
        Sql sql = new Sql("replicator");
        writer = new TargetWriter(db, sql, "replicator", id -> {
        });
        refresher = new RefreshWriter(sql, writer);
    }

    TargetChange row(int id, String name, Position position) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("id", String.valueOf(id));
        values.put("name", name);
        return new TargetChange("e-" + name, items, Operation.UPDATE, position, List.of(String.valueOf(id)), values,
                Set.of(), null, "public.items", -1);
    }

    String rows() {
        return TestDatabases.copy(db, "SELECT id, name FROM items ORDER BY id");
    }

    String position(int id) {
        return TestDatabases.copy(db, "SELECT commit_pos, change_pos, deleted FROM replicator.row_position"
                + " WHERE row_key = '{" + id + "}'").trim();
    }

    @Test
    void aStreamedChangeArrivingDuringTheReadWaitsForTheLockAndWins() throws Exception {
        writer.write(List.of(row(1, "old", new Position(5, 5))));
        List<CompletableFuture<List<ChangeOutcome>>> streamed = new ArrayList<>();
        RefreshWriter.Outcome outcome = refresher.refresh(items, List.of(List.of("1")), null, keys -> {
            // the source row as read now; the stream's next change of it is committed at the source after this read
            streamed.add(CompletableFuture.supplyAsync(() -> writer.write(List.of(row(1, "streamed",
                    new Position(7, 7))))));
            awaitLockWait();
            return new RefreshWriter.SourceRows(List.of(row(1, "read", READ_AT)), READ_AT);
        });
        assertEquals(new RefreshWriter.Outcome(1, 0, 0), outcome);
        assertTrue(streamed.get(0).get().get(0).applied(), "the streamed change applies after the refresh");
        assertEquals("1\tstreamed\n", rows());
        assertEquals("7\t7\tf", position(1));
    }

    @Test
    void aRefreshKeepsTheRecordedPositionAndSkipsAStaleFloor() {
        writer.write(List.of(row(1, "old", new Position(5, 5))));
        RefreshWriter.Outcome stale = refresher.refresh(items, List.of(List.of("1")), new Position(3, 3),
                keys -> new RefreshWriter.SourceRows(List.of(row(1, "read", READ_AT)), READ_AT));
        assertEquals(new RefreshWriter.Outcome(0, 0, 1), stale);
        assertEquals("1\told\n", rows());

        refresher.refresh(items, List.of(List.of("1")), null,
                keys -> new RefreshWriter.SourceRows(List.of(row(1, "read", READ_AT)), READ_AT));
        assertEquals("1\tread\n", rows());
        assertEquals("5\t5\tf", position(1), "a refresh never lowers a streamed position");
        assertTrue(writer.write(List.of(row(1, "next", new Position(6, 6)))).get(0).applied());
    }

    @Test
    void aRowTheSourceNoLongerHasIsDeletedAndStaysDeleted() {
        writer.write(List.of(row(2, "old", new Position(5, 5))));
        List<String> key = List.of("2");
        List<TargetChange> gone = new ArrayList<>();
        gone.add(null);
        RefreshWriter.Outcome outcome = refresher.refresh(items, List.of(key, key), null,
                keys -> new RefreshWriter.SourceRows(gone, READ_AT));
        assertEquals(new RefreshWriter.Outcome(0, 1, 0), outcome, "a key asked for twice is refreshed once");
        assertEquals("", rows());
        assertEquals("5\t5\tt", position(2));
        assertTrue(!writer.write(List.of(row(2, "older", new Position(4, 4)))).get(0).applied());
        assertEquals("", rows());
    }

    /** Until another session waits on a lock in this database (the streamed change on the refresh's row lock). */
    private void awaitLockWait() {
        for (int i = 0; i < 3000; i++) {
            String waiting = TestDatabases.copy(db, "SELECT count(*) FROM pg_stat_activity WHERE datname ="
                    + " current_database() AND wait_event_type = 'Lock'").trim();
            if (!waiting.equals("0")) {
                return;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        throw new AssertionError("the streamed change never waited for the refresh's lock");
    }
}
