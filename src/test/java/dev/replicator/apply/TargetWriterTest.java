package dev.replicator.apply;

import static dev.replicator.apply.ChangeOutcome.Result.APPLIED;
import static dev.replicator.apply.ChangeOutcome.Result.STALE;
import static dev.replicator.apply.ChangeOutcome.Result.SUPERSEDED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

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

/** The fenced writer against a real PostgreSQL: order does not matter, a dropped connection leaves no trace. */
class TargetWriterTest {

    DataSource db;
    TargetTable items;
    TargetWriter writer;

    @BeforeEach
    void setUp() throws SQLException {
        db = TestDatabases.freshDatabase(TestDatabases.target(), "writer_test");
        TestDatabases.execute(db, "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, note text)");
        try (Connection connection = db.getConnection()) {
            items = TargetCatalog.load(connection, new TableId("public", "items")).orElseThrow();
        }
        writer = new TargetWriter(db, new Sql("replicator"), "replicator", id -> {
        });
    }

    TargetChange upsert(int id, String name, long position) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("id", String.valueOf(id));
        values.put("name", name);
        return new TargetChange("e" + position, items, Operation.UPDATE, new Position(position, position),
                List.of(String.valueOf(id)), values, Set.of(), null, "public.items", -1);
    }

    TargetChange delete(int id, long position) {
        return new TargetChange("d" + position, items, Operation.DELETE, new Position(position, position),
                List.of(String.valueOf(id)), Map.of(), Set.of(), null, "public.items", -1);
    }

    TargetChange truncate(long position) {
        return new TargetChange("t" + position, items, Operation.TRUNCATE, new Position(position, position),
                List.of(), Map.of(), Set.of(), null, "public.items", -1);
    }

    /** A create of row {@code id} without its NOT NULL name: the target refuses it. Event id {@code bad-<id>}. */
    static TargetChange withoutName(TargetTable table, int id, long position) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("id", String.valueOf(id));
        values.put("name", null);
        return new TargetChange("bad-" + id, table, Operation.CREATE, new Position(position, position),
                List.of(String.valueOf(id)), values, Set.of(), null, table.id().toString(), -1);
    }

    String rows() {
        return TestDatabases.copy(db, "SELECT id, name FROM items ORDER BY id");
    }

    @Test
    void everyOrderOfTheSameChangesEndsInTheSameState() {
        List<TargetChange> history = List.of(upsert(1, "a1", 1), upsert(2, "b1", 2), upsert(1, "a2", 3),
                delete(2, 4), truncate(5), upsert(3, "c1", 6), upsert(1, "a3", 7), delete(3, 8), upsert(3, "c2", 9));
        List<List<TargetChange>> orders = List.of(history, reversed(history),
                List.of(history.get(4), history.get(8), history.get(0), history.get(7), history.get(2),
                        history.get(1), history.get(6), history.get(3), history.get(5)));
        for (List<TargetChange> order : orders) {
            TestDatabases.execute(db, "DROP SCHEMA IF EXISTS replicator CASCADE; TRUNCATE items");
            writer = new TargetWriter(db, new Sql("replicator"), "replicator", id -> {
            });
            for (TargetChange change : order) {
                writer.write(List.of(change));
                writer.write(List.of(change)); // and again: a redelivery
            }
            assertEquals("1\ta3\n3\tc2\n", rows(), "order " + order.stream().map(TargetChange::eventId).toList());
        }
    }

    @Test
    void aConnectionDroppedMidwayIsRetriedOnANewConnection() {
        writer.write(List.of(upsert(1, "before", 1)));
        AtomicInteger statements = new AtomicInteger();
        TargetWriter flaky = new TargetWriter(dropping(db, 2, statements, false), new Sql("replicator"), "replicator",
                id -> {
                });
        // row 1 is deleted and created again: two rounds, so two statements in the transaction
        List<TargetChange> batch = List.of(upsert(1, "after", 2), upsert(2, "new", 3), delete(1, 4),
                upsert(4, "x", 5), upsert(1, "again", 6));
        List<ChangeOutcome> outcomes = flaky.write(batch);
        assertTrue(statements.get() > 2, "the first connection broke in the middle of the batch");
        assertEquals(List.of(SUPERSEDED, APPLIED, APPLIED, APPLIED, APPLIED), results(outcomes));
        assertEquals("1\tagain\n2\tnew\n4\tx\n", rows());
    }

    @Test
    void aDatabaseThatKeepsDroppingConnectionsIsA503AndCommitsNothing() {
        writer.write(List.of(upsert(1, "before", 1)));
        TargetWriter broken = new TargetWriter(dropping(db, 2, new AtomicInteger(), true), new Sql("replicator"),
                "replicator", id -> {
                });
        List<TargetChange> batch = List.of(upsert(1, "after", 2), upsert(2, "new", 3), delete(1, 4),
                upsert(4, "x", 5), upsert(1, "again", 6));
        TargetUnavailableException failure = assertThrows(TargetUnavailableException.class, () -> broken.write(batch));
        assertEquals(503, failure.status());
        assertEquals("1\tbefore\n", rows(), "nothing of the failed batch is visible");

        writer.write(batch); // the broker's redelivery, once the database is back
        assertEquals("1\tagain\n2\tnew\n4\tx\n", rows());
    }

    @Test
    void rejectedDataNamesTheEventButNotTheValues() {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("id", "9");
        values.put("name", null);
        TargetChange bad = new TargetChange("bad-1", items, Operation.CREATE, new Position(1, 1), List.of("9"), values,
                Set.of(), null, "public.items", -1);
        RejectedChangeException e = assertThrows(RejectedChangeException.class, () -> writer.write(List.of(bad)));
        assertTrue(e.getMessage().contains("bad-1"), e.getMessage());
        assertTrue(e.getMessage().contains("not-null"), e.getMessage());
        assertEquals("", rows());
    }

    @Test
    void unsentColumnsKeepTheirValueAndAMissingRowWaitsForItsCreate() {
        writer.write(List.of(upsert(1, "kept", 1)));
        Map<String, String> values = new LinkedHashMap<>();
        values.put("id", "1");
        values.put("note", "n2");
        TargetChange toast = new TargetChange("u2", items, Operation.UPDATE, new Position(2, 2), List.of("1"), values,
                Set.of("name"), null, "public.items", -1);
        writer.write(List.of(toast));
        assertEquals("1\tkept\tn2\n", TestDatabases.copy(db, "SELECT id, name, note FROM items"));

        Map<String, String> orphan = new LinkedHashMap<>();
        orphan.put("id", "9");
        orphan.put("note", "x");
        TargetChange early = new TargetChange("u9", items, Operation.UPDATE, new Position(3, 3), List.of("9"), orphan,
                Set.of("name"), null, "public.items", -1);
        TargetUnavailableException wait = assertThrows(TargetUnavailableException.class,
                () -> writer.write(List.of(early)));
        assertEquals(409, wait.status(), "retryable: the create of row 9 may still be on its way");
        assertTrue(wait.getMessage().contains("[name]"), wait.getMessage());
    }

    @Test
    void multiRowStatementsGiveTheSameRowsAsChangeByChangeAndWriteEachRowOnce() {
        writer.write(List.of(upsert(1, "old", 10), upsert(3, "keep", 10)));
        // several changes of one row, a stale one, a delete and re-create, out of order within the request
        List<TargetChange> batch = List.of(upsert(2, "b1", 3), upsert(1, "stale", 5), delete(2, 4), upsert(1, "a2", 11),
                upsert(2, "b2", 6), upsert(4, "d1", 7), delete(3, 12), upsert(1, "a3", 13), upsert(2, "b2", 6));
        List<String> prepared = new ArrayList<>();
        List<ChangeOutcome> outcomes = new TargetWriter(recording(db, prepared), new Sql("replicator"), "replicator",
                id -> {
                }).write(batch);

        Sql sql = new Sql("replicator");
        String many = sql.claimRows(items, List.of("id", "name"));
        String one = sql.claimRows(items, List.of("id", "name"), true);
        assertEquals(List.of(many, one), prepared.stream().filter(t -> t.contains(many) || t.contains(one))
                .map(t -> t.contains(many) ? many : one).toList(),
                "two rounds (row 2 is deleted and created again), not one statement per change; the second, of one"
                        + " change, in the one-change form: " + prepared);

        assertEquals("1\ta3\n2\tb2\n4\td1\n", rows());
        // row 1: a3 is written in place of the two before it; row 2: the delete, then b2 re-creates the row
        assertEquals(List.of(SUPERSEDED, SUPERSEDED, APPLIED, SUPERSEDED, APPLIED, APPLIED, APPLIED, APPLIED, STALE),
                results(outcomes), "in the order given; the duplicate is stale");
        assertEquals(batch, outcomes.stream().map(ChangeOutcome::change).toList());
        assertEquals("public.items\t{1}\t13\tf\npublic.items\t{2}\t6\tf\npublic.items\t{3}\t12\tt\n"
                + "public.items\t{4}\t7\tf\n", TestDatabases.copy(db,
                        "SELECT table_name, row_key, commit_pos, deleted FROM replicator.row_position ORDER BY row_key"));
    }

    @Test
    void aRowChangedManyTimesInOneBatchIsWrittenOnce() {
        List<TargetChange> batch = new ArrayList<>();
        for (int position = 1; position <= 300; position++) {
            batch.add(upsert(1, "v" + position, position));
        }
        List<ChangeOutcome> outcomes = writer.write(batch);
        assertEquals("1\tv300\n", rows());
        // one version of the row and of its position record: neither was rewritten 300 times in the transaction
        assertEquals("(0,1)\n", TestDatabases.copy(db, "SELECT ctid FROM items"));
        assertEquals("(0,1)\n", TestDatabases.copy(db, "SELECT ctid FROM replicator.row_position"));
        assertEquals(APPLIED, outcomes.get(299).result());
        assertTrue(outcomes.subList(0, 299).stream().allMatch(o -> o.result() == SUPERSEDED), results(outcomes)::toString);
    }

    @Test
    void whenTheNewestChangeOfARowIsStaleSoAreTheOnesItStandsFor() {
        writer.write(List.of(upsert(1, "held", 10)));
        List<ChangeOutcome> outcomes = writer.write(List.of(upsert(1, "x", 3), delete(1, 4), upsert(1, "y", 5)));
        assertEquals(List.of(STALE, STALE, STALE), results(outcomes));
        assertEquals("1\theld\n", rows());
    }

    @Test
    void aRowDeletedAndCreatedAgainInOneBatchLosesColumnsTheEventsDoNotCarry() {
        // note is a target-only column here: a re-created row gets its default, as it would change by change
        TestDatabases.execute(db, "INSERT INTO items VALUES (1, 'a', 'old note'), (2, 'b', 'kept note')");
        List<ChangeOutcome> outcomes = writer.write(List.of(upsert(1, "a1", 3), delete(1, 4), upsert(1, "a2", 5),
                upsert(1, "a3", 6), upsert(2, "b1", 7), upsert(2, "b2", 8)));
        assertEquals("1\ta3\t\\N\n2\tb2\tkept note\n", TestDatabases.copy(db, "SELECT * FROM items ORDER BY id"));
        assertEquals(List.of(SUPERSEDED, APPLIED, SUPERSEDED, APPLIED, SUPERSEDED, APPLIED), results(outcomes));
    }

    @Test
    void changesOfARowWithDifferentColumnsAreAllWritten() {
        // a column dropped from the source mid-batch: the value the history last gave it stays
        Map<String, String> withNote = new LinkedHashMap<>();
        withNote.put("id", "1");
        withNote.put("name", "a1");
        withNote.put("note", "n1");
        TargetChange first = new TargetChange("w1", items, Operation.CREATE, new Position(1, 1), List.of("1"), withNote,
                Set.of(), null, "public.items", -1);
        List<ChangeOutcome> outcomes = writer.write(List.of(first, upsert(1, "a2", 2)));
        assertEquals(List.of(APPLIED, APPLIED), results(outcomes));
        assertEquals("1\ta2\tn1\n", TestDatabases.copy(db, "SELECT * FROM items"));
    }

    static List<ChangeOutcome.Result> results(List<ChangeOutcome> outcomes) {
        return outcomes.stream().map(ChangeOutcome::result).toList();
    }

    @Test
    void aRefusedRowInAMultiRowStatementStillNamesItsEvent() {
        TargetChange bad = withoutName(items, 9, 2);
        RejectedChangeException e = assertThrows(RejectedChangeException.class,
                () -> writer.write(List.of(upsert(1, "a", 1), bad, upsert(3, "c", 3))));
        assertTrue(e.getMessage().contains("bad-9"), e.getMessage());
        assertEquals("bad-9", e.eventId());
        assertEquals("", rows());
    }

    @Test
    void aWriteCommitsWithItsLastStatementUnlessMoreWorkFollowsInItsTransaction() throws SQLException {
        List<Boolean> openAtCommit = new ArrayList<>();
        TargetWriter committing = new TargetWriter(committing(db, openAtCommit), new Sql("replicator"), "replicator",
                id -> {
                });
        committing.write(List.of(upsert(1, "a", 1), delete(2, 2), upsert(3, "c", 3)));
        assertEquals(List.of(false), openAtCommit, "the last statement took the commit along: nothing was left open");
        assertEquals("1\ta\n3\tc\n", rows());

        // work in the same transaction after the changes (a backfill checkpoint) keeps the commit for the end
        TestDatabases.execute(db, "CREATE TABLE marks (n int)");
        committing.write(List.of(upsert(4, "d", 4)), connection -> {
            try (var statement = connection.createStatement()) {
                statement.execute("INSERT INTO marks VALUES (1)");
            }
        });
        assertEquals(List.of(false, true), openAtCommit);
        assertEquals("1\ta\n3\tc\n4\td\n", rows());
        assertEquals("1\n", TestDatabases.copy(db, "SELECT n FROM marks"));
    }

    @Test
    void aRowRefusedInTheLastTableLeavesTheTablesWrittenBeforeItUnchanged() throws SQLException {
        TargetTable last = secondTable();
        TargetChange bad = withoutName(last, 9, 3);
        RejectedChangeException e = assertThrows(RejectedChangeException.class,
                () -> writer.write(List.of(upsert(1, "a", 1), upsert(2, "b", 2), bad)));
        assertEquals("bad-9", e.eventId());
        assertEquals("", rows(), "the first table's statement ran, but its transaction never committed");
        assertEquals("", TestDatabases.copy(db, "SELECT table_name, row_key FROM replicator.row_position"));
    }

    @Test
    void theChangesOfSeveralTablesGoInOneStatementSentInOneRoundTrip() throws SQLException {
        TargetTable other = secondTable();
        writer.write(List.of(upsert(7, "old", 1), onTable(other, upsert(8, "old", 2)), upsert(9, "kept", 5)));
        List<String> prepared = new ArrayList<>();
        List<Boolean> openAtCommit = new ArrayList<>();
        Sql sql = new Sql("replicator");
        TargetWriter recorded = new TargetWriter(committing(recording(db, prepared), openAtCommit), sql, "replicator",
                id -> {
                });
        List<ChangeOutcome> outcomes = recorded.write(List.of(onTable(other, upsert(1, "x", 10)), upsert(1, "a", 11),
                delete(7, 12), onTable(other, delete(8, 13)), upsert(2, "b", 14), onTable(other, upsert(2, "y", 15))));
        assertEquals(List.of(true, true, true, true, true, true),
                outcomes.stream().map(ChangeOutcome::applied).toList());
        List<String> columns = List.of("id", "name");
        assertEquals(List.of(sql.claimRound(List.of(new Sql.RoundPart(items, columns, true, false),
                new Sql.RoundPart(other, columns, true, false)), true, true)),
                prepared.stream().filter(text -> !text.equals(sql.pruneTombstones())).toList(),
                "the locks, both tables' claims and deletes, and the commit: one statement");
        assertEquals(List.of(false), openAtCommit, "the statement took the commit along");
        assertEquals("1\ta\n2\tb\n9\tkept\n", rows());
        assertEquals("1\tx\n2\ty\n", TestDatabases.copy(db, "SELECT id, name FROM zz_items ORDER BY id"));
    }

    /**
     * A round that takes the commit along and leaves a change unclaimed whose row has lagging columns below it: the
     * merge follows in a transaction of its own, and the request is answered after both.
     */
    @Test
    void aChangeLeftUnclaimedByARoundThatCommittedAlongIsMergedAfterIt() throws SQLException {
        Map<String, String> partial = new LinkedHashMap<>();
        partial.put("id", "9");
        partial.put("name", "new");
        writer.write(List.of(upsert(9, "old", 5)));
        writer.write(List.of(new TargetChange("p9", items, Operation.UPDATE, new Position(8, 8), List.of("9"), partial,
                Set.of(), null, "public.items", -1, Set.of("note"))));
        Map<String, String> noted = new LinkedHashMap<>();
        noted.put("id", "9");
        noted.put("name", "older");
        noted.put("note", "from 7");
        List<Boolean> openAtCommit = new ArrayList<>();
        TargetWriter committing = new TargetWriter(committing(db, openAtCommit), new Sql("replicator"), "replicator",
                id -> {
                });
        List<ChangeOutcome> outcomes = committing.write(List.of(upsert(1, "a", 11), new TargetChange("n9", items,
                Operation.UPDATE, new Position(7, 7), List.of("9"), noted, Set.of(), null, "public.items", -1)));
        assertEquals(List.of(APPLIED, APPLIED), results(outcomes), "the older change still wrote the note");
        assertEquals(List.of(true), openAtCommit, "the merge committed after the round that took the commit along");
        assertEquals("1\ta\t\\N\n9\tnew\tfrom 7\n", TestDatabases.copy(db, "SELECT * FROM items ORDER BY id"));
    }

    /** A table {@code zz_items} like {@code items} without its note, after it in the write order. */
    TargetTable secondTable() throws SQLException {
        TestDatabases.execute(db, "CREATE TABLE zz_items (id int PRIMARY KEY, name text NOT NULL)");
        try (Connection connection = db.getConnection()) {
            return TargetCatalog.load(connection, new TableId("public", "zz_items")).orElseThrow();
        }
    }

    /** The same change of another table with the same columns. */
    static TargetChange onTable(TargetTable table, TargetChange change) {
        return new TargetChange(change.eventId() + "@" + table.id(), table, change.op(), change.position(), change.key(),
                change.values(), change.unavailable(), change.newKey(), table.id().toString(), -1);
    }

    @Test
    void twoSpellingsOfOneKeyInAMultiRowStatementAreWrittenChangeByChange() {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("id", "01");
        values.put("name", "later");
        TargetChange padded = new TargetChange("p2", items, Operation.UPDATE, new Position(2, 2), List.of("01"), values,
                Set.of(), null, "public.items", -1);
        List<ChangeOutcome> outcomes = writer.write(List.of(upsert(1, "first", 1), padded));
        assertTrue(outcomes.get(1).applied(), "the newer change wins, whichever spelling it used");
        assertEquals("1\tlater\n", rows());
    }

    @Test
    void tombstonesOlderThanTheRetentionArePruned() throws SQLException {
        writer.write(List.of(upsert(5, "x", 1), delete(5, 2), upsert(6, "y", 3)));
        TestDatabases.execute(db, "UPDATE replicator.row_position SET updated_at = now() - interval '8 days'");
        assertEquals(1, new TombstonePruning(db, new Sql("replicator"), java.time.Duration.ofDays(7)).prune(), "only the deleted row's position goes; 7 days by default");
        assertEquals("public.items\t{6}\tf\n", TestDatabases.copy(db,
                "SELECT table_name, row_key, deleted FROM replicator.row_position ORDER BY row_key"));
    }

    private static List<TargetChange> reversed(List<TargetChange> list) {
        List<TargetChange> copy = new ArrayList<>(list);
        java.util.Collections.reverse(copy);
        return copy;
    }

    /** A data source that records the text of every statement its connections prepare. */
    static DataSource recording(DataSource real, List<String> prepared) {
        return intercepting(real, connection -> (method, args) -> {
            if (method.getName().equals("prepareStatement")) {
                prepared.add((String) args[0]);
            }
        });
    }

    /** Looks at each call on a connection before the connection takes it. */
    interface BeforeCall {
        void before(java.lang.reflect.Method method, Object[] args) throws SQLException;
    }

    interface Interceptors {
        BeforeCall of(Connection connection);
    }

    /** A data source whose connections show each call to an interceptor of their own first. */
    static DataSource intercepting(DataSource real, Interceptors interceptors) {
        return delegating(() -> {
            Connection connection = real.getConnection();
            BeforeCall interceptor = interceptors.of(connection);
            return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                    new Class<?>[] { Connection.class }, (proxy, method, args) -> {
                        interceptor.before(method, args);
                        try {
                            return method.invoke(connection, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
        });
    }

    interface ConnectionSource {
        Connection get() throws SQLException;
    }

    static DataSource delegating(ConnectionSource connections) {
        return new DataSource() {
            @Override
            public Connection getConnection() throws SQLException {
                return connections.get();
            }

            @Override
            public Connection getConnection(String user, String password) throws SQLException {
                return getConnection();
            }

            @Override
            public PrintWriter getLogWriter() {
                return null;
            }

            @Override
            public void setLogWriter(PrintWriter out) {
            }

            @Override
            public void setLoginTimeout(int seconds) {
            }

            @Override
            public int getLoginTimeout() {
                return 0;
            }

            @Override
            public Logger getParentLogger() {
                return null;
            }

            @Override
            public <T> T unwrap(Class<T> iface) {
                return null;
            }

            @Override
            public boolean isWrapperFor(Class<?> iface) {
                return false;
            }
        };
    }

    /** A data source whose connections record, at each {@code commit()}, whether the transaction was still open. */
    static DataSource committing(DataSource real, List<Boolean> openAtCommit) {
        return intercepting(real, connection -> (method, args) -> {
            if (method.getName().equals("commit")) {
                openAtCommit.add(connection.unwrap(org.postgresql.core.BaseConnection.class)
                        .getTransactionState() != org.postgresql.core.TransactionState.IDLE);
            }
        });
    }

    /**
     * A data source whose connections break (socket closed) at the n-th statement prepared: on the first connection
     * only, or on every connection.
     */
    static DataSource dropping(DataSource real, int n, AtomicInteger counter, boolean everyConnection) {
        return intercepting(real, connection -> {
            AtomicInteger prepared = everyConnection ? new AtomicInteger() : counter;
            return (method, args) -> {
                if (method.getName().startsWith("prepare") && prepared.incrementAndGet() == n) {
                    connection.abort(Runnable::run);
                }
            };
        });
    }
}
