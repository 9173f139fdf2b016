package dev.replicator.apply;

import static dev.replicator.apply.ChangeOutcome.Result.APPLIED;
import static dev.replicator.apply.ChangeOutcome.Result.STALE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import javax.sql.DataSource;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import dev.replicator.convert.ConversionOptions;
import dev.replicator.convert.ValueConverter;
import dev.replicator.decode.FieldValue;
import dev.replicator.decode.Operation;
import dev.replicator.decode.Position;
import dev.replicator.decode.RowChange;
import dev.replicator.decode.TableId;
import dev.replicator.decode.ValueEncoding;
import dev.replicator.route.TableMappings;
import dev.replicator.route.TableRouter;
import dev.replicator.route.TargetCatalog;
import dev.replicator.route.TargetChange;
import dev.replicator.testing.TestDatabases;

/**
 * Changes that carry only some columns (native upserts that leave columns out, Debezium updates whose unchanged
 * TOASTed values were not sent) converge under reordering as whole rows do: an older change still writes the columns
 * that no newer change wrote.
 */
class PartialRowsTest {

    DataSource db;
    TableRouter router;
    TargetWriter writer;

    @BeforeEach
    void setUp() {
        db = TestDatabases.freshDatabase(TestDatabases.target(), "partial_rows_test");
        TestDatabases.execute(db, "CREATE TABLE accounts (id int PRIMARY KEY, tenant text, name text, note text);"
                + " CREATE TABLE strict (id int PRIMARY KEY, tenant text, name text NOT NULL)");
        TargetCatalog catalog = new TargetCatalog(db);
        router = new TableRouter(TableMappings.of(Map.of("public.accounts", Optional.empty(), "public.strict",
                Optional.empty()), Map.of(), false, "replicator"), catalog, new ValueConverter(ConversionOptions.DEFAULTS));
        writer = new TargetWriter(db, new Sql("replicator"), "replicator", catalog::invalidate);
    }

    @Test
    void anOlderPartialUpsertThatArrivesLateStillWritesItsColumn() {
        assertEquals(APPLIED, write(upsert("accounts", 1300, "id", "1", "tenant", "t0", "name", "n0", "note", "x")));
        assertEquals(APPLIED, write(upsert("accounts", 1330, "id", "1", "tenant", "t1")));
        assertEquals(APPLIED, write(upsert("accounts", 1320, "id", "1", "name", "n1")),
                "no newer change wrote the name: this one still does");
        assertEquals("1\tt1\tn1\tx\n", rows("accounts"));
        assertEquals(STALE, write(upsert("accounts", 1320, "id", "1", "name", "n1")), "a duplicate");
        assertEquals(STALE, write(upsert("accounts", 1310, "id", "1", "tenant", "t-old", "name", "n-old")),
                "both columns were written by newer changes");
        assertEquals(APPLIED, write(upsert("accounts", 1305, "id", "1", "note", "y")));
        assertEquals("1\tt1\tn1\ty\n", rows("accounts"));
        assertEquals(STALE, write(upsert("accounts", 1300, "id", "1", "tenant", "t0", "name", "n0", "note", "x")),
                "the whole row it came with is older than every column now");
        assertEquals(APPLIED, write(upsert("accounts", 1400, "id", "1", "tenant", "t2", "name", "n2", "note", "z")));
        assertEquals("public.accounts\t{1}\t1400\t\\N\n", TestDatabases.copy(db,
                "SELECT table_name, row_key, commit_pos, lagging FROM replicator.row_position"),
                "a whole row leaves nothing lagging");
    }

    @Test
    void partialUpsertsInOneRequestConvergeWhateverTheirOrder() {
        List<TargetChange> history = List.of(upsert("accounts", 10, "id", "2", "tenant", "t0", "name", "n0"),
                upsert("accounts", 20, "id", "2", "name", "n1"), upsert("accounts", 30, "id", "2", "tenant", "t1"),
                upsert("accounts", 40, "id", "2", "note", "n"));
        for (List<Integer> order : List.of(List.of(3, 2, 1, 0), List.of(1, 3, 0, 2), List.of(2, 0, 3, 1))) {
            TestDatabases.execute(db, "DROP SCHEMA IF EXISTS replicator CASCADE; TRUNCATE accounts");
            List<TargetChange> shuffled = new ArrayList<>();
            order.forEach(i -> shuffled.add(history.get(i)));
            writer.write(shuffled.subList(0, 2));
            writer.write(shuffled.subList(2, 4));
            writer.write(shuffled); // redelivered
            assertEquals("2\tt1\tn1\tn\n", rows("accounts"), "order " + order);
        }
    }

    /** Debezium leaves an unchanged TOASTed column out of an update; an older update that set it comes late. */
    @Test
    void anUnchangedToastedColumnTakesTheValueOfAnOlderUpdateThatArrivesLate() {
        write(upsert("accounts", 1, "id", "3", "tenant", "t", "name", "a", "note", "long 1"));
        Map<String, String> values = new LinkedHashMap<>();
        values.put("id", "3");
        values.put("tenant", "t");
        values.put("name", "c");
        TargetChange toast = new TargetChange("toast@3", table("accounts"),
                Operation.UPDATE, new Position(3, 3), List.of("3"), values, Set.of("note"), null, "public.accounts", -1);
        assertEquals(APPLIED, writer.write(List.of(toast)).get(0).result());
        assertEquals(APPLIED, write(upsert("accounts", 2, "id", "3", "tenant", "t", "name", "b", "note", "long 2")),
                "the note it set is newer than the one the row has");
        assertEquals("3\tt\tc\tlong 2\n", rows("accounts"));
    }

