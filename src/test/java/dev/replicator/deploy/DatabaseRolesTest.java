package dev.replicator.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import dev.replicator.apply.RejectedChangeException;
import dev.replicator.apply.SchemaApplier;
import dev.replicator.apply.Sql;
import dev.replicator.apply.TargetSchema;
import dev.replicator.apply.TargetTransactions;
import dev.replicator.apply.TargetWriter;
import dev.replicator.apply.TombstonePruning;
import dev.replicator.convert.TargetColumn;
import dev.replicator.decode.Operation;
import dev.replicator.decode.Position;
import dev.replicator.decode.TableId;
import dev.replicator.observe.ReplicationMetrics;
import dev.replicator.route.TableMappings;
import dev.replicator.route.TargetCatalog;
import dev.replicator.route.TargetChange;
import dev.replicator.route.TargetTable;
import dev.replicator.schema.ColumnSpec;
import dev.replicator.schema.SchemaChange;
import dev.replicator.source.sequences.SequenceSync;
import dev.replicator.testing.TestDatabases;

/**
 * The least-privilege setup docs/deploy.md prescribes (k8s/sql/), run against real PostgreSQL: each role can do its job
 * and no more, and the publication holds exactly the replicated tables.
 */
class DatabaseRolesTest {

    static final String TABLES = "CREATE TABLE public.customers (id serial PRIMARY KEY, name text);"
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
        // the sequence sync reads where the source's sequences stand
        assertEquals("t\n", TestDatabases.copy(reader, "SELECT has_sequence_privilege('public.customers_id_seq',"
                + " 'SELECT')"));
        assertDenied(reader, "CREATE TABLE debezium.sneaky (id int)");
    }

    @Test
    void targetRoleWritesOnlyTheMappedTablesAndItsOwnSchema() throws IOException, SQLException {
        DataSource owner = targetWithRole();

        DataSource writer = as(TestDatabases.target(), "roles_target", "replicator_write");
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

    /**
     * {@code replicator.schema.evolution=add} as {@code replicator_write}: without ownership of the table, adding a
     * column is refused with a 422 that names what is missing and nothing is written; with the grants target.sql
     * gives for it, the column is added and the row written.
     */
    @Test
    void targetRoleAddsColumnsOnlyWithTheGrantsForIt() throws IOException, SQLException {
        DataSource owner = targetWithRole();
        DataSource writer = as(TestDatabases.target(), "roles_target", "replicator_write");
        Sql sql = new Sql("replicator");
        new TargetSchema(writer, sql, "replicator").ensure();
        TargetCatalog catalog = new TargetCatalog(writer);
        TargetWriter targetWriter = new TargetWriter(new TargetTransactions(writer, new TargetSchema(writer, sql,
                "replicator"), catalog::invalidate), sql, new TombstonePruning(writer, sql, Duration.ofDays(7)),
                new SchemaApplier(change -> catalog.invalidateAll()));
        TableId customers = new TableId("public", "customers");
        TargetTable table = catalog.find(customers).orElseThrow();
        Map<String, TargetColumn> columns = new LinkedHashMap<>(table.columns());
        columns.put("email", new TargetColumn("email", "text", "text", 'S', false, -1, -1, true, false));
        TargetTable planned = new TargetTable(customers, columns, table.primaryKey(), false,
                List.of(new SchemaChange.AddColumn(customers, new ColumnSpec("email", "text"))));
        TargetChange change = new TargetChange("e-1", planned, Operation.CREATE, new Position(1, 1), List.of("1"),
                Map.of("id", "1", "name", "Ada", "email", "ada@example.org"), Set.of(), null, "public.customers", -1);

        RejectedChangeException refused = assertThrows(RejectedChangeException.class,
                () -> targetWriter.write(List.of(change)));
        assertTrue(refused.getMessage().contains("must be owner of table customers"), refused.getMessage());
        assertEquals("0\n", TestDatabases.copy(owner, "SELECT count(*) FROM customers"));

        for (String line : Files.readAllLines(Path.of("k8s/sql/target.sql"))) {
            if (line.startsWith("--   ALTER TABLE") || line.startsWith("--   GRANT CREATE ON SCHEMA")) {
                TestDatabases.execute(owner, line.substring(5));
            }
        }
        targetWriter.write(List.of(change));
        assertEquals("1|Ada|ada@example.org\n", TestDatabases.copy(owner, "SELECT * FROM customers")
                .replace('\t', '|'));
    }

    /**
     * The sequence sync as {@code replicator_write}: with the grants of target.sql the sequence moves forward; a
     * sequence the role may not read is reported refused and left as it is, never moved back from ahead.
     */
    @Test
    void targetRoleMovesSequencesItMayReadAndLeavesTheOthers() throws IOException {
        DataSource owner = targetWithRole();
        DataSource source = TestDatabases.freshDatabase(TestDatabases.source(), "roles_sequences");
        TestDatabases.execute(source, TABLES + " INSERT INTO public.customers (name) SELECT 'c' || g"
                + " FROM generate_series(1, 5) g");
        SequenceSync sync = new SequenceSync(source, as(TestDatabases.target(), "roles_target", "replicator_write"),
                new TableMappings(Map.of(), true), new ReplicationMetrics(new SimpleMeterRegistry()));

        assertEquals("moved", sync.run("seq-1").get(0).outcome());
        assertEquals("5\n", TestDatabases.copy(owner, "SELECT last_value FROM public.customers_id_seq"));

        TestDatabases.execute(owner, "SELECT setval('public.customers_id_seq', 100);"
                + " REVOKE SELECT ON SEQUENCE public.customers_id_seq FROM replicator_write");
        SequenceSync.Synced refused = sync.run("seq-2").get(0);
        assertEquals("refused", refused.outcome());
        assertTrue(refused.error().contains("permission denied for sequence customers_id_seq"), refused.error());
        assertEquals("100\n", TestDatabases.copy(owner, "SELECT last_value FROM public.customers_id_seq"),
                "a sequence whose value cannot be read is not moved");
    }

    /** A fresh target database with the tables, and target.sql run on it as deploy.md says. */
    static DataSource targetWithRole() throws IOException {
        DataSource owner = TestDatabases.freshDatabase(TestDatabases.target(), "roles_target");
        dropRoles(owner, "replicator_write");
        TestDatabases.execute(owner, TABLES);
        TestDatabases.execute(owner, script("target.sql", "roles_target"));
        return owner;
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
