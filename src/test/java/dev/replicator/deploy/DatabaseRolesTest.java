package dev.replicator.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import dev.replicator.apply.Sql;
import dev.replicator.apply.TargetSchema;
import dev.replicator.apply.TombstonePruning;
import dev.replicator.testing.TestDatabases;

/**
 * The least-privilege setup docs/deploy.md prescribes (k8s/sql/), run against real PostgreSQL: each role can do its job
 * and no more, and the publication holds exactly the replicated tables.
 */
class DatabaseRolesTest {

    static final String TABLES = "CREATE TABLE public.customers (id int PRIMARY KEY, name text);"
            + " CREATE TABLE public.orders (id int PRIMARY KEY, customer int);"
            + " CREATE TABLE public.payroll (id int PRIMARY KEY, salary numeric);";

    @Test
    void sourceRolesReplicateAndReadOnlyThePublishedTables() throws IOException {
        EmbeddedPostgres server = TestDatabases.source();
        DataSource owner = TestDatabases.freshDatabase(server, "roles_source");
        dropRoles(owner, "debezium", "replicator_read");
        TestDatabases.execute(owner, TABLES + " INSERT INTO public.customers VALUES (1, 'a')");
        TestDatabases.execute(owner, script("source.sql", "roles_source"));

        assertEquals("public.customers\npublic.orders\n", TestDatabases.copy(owner, "SELECT schemaname || '.' ||"
                + " tablename FROM pg_publication_tables WHERE pubname = 'replicator' ORDER BY 1"));
        assertEquals("t\tf\n", TestDatabases.copy(owner, "SELECT rolreplication, rolsuper FROM pg_roles"
                + " WHERE rolname = 'debezium'"));

        DataSource debezium = as(server, "roles_source", "debezium");
        // the offset table as Debezium creates it, unqualified: it must land in the role's own schema
        TestDatabases.execute(debezium, "CREATE TABLE debezium_offsets (id VARCHAR(36) NOT NULL,"
                + " offset_key VARCHAR(1255), offset_val VARCHAR(1255), record_insert_ts TIMESTAMP NOT NULL,"
                + " record_insert_seq INTEGER NOT NULL, PRIMARY KEY (id))");
        assertEquals("debezium.debezium_offsets\n", TestDatabases.copy(owner,
                "SELECT to_regclass('debezium.debezium_offsets')::text"));
        assertEquals("", TestDatabases.copy(owner, "SELECT tablename FROM pg_publication_tables"
                + " WHERE tablename = 'debezium_offsets'"), "offsets must stay out of the publication");
        // the heartbeat action query of k8s/debezium-server.yaml
        TestDatabases.execute(debezium, "SELECT pg_logical_emit_message(false, 'heartbeat', now()::varchar)");
        assertEquals("1\ta\n", TestDatabases.copy(debezium, "SELECT * FROM public.customers"));
        assertDenied(debezium, "SELECT * FROM public.payroll");
        assertDenied(debezium, "INSERT INTO public.customers VALUES (2, 'b')");

        DataSource reader = as(server, "roles_source", "replicator_read");
        assertEquals("1\ta\n", TestDatabases.copy(reader, "SELECT * FROM public.customers"));
        assertDenied(reader, "SELECT * FROM public.payroll");
        assertDenied(reader, "UPDATE public.customers SET name = 'x'");
        assertDenied(reader, "CREATE TABLE debezium.sneaky (id int)");
    }

    @Test
    void targetRoleWritesOnlyTheMappedTablesAndItsOwnSchema() throws IOException, SQLException {
        EmbeddedPostgres server = TestDatabases.target();
        DataSource owner = TestDatabases.freshDatabase(server, "roles_target");
        dropRoles(owner, "replicator_write");
        TestDatabases.execute(owner, TABLES);
        TestDatabases.execute(owner, script("target.sql", "roles_target"));

        DataSource writer = as(server, "roles_target", "replicator_write");
        // what replicator does at start and on a timer: its own tables, then pruning them
        new TargetSchema(writer, new Sql("replicator"), "replicator").ensure();
        new TombstonePruning(writer, new Sql("replicator"), Duration.ofDays(7)).prune();
        assertEquals("backfill_progress\npull_coverage\nrejected\nrow_position\ntable_position\nupgrades\n",
                TestDatabases.copy(owner, "SELECT tablename FROM pg_tables WHERE schemaname = 'replicator' ORDER BY 1"));
        TestDatabases.execute(writer, "INSERT INTO public.customers VALUES (1, 'a') ON CONFLICT (id)"
                + " DO UPDATE SET name = excluded.name");
        TestDatabases.execute(writer, "DELETE FROM public.customers WHERE id = 1; TRUNCATE public.orders");
        assertDenied(writer, "INSERT INTO public.payroll VALUES (1, 1)");
        assertDenied(writer, "SELECT * FROM public.payroll");
        assertDenied(writer, "CREATE TABLE public.sneaky (id int)");
        assertDenied(writer, "DROP TABLE public.customers");
    }

    /** The script, its database name (app in the examples) replaced by this test's. */
    static String script(String name, String database) throws IOException {
        return Files.readString(Path.of("k8s/sql", name)).replace(" DATABASE app ", " DATABASE " + database + " ");
    }

    static DataSource as(EmbeddedPostgres server, String database, String role) {
        PGSimpleDataSource ds = TestDatabases.dataSource(server, database);
        ds.setUser(role);
        return ds;
    }

    /** Roles are per server; a role of an earlier run owns nothing once its database was dropped. */
    static void dropRoles(DataSource owner, String... roles) {
        for (String role : roles) {
            TestDatabases.execute(owner, "DROP ROLE IF EXISTS " + role);
        }
    }

    static void assertDenied(DataSource ds, String sql) {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> TestDatabases.execute(ds, sql),
                sql + " should be refused");
        SQLException cause = (SQLException) e.getCause();
        assertTrue(cause.getSQLState().equals("42501") || cause.getSQLState().equals("25006"),
                sql + ": expected a privilege error, got " + cause.getSQLState() + " " + cause.getMessage());
    }
}