    /** The row was deleted and created again by a partial upsert: the columns that upsert left out are defaults. */
    @Test
    void anOlderDeleteThatArrivesLateSetsTheColumnsKeptFromBeforeItToTheirDefaults() {
        write(upsert("accounts", 1, "id", "4", "tenant", "t0", "name", "n0", "note", "x"));
        write(upsert("accounts", 3, "id", "4", "name", "n1"));
        assertEquals(APPLIED, write(delete("accounts", 2, "4")));
        assertEquals("4\t\\N\tn1\t\\N\n", rows("accounts"), "what the delete and the partial create left");
        assertEquals(STALE, write(upsert("accounts", 1, "id", "4", "tenant", "t0", "name", "n0", "note", "x")));
        assertEquals("4\t\\N\tn1\t\\N\n", rows("accounts"));
    }

    @Test
    void aTruncateThatArrivesLateSetsTheColumnsKeptFromBeforeItToTheirDefaults() {
        write(upsert("accounts", 1, "id", "5", "tenant", "t0", "name", "n0", "note", "x"));
        write(upsert("accounts", 1, "id", "6", "tenant", "t0", "name", "n0", "note", "x"));
        write(upsert("accounts", 7, "id", "5", "tenant", "t1"));
        assertEquals(APPLIED, write(new RowChange("t@5", new TableId("public", "accounts"), Operation.TRUNCATE,
                new Position(5, 5), Map.of(), null, null, ValueEncoding.NATIVE)));
        assertEquals("5\tt1\t\\N\t\\N\n", rows("accounts"));
        assertEquals(APPLIED, write(upsert("accounts", 6, "id", "5", "name", "n6")), "newer than the truncate");
        assertEquals("5\tt1\tn6\t\\N\n", rows("accounts"));
    }

    /** A row a partial upsert created after a truncate: a change older than the truncate writes nothing of it. */
    @Test
    void aChangeOlderThanATruncateWritesNothingOfARowCreatedAfterIt() {
        assertEquals(APPLIED, write(new RowChange("t@5", new TableId("public", "accounts"), Operation.TRUNCATE,
                new Position(5, 5), Map.of(), null, null, ValueEncoding.NATIVE)));
        assertEquals(APPLIED, write(upsert("accounts", 7, "id", "8", "tenant", "t7")));
        assertEquals(STALE, write(upsert("accounts", 4, "id", "8", "tenant", "t4", "name", "n4")));
        assertEquals(STALE, write(delete("accounts", 3, "8")));
        assertEquals(APPLIED, write(upsert("accounts", 6, "id", "8", "name", "n6")), "after the truncate: its name stands");
        assertEquals("8\tt7\tn6\t\\N\n", rows("accounts"));
    }

    /** A partial upsert cannot create a row that needs a column it leaves out: it waits for the row (409). */
    @Test
    void aPartialUpsertOfAMissingRowWithoutANotNullColumnWaitsForTheRow() {
        TargetUnavailableException waiting = assertThrows(TargetUnavailableException.class,
                () -> write(upsert("strict", 20, "id", "1", "tenant", "t1")));
        assertEquals(409, waiting.status());
        assertTrue(waiting.getMessage().contains("\"name\""), waiting.getMessage());
        write(upsert("strict", 10, "id", "1", "tenant", "t0", "name", "n0"));
        assertEquals(APPLIED, write(upsert("strict", 20, "id", "1", "tenant", "t1")), "delivered again");
        assertEquals("1\tt1\tn0\n", rows("strict"));
    }

    private ChangeOutcome.Result write(TargetChange change) {
        return writer.write(List.of(change)).get(0).result();
    }

    private ChangeOutcome.Result write(RowChange change) {
        return write(route(change));
    }

    /** A native upsert of the given column/value pairs (null: SQL NULL), routed as the pipeline routes it. */
    private TargetChange upsert(String table, long position, String... columnsAndValues) {
        Map<String, FieldValue> row = new LinkedHashMap<>();
        for (int i = 0; i < columnsAndValues.length; i += 2) {
            String value = columnsAndValues[i + 1];
            row.put(columnsAndValues[i], FieldValue.of(value == null ? JsonNodeFactory.instance.nullNode()
                    : JsonNodeFactory.instance.textNode(value), null));
        }
        return route(new RowChange("u@" + position, new TableId("public", table), Operation.UPDATE,
                new Position(position, position), row, null, null, ValueEncoding.NATIVE));
    }

    private TargetChange delete(String table, long position, String id) {
        return route(new RowChange("d@" + position, new TableId("public", table), Operation.DELETE,
                new Position(position, position), Map.of("id", FieldValue.of(JsonNodeFactory.instance.textNode(id),
                        null)), null, null, ValueEncoding.NATIVE));
    }

    private TargetChange route(RowChange change) {
        try {
            return router.route(change);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private dev.replicator.route.TargetTable table(String name) {
        return upsert(name, 0, "id", "0").table();
    }

    private String rows(String table) {
        return TestDatabases.copy(db, "SELECT * FROM " + table + " ORDER BY id");
    }
}
