package dev.replicator.source.pull;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;
import java.util.List;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;

import dev.replicator.apply.RejectedChangeException;
import dev.replicator.testing.TestDatabases;

/**
 * {@code replicator.schema.evolution=add} through pull, against real PostgreSQL: columns added and tables created on
 * the source between changes reach the target in the transaction of their first change, and the target ends equal to
 * the source by COPY; what the target cannot take stops the pull with a 422 naming the column.
 */
class SchemaEvolutionPullTest {

    @Test
    void addedColumnsAndCreatedTablesArriveWhilePullRuns() throws SQLException {
        PullHarness h = PullHarness.evolving("evolve_pull");
        h.both("CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL)");
        h.createSlot();
        TestDatabases.execute(h.source, "INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three')");
        h.pull();

        TestDatabases.execute(h.source, """
                ALTER TABLE items ADD COLUMN note text;
                INSERT INTO items VALUES (4, 'four', 'a note');
                ALTER TABLE items ADD COLUMN qty integer NOT NULL DEFAULT 7;
                INSERT INTO items (id, name, qty) VALUES (5, 'five', 50);
                UPDATE items SET name = 'two!' WHERE id = 2;
                ALTER TABLE items ADD COLUMN tags text[];
                UPDATE items SET tags = ARRAY['a', 'b, c', 'say "hi"', NULL] WHERE id = 1;
                CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
                CREATE DOMAIN positive AS numeric(8,2) CHECK (VALUE > 0);
                ALTER TABLE items ADD COLUMN feeling mood, ADD COLUMN feelings mood[], ADD COLUMN price positive;
                INSERT INTO items (id, name, feeling, feelings, price) VALUES (6, 'six', 'happy', '{sad,ok}', 9.99);
                CREATE TABLE orders (id integer PRIMARY KEY, item_id bigint, placed timestamp(3), total numeric(8,2),
                                     flags boolean[], feeling mood);
                INSERT INTO orders VALUES (1, 6, '2024-03-01 10:00:00.123', 19.98, '{t,f}', 'ok'),
                                          (2, 1, NULL, NULL, NULL, NULL);
                UPDATE orders SET total = 20 WHERE id = 2;
                """);
        PullReport report = h.pull();

        assertTrue(report.done(), report.toString());
        assertEquals(sourceRows(h.source, "items"), sourceRows(h.target, "items", h.source));
        assertEquals(sourceRows(h.source, "orders"), sourceRows(h.target, "orders", h.source));
        assertEquals("integer|t|\\N\nmood|t|\\N\nmood[]|t|\\N\npositive|t|\\N\ntext|t|\\N\ntext[]|t|\\N\n",
                TestDatabases.copy(h.target, """
                        SELECT format_type(atttypid, atttypmod), NOT attnotnull, pg_get_expr(d.adbin, d.adrelid)
                        FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                        WHERE attrelid = 'items'::regclass AND attnum > 2 AND NOT attisdropped ORDER BY 1
                        """).replace('\t', '|'), "added nullable, without a default left behind");
        assertEquals("{id}\n", TestDatabases.copy(h.target, """
                SELECT array_agg(a.attname) FROM pg_index i
                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                WHERE i.indrelid = 'orders'::regclass AND i.indisprimary"""));
        assertEquals(2.0, h.metrics.schemaChanges("create_type"),
                0.0, "mood and positive, each once");
    }

    @Test
    void withoutEvolutionAnAddedColumnStopsThePullAsBefore() throws SQLException {
        PullHarness h = new PullHarness("evolve_none");
        h.both("CREATE TABLE items (id bigint PRIMARY KEY, name text)");
        h.createSlot();
        TestDatabases.execute(h.source, "ALTER TABLE items ADD COLUMN note text; INSERT INTO items VALUES (1, 'a', 'b')");

        RejectedChangeException refused = assertThrows(RejectedChangeException.class, h::pull);

        assertTrue(refused.getMessage().contains("column \"note\" does not exist in target table public.items"),
                refused.getMessage());
        assertEquals("0\n", TestDatabases.copy(h.target, "SELECT count(*) FROM items"));
    }

    @Test
    void aTypeTheTargetCannotTakeStopsThePullNamingTheColumnAndNothingAfterIsApplied() throws SQLException {
        PullHarness h = PullHarness.evolving("evolve_narrow");
        h.both("CREATE TABLE items (id bigint PRIMARY KEY, n integer, w integer)");
        TestDatabases.execute(h.target, "ALTER TABLE items ALTER COLUMN w TYPE bigint");
        h.createSlot();
        TestDatabases.execute(h.source, "INSERT INTO items VALUES (1, 1, 1)");
        TestDatabases.execute(h.source, "ALTER TABLE items ALTER COLUMN w TYPE bigint");
        TestDatabases.execute(h.source, "INSERT INTO items VALUES (2, 2, 5)");
        TestDatabases.execute(h.source, "ALTER TABLE items ALTER COLUMN n TYPE text");
        TestDatabases.execute(h.source, "INSERT INTO items VALUES (3, 'three', 3)");

        RejectedChangeException refused = assertThrows(RejectedChangeException.class, h::pull);

        assertTrue(refused.getMessage().contains("column \"n\" of public.items is integer in the target, and its source column is now text"),
                refused.getMessage());
        assertEquals("1,2\n", TestDatabases.copy(h.target, "SELECT string_agg(id::text, ',') FROM items"),
                "a target wider than the source (w) takes the change; nothing after the narrowing (n) is applied");
    }

    @Test
    void anAdditionRollsBackWithTheChangeThatNeededIt() throws SQLException {
        PullHarness h = PullHarness.evolving("evolve_rollback");
        h.both("CREATE TABLE items (id bigint PRIMARY KEY, name text)");
        TestDatabases.execute(h.target, "ALTER TABLE items ADD CONSTRAINT short CHECK (length(name) < 5)");
        h.createSlot();
        TestDatabases.execute(h.source, """
                BEGIN;
                ALTER TABLE items ADD COLUMN note text;
                INSERT INTO items VALUES (1, 'too long', 'n');
                COMMIT;
                """);

        assertThrows(RejectedChangeException.class, h::pull);

        assertEquals("0\n", TestDatabases.copy(h.target, """
                SELECT count(*) FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'note'"""),
                "no addition is left behind by a write that did not commit");
    }

    /** The rows of a table by the source's columns: a column dropped on the source stays on the target only. */
    private static String sourceRows(DataSource ds, String table) {
        return sourceRows(ds, table, ds);
    }

    private static String sourceRows(DataSource ds, String table, DataSource columnsFrom) {
        List<String> columns = List.of(TestDatabases.copy(columnsFrom, "SELECT string_agg(quote_ident(attname), ', '"
                + " ORDER BY attnum) FROM pg_attribute WHERE attrelid = '" + table + "'::regclass AND attnum > 0"
                + " AND NOT attisdropped").trim());
        return TestDatabases.copy(ds, "SELECT " + columns.get(0) + " FROM " + table + " ORDER BY 1");
    }
}
