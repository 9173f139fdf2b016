package dev.replicator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import javax.sql.DataSource;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

import dev.replicator.decode.Operation;
import dev.replicator.decode.Position;
import dev.replicator.decode.TableId;
import dev.replicator.route.TargetCatalog;
import dev.replicator.route.TargetChange;
import dev.replicator.route.TargetTable;
import dev.replicator.testing.TestDatabases;

/**
 * Errors PostgreSQL raises for good that are no data errors (a key too large for its index, a feature not supported,
 * a missing privilege), provoked for real: each is a {@link RejectedChangeException}, answered 422, never the 503 that
 * a broker would redeliver forever. The privilege case writes as a role without the grant, as a managed database's
 * replicator user may be.
 */
class PermanentDatabaseErrorsTest {

    static DataSource db;
    static DataSource limited;

    @BeforeAll
    static void database() {
        db = TestDatabases.freshDatabase(TestDatabases.target(), "permanent_errors");
        TestDatabases.execute(db, "DO $$ BEGIN CREATE ROLE replicator_limited LOGIN; EXCEPTION WHEN duplicate_object"
                + " THEN NULL; END $$");
        TestDatabases.execute(db, "CREATE TABLE wide (id text PRIMARY KEY, v text);"
                + " CREATE TABLE catalog_like (id int PRIMARY KEY, v text) WITH (user_catalog_table = true);"
                + " CREATE TABLE locked (id int PRIMARY KEY, v text);"
                + " CREATE SCHEMA replicator; GRANT ALL ON SCHEMA replicator TO replicator_limited;"
                + " GRANT CREATE ON DATABASE permanent_errors TO replicator_limited;"
                + " GRANT SELECT ON locked TO replicator_limited");
        PGSimpleDataSource asLimited = TestDatabases.dataSource(TestDatabases.target(), "permanent_errors");
        asLimited.setUser("replicator_limited");
        limited = asLimited;
    }

    static TargetTable table(String name) throws SQLException {
        try (Connection connection = db.getConnection()) {
            return TargetCatalog.load(connection, new TableId("public", name)).orElseThrow();
        }
    }

    static TargetChange upsert(TargetTable table, String id, String v) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("id", id);
        values.put("v", v);
        return new TargetChange("ev-" + table.id().table(), table, Operation.UPDATE, new Position(5, 5), List.of(id),
                values, Set.of(), null, table.id().toString(), -1);
    }

    static TargetWriter writer(DataSource as) {
        return new TargetWriter(as, new Sql("replicator"), "replicator", id -> {
        });
    }

    @Test
    void aKeyTooLargeForItsIndexIs422() throws SQLException {
        // random letters do not compress, so no btree index can hold the key
        String key = new Random(3).ints(12_000, 'a', 'z' + 1)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        TargetTable wide = table("wide");
        RejectedChangeException refused = assertThrows(RejectedChangeException.class,
                () -> writer(db).write(List.of(upsert(wide, key, "SECRET"))));
        assertTrue(refused.getMessage().contains("SQLSTATE 54000"), refused.getMessage());
        assertTrue(refused.getMessage().startsWith("event ev-wide: target refused writing public.wide"),
                refused.getMessage());
        assertFalse(refused.getMessage().contains(key.substring(0, 20)), refused.getMessage());
        assertEquals("", TestDatabases.copy(db, "SELECT id FROM wide"));
    }

    @Test
    void onConflictOnACatalogTableIs422NamingTheFeature() throws SQLException {
        TargetTable catalogLike = table("catalog_like");
        RejectedChangeException refused = assertThrows(RejectedChangeException.class,
                () -> writer(db).write(List.of(upsert(catalogLike, "1", "SECRET"))));
        assertTrue(refused.getMessage().contains("SQLSTATE 0A000"), refused.getMessage());
        assertTrue(refused.getMessage().contains("feature not supported"), refused.getMessage());
        assertTrue(refused.getMessage().contains("ON CONFLICT"), refused.getMessage());
        assertFalse(refused.getMessage().contains("SECRET"), refused.getMessage());
        assertEquals("", TestDatabases.copy(db, "SELECT id FROM catalog_like"));
    }

    @Test
    void aMissingPrivilegeIs422NamingTheGrant() throws SQLException {
        TargetTable locked = table("locked");
        RejectedChangeException refused = assertThrows(RejectedChangeException.class,
                () -> writer(limited).write(List.of(upsert(locked, "1", "SECRET"))));
        assertTrue(refused.getMessage().contains("SQLSTATE 42501"), refused.getMessage());
        assertTrue(refused.getMessage().contains("permission denied"), refused.getMessage());
        assertTrue(refused.getMessage().contains("grant"), refused.getMessage());
        assertFalse(refused.getMessage().contains("SECRET"), refused.getMessage());
        assertEquals("", TestDatabases.copy(db, "SELECT id FROM locked"));
    }

    @Test
    void aMissingPrivilegeOnReadIs422Too() {
        // what backfill, verify and rowref meet when the source's user may not read a table
        SQLException denied = assertThrows(SQLException.class, () -> {
            try (Connection connection = limited.getConnection()) {
                connection.createStatement().executeQuery("SELECT * FROM wide").close();
            }
        });
        RuntimeException answer = TargetTransactions.answer("ev-read", "source", "reading rows", denied);
        assertTrue(answer instanceof RejectedChangeException, answer.toString());
        assertTrue(answer.getMessage().contains("grant"), answer.getMessage());
    }

    @Test
    void anUnreachableDatabaseIs503() {
        PGSimpleDataSource nowhere = TestDatabases.dataSource(TestDatabases.target(), "permanent_errors");
        nowhere.setPortNumbers(new int[] { 1 });
        nowhere.setConnectTimeout(1);
        TargetUnavailableException unavailable = assertThrows(TargetUnavailableException.class,
                () -> writer(nowhere).write(List.of(upsert(table("locked"), "1", "x"))));
        assertEquals(503, unavailable.status());
    }

    @Test
    void aDatabaseNotAcceptingConnectionsIs503ThoughItsClassIs55() {
        // FATAL 55000 "database ... is not currently accepting connections": the session, not the statement
        TestDatabases.freshDatabase(TestDatabases.target(), "closed_for_now");
        DataSource admin = TestDatabases.dataSource(TestDatabases.target(), "postgres");
        TestDatabases.execute(admin, "ALTER DATABASE closed_for_now ALLOW_CONNECTIONS false");
        try {
            DataSource closed = TestDatabases.dataSource(TestDatabases.target(), "closed_for_now");
            TargetUnavailableException unavailable = assertThrows(TargetUnavailableException.class,
                    () -> writer(closed).write(List.of(upsert(table("locked"), "1", "x"))));
            assertEquals(503, unavailable.status());
            assertTrue(unavailable.getMessage().contains("SQLSTATE 55000"), unavailable.getMessage());
        } finally {
            TestDatabases.execute(admin, "ALTER DATABASE closed_for_now ALLOW_CONNECTIONS true");
        }
    }
}
