package dev.replicator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.replicator.decode.TableId;
import dev.replicator.testing.TestDatabases;

/**
 * The failure policy against a real PostgreSQL: what a retry can fix is retried and commits, what it cannot is
 * answered 422 after one attempt, never 503.
 */
class TransactionRetriesTest {

    DataSource db;
    List<TableId> invalidated;
    TargetTransactions transactions;

    @BeforeEach
    void setUp() {
        db = TestDatabases.freshDatabase(TestDatabases.target(), "retries_test");
        TestDatabases.execute(db, "CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL);"
                + " INSERT INTO counters VALUES (1, 0)");
        invalidated = new ArrayList<>();
        transactions = new TargetTransactions(db, new TargetSchema(db, new Sql("replicator"), "replicator"),
                invalidated::add);
    }

    static int backendPid(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void aSerializationFailureIsRetriedAndThenCommits() throws SQLException {
        AtomicInteger attempts = new AtomicInteger();
        int result = transactions.run(null, connection -> {
            try (Statement statement = connection.createStatement()) {
                statement.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
                statement.executeQuery("SELECT n FROM counters").close(); // the snapshot is taken here
                if (attempts.incrementAndGet() == 1) {
                    // another transaction changes the row after this one's snapshot: its update cannot serialize
                    TestDatabases.execute(db, "UPDATE counters SET n = n + 100 WHERE id = 1");
                }
                return statement.executeUpdate("UPDATE counters SET n = n + 1 WHERE id = 1");
            }
        });
        assertEquals(2, attempts.get(), "the first attempt failed with 40001, the second committed");
        assertEquals(1, result);
        assertEquals("101\n", TestDatabases.copy(db, "SELECT n FROM counters"));
    }

    @Test
    void aConnectionTheDatabaseDropsIsRetriedOnANewOne() throws SQLException {
        List<Integer> pids = new ArrayList<>();
        transactions.run(null, connection -> {
            pids.add(backendPid(connection));
            try (Statement statement = connection.createStatement()) {
                statement.executeUpdate("UPDATE counters SET n = n + 1 WHERE id = 1");
                if (pids.size() == 1) {
                    TestDatabases.execute(db, "SELECT pg_terminate_backend(" + pids.get(0) + ")");
                    statement.executeUpdate("UPDATE counters SET n = n + 10 WHERE id = 1"); // fails: 57P01 or 08xxx
                }
            }
            return null;
        });
        assertEquals(2, pids.size());
        assertNotEquals(pids.get(0), pids.get(1), "the second attempt ran on another connection");
        assertEquals("1\n", TestDatabases.copy(db, "SELECT n FROM counters"), "nothing of the dropped attempt stayed");
    }

    @Test
    void aDeferredConstraintRefusedAtCommitIsA422AfterOneAttempt() {
        TestDatabases.execute(db, "CREATE TABLE parents (id int PRIMARY KEY);"
                + " CREATE TABLE children (id int PRIMARY KEY, parent int REFERENCES parents"
                + " DEFERRABLE INITIALLY DEFERRED)");
        AtomicInteger attempts = new AtomicInteger();
        SQLException failure = assertThrows(SQLException.class, () -> transactions.run(null, connection -> {
            attempts.incrementAndGet();
            try (Statement statement = connection.createStatement()) {
                return statement.executeUpdate("INSERT INTO children VALUES (1, 7)"); // checked only at commit
            }
        }));
        assertEquals(1, attempts.get(), "a permanent error is not retried");
        assertEquals("23503", failure.getSQLState());
        RuntimeException answer = transactions.answer(null, failure);
        RejectedChangeException rejected = assertInstanceOf(RejectedChangeException.class, answer, "422, never 503");
        assertTrue(rejected.getMessage().contains("the transaction"), rejected.getMessage());
        assertEquals("", TestDatabases.copy(db, "SELECT * FROM children"));
    }

    @Test
    void aDatabaseThatKeepsFailingToSerializeIsA503AfterTheLastAttempt() {
        AtomicInteger attempts = new AtomicInteger();
        SQLException failure = assertThrows(SQLException.class, () -> transactions.run(null, connection -> {
            attempts.incrementAndGet();
            try (Statement statement = connection.createStatement()) {
                statement.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
                statement.executeQuery("SELECT n FROM counters").close();
                TestDatabases.execute(db, "UPDATE counters SET n = n + 100 WHERE id = 1");
                return statement.executeUpdate("UPDATE counters SET n = n + 1 WHERE id = 1");
            }
        }));
        assertEquals(TargetTransactions.ATTEMPTS, attempts.get());
        assertEquals("40001", failure.getSQLState());
        TargetUnavailableException answer = assertInstanceOf(TargetUnavailableException.class,
                TargetTransactions.answer(null, "target", "writing public.counters", failure));
        assertEquals(503, answer.status());
    }

    @Test
    void aTableThatWentAwayIsLookedUpAgainOnceThenAnswered503() {
        TableId gone = new TableId("public", "gone");
        AtomicInteger attempts = new AtomicInteger();
        SQLException failure = assertThrows(SQLException.class, () -> transactions.run(gone, connection -> {
            attempts.incrementAndGet();
            try (Statement statement = connection.createStatement()) {
                return statement.executeUpdate("DELETE FROM public.gone");
            }
        }));
        assertEquals(2, attempts.get(), "one more attempt after reading the table's description again");
        assertEquals(List.of(gone), invalidated);
        assertEquals("42P01", failure.getSQLState());
        assertEquals(503, assertInstanceOf(TargetUnavailableException.class,
                TargetTransactions.answer(null, "target", "writing public.gone", failure)).status());
    }

    @Test
    void replicatorsOwnTablesDroppedWhileRunningAreCreatedAgain() throws SQLException {
        transactions.run(null, connection -> null); // creates them
        TestDatabases.execute(db, "DROP SCHEMA replicator CASCADE");
        int written = transactions.run(null, connection -> {
            try (Statement statement = connection.createStatement()) {
                return statement.executeUpdate("INSERT INTO replicator.table_position VALUES ('t', 1, 1, now())");
            }
        });
        assertEquals(1, written);
    }
}
