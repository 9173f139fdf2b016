package dev.replicator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

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

/**
 * What the write order promises, observed on a real PostgreSQL: concurrent writers of the same rows never deadlock
 * whatever order their requests list the rows in, and key moves land and converge in any order.
 */
class WriteOrderTest {

    DataSource db;
    TargetTable items;
    TargetTable others;

    @BeforeEach
    void setUp() throws SQLException {
        db = TestDatabases.freshDatabase(TestDatabases.target(), "write_order_test");
        TestDatabases.execute(db, "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, note text);"
                + " CREATE TABLE others (id int PRIMARY KEY, name text NOT NULL)");
        try (Connection connection = db.getConnection()) {
            items = TargetCatalog.load(connection, new TableId("public", "items")).orElseThrow();
            others = TargetCatalog.load(connection, new TableId("public", "others")).orElseThrow();
        }
    }

    TargetWriter writer() {
        return new TargetWriter(db, new Sql("replicator"), "replicator", id -> {
        });
    }

    static TargetChange upsert(TargetTable table, int id, String name, long position) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("id", String.valueOf(id));
        values.put("name", name);
        return new TargetChange("u" + id + "@" + position, table, Operation.UPDATE, new Position(position, position),
                List.of(String.valueOf(id)), values, Set.of(), null, table.id().toString(), -1);
    }

    /** A key change as a batch carries it: a delete of the old key and a create of the new one at one position. */
    static List<TargetChange> move(TargetTable table, int from, int to, String name, long position) {
        TargetChange delete = new TargetChange("d" + from + "@" + position, table, Operation.DELETE,
                new Position(position, position), List.of(String.valueOf(from)), Map.of(), Set.of(), null,
                table.id().toString(), -1);
        Map<String, String> values = new LinkedHashMap<>();
        values.put("id", String.valueOf(to));
        values.put("name", name);
        TargetChange create = new TargetChange("c" + to + "@" + position, table, Operation.CREATE,
                new Position(position, position), List.of(String.valueOf(to)), values, Set.of(), null,
                table.id().toString(), -1);
        return List.of(delete, create);
    }

    long deadlocks() {
        return Long.parseLong(TestDatabases.copy(db,
                "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()").strip());
    }

    @Test
    void writersListingTheSameRowsInOppositeOrdersNeverDeadlock() throws Exception {
        long before = deadlocks();
        TargetWriter writer = writer();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 20; round++) {
                List<TargetChange> ascending = new ArrayList<>();
                List<TargetChange> descending = new ArrayList<>();
                for (int id = 1; id <= 40; id++) {
                    // both tables, both requests: each holds row locks the other wants, were they taken as listed
                    ascending.add(upsert(items, id, "a" + round, round * 100L + 1));
                    ascending.add(upsert(others, id, "a" + round, round * 100L + 1));
                    descending.add(0, upsert(items, id, "d" + round, round * 100L + 2));
                    descending.add(0, upsert(others, id, "d" + round, round * 100L + 2));
                }
                if (round % 2 == 1) {
                    // a key move makes the writer take this table one change at a time: the same order holds
                    descending.addAll(move(items, 1000 + round, 2000 + round, "moved", round * 100L + 2));
                }
                Future<?> a = pool.submit(() -> writer.write(ascending));
                Future<?> b = pool.submit(() -> writer.write(descending));
                a.get();
                b.get();
                assertEquals("d" + round + "\n", TestDatabases.copy(db, "SELECT DISTINCT name FROM items WHERE id <= 40"
                        + " UNION SELECT DISTINCT name FROM others"), "the newer request wins every row, round " + round);
            }
        } finally {
            pool.shutdownNow();
        }
        // the connections are closed; a backend reports its statistics as it exits
        Thread.sleep(1000);
        assertEquals(before, deadlocks(), "no transaction was ever chosen as a deadlock victim");
    }

    @Test
    void aKeyMoveKeepsTheColumnsTheEventDoesNotCarry() {
        TestDatabases.execute(db, "INSERT INTO items VALUES (1, 'a', 'target-only note')");
        List<ChangeOutcome> outcomes = writer().write(move(items, 1, 2, "a", 5));
        assertEquals(List.of(ChangeOutcome.Result.APPLIED, ChangeOutcome.Result.APPLIED),
                outcomes.stream().map(ChangeOutcome::result).toList());
        assertEquals("2\ta\ttarget-only note\n", TestDatabases.copy(db, "SELECT * FROM items"),
                "the row moved to its new key instead of being deleted and created again");
    }

    /**
     * The source's key changed in a column the target's key does not have (source key (tenant, id), target key (id)):
     * a delete and a create of the same target key at one position. The row stays, with the create's values.
     */
    @Test
    void aKeyChangeThatKeepsTheTargetKeyKeepsTheRowInABatch() {
        TestDatabases.execute(db, "INSERT INTO items VALUES (5, 'a', 'target-only note')");
        List<ChangeOutcome> outcomes = writer().write(move(items, 5, 5, "b", 7));
        assertEquals(List.of(ChangeOutcome.Result.SUPERSEDED, ChangeOutcome.Result.APPLIED),
                outcomes.stream().map(ChangeOutcome::result).toList());
        assertEquals("5\tb\ttarget-only note\n", TestDatabases.copy(db, "SELECT * FROM items"));
    }

    @Test
    void aKeyChangeThatKeepsTheTargetKeyKeepsTheRowAsSingleEventsInEitherOrder() {
        for (boolean deleteFirst : List.of(true, false)) {
            TestDatabases.execute(db, "DROP SCHEMA IF EXISTS replicator CASCADE; TRUNCATE items");
            TargetWriter writer = writer();
            writer.write(List.of(upsert(items, 5, "a", 3)));
            List<TargetChange> halves = move(items, 5, 5, "b", 7);
            writer.write(List.of(halves.get(deleteFirst ? 0 : 1)));
            writer.write(List.of(halves.get(deleteFirst ? 1 : 0)));
            writer.write(List.of(halves.get(0))); // a redelivery of the delete
            assertEquals("5\tb\n", TestDatabases.copy(db, "SELECT id, name FROM items"), "delete first: " + deleteFirst);
        }
    }

    /**
     * With Debezium's new-key header the delete names the key it moves to, here its own; the create may leave out an
     * unchanged TOASTed column, which the row keeps.
     */
    @Test
    void aKeyChangeThatKeepsTheTargetKeyKeepsTheColumnsTheCreateDoesNotCarry() {
        TestDatabases.execute(db, "INSERT INTO items VALUES (5, 'a', 'long unchanged text')");
        TargetChange delete = new TargetChange("d5@7", items, Operation.DELETE, new Position(7, 7), List.of("5"),
                Map.of(), Set.of(), List.of("5"), items.id().toString(), -1);
        Map<String, String> values = new LinkedHashMap<>();
        values.put("id", "5");
        values.put("name", "b");
        TargetChange create = new TargetChange("c5@7", items, Operation.CREATE, new Position(7, 7), List.of("5"),
                values, Set.of("note"), null, items.id().toString(), -1);
        TargetWriter writer = writer();
        assertEquals(ChangeOutcome.Result.SUPERSEDED, writer.write(List.of(delete)).get(0).result());
        assertEquals("5\ta\tlong unchanged text\n", TestDatabases.copy(db, "SELECT * FROM items"),
                "the delete alone leaves the row");
        assertEquals(ChangeOutcome.Result.APPLIED, writer.write(List.of(create)).get(0).result());
        assertEquals("5\tb\tlong unchanged text\n", TestDatabases.copy(db, "SELECT * FROM items"));
        // the same delete delivered again on its own, without its header: below the create at its position
        assertEquals(ChangeOutcome.Result.STALE, writer.write(List.of(move(items, 5, 5, "b", 7).get(0))).get(0)
                .result());
        assertEquals("5\tb\tlong unchanged text\n", TestDatabases.copy(db, "SELECT * FROM items"));
    }

    @Test
    void aKeyMovedBackAndForthConvergesInAnyOrderAndAnySplit() {
        List<TargetChange> history = new ArrayList<>();
        history.add(upsert(items, 1, "v1", 1));
        history.addAll(move(items, 1, 2, "v2", 2));
        history.addAll(move(items, 2, 1, "v3", 3));
        history.addAll(move(items, 1, 2, "v4", 4));
        history.add(upsert(items, 2, "v5", 5));
        history.add(upsert(items, 3, "w1", 6));
        history.addAll(move(items, 3, 3, "w2", 8)); // the target's key stays
        Random random = new Random(15);
        for (int trial = 0; trial < 30; trial++) {
            TestDatabases.execute(db, "DROP SCHEMA IF EXISTS replicator CASCADE; TRUNCATE items");
            TargetWriter writer = writer();
            List<TargetChange> shuffled = new ArrayList<>(history);
            Collections.shuffle(shuffled, random);
            // requests of 1 to all changes; a move's two halves may land in different requests
            for (int from = 0; from < shuffled.size();) {
                int to = Math.min(shuffled.size(), from + 1 + random.nextInt(shuffled.size()));
                List<TargetChange> request = shuffled.subList(from, to);
                writer.write(request);
                if (random.nextBoolean()) {
                    writer.write(request); // a redelivery
                }
                from = to;
            }
            assertEquals("2\tv5\n3\tw2\n", TestDatabases.copy(db, "SELECT id, name FROM items ORDER BY id"),
                    "trial " + trial + ": " + shuffled.stream().map(TargetChange::eventId).toList());
        }
    }
}
