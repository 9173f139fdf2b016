package dev.replicator.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;
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
import dev.replicator.decode.BadEventException;
import dev.replicator.decode.FieldValue;
import dev.replicator.decode.Operation;
import dev.replicator.decode.Position;
import dev.replicator.decode.RowChange;
import dev.replicator.decode.TableId;
import dev.replicator.decode.ValueEncoding;
import dev.replicator.testing.TestDatabases;

/** Mapping, allow-list and catalog checks against a real target catalog. */
class TableRouterTest {

    DataSource target;
    TargetCatalog catalog;

    @BeforeEach
    void setUp() {
        target = TestDatabases.freshDatabase(TestDatabases.target(), "router_test");
        TestDatabases.execute(target, """
                CREATE SCHEMA copy;
                CREATE TABLE copy.people_v2 (id int PRIMARY KEY, name text, \"Odd \"\"Name\"\"\" text);
                CREATE TABLE public.people (id int PRIMARY KEY, name text);
                CREATE TABLE public.nokey (id int, name text);
                """);
        catalog = new TargetCatalog(target);
    }

    TableRouter router(Map<String, Optional<String>> targets, Map<String, List<String>> excluded, boolean allowAll) {
        return new TableRouter(TableMappings.of(targets, excluded, allowAll), catalog,
                new ValueConverter(ConversionOptions.DEFAULTS));
    }

    static RowChange change(String table, Map<String, Object> row) {
        Map<String, FieldValue> values = new LinkedHashMap<>();
        row.forEach((k, v) -> values.put(k, FieldValue.of(v == null ? JsonNodeFactory.instance.nullNode()
                : v instanceof Integer i ? JsonNodeFactory.instance.numberNode(i)
                        : JsonNodeFactory.instance.textNode(v.toString()), null)));
        return new RowChange("ev-1", TableId.parse(table), Operation.UPDATE, new Position(1, 1), values, null, null,
                ValueEncoding.NATIVE);
    }

    @Test
    void renamedTableAndExcludedColumn() throws SQLException {
        TableRouter router = router(Map.of("public.people", Optional.of("copy.people_v2")),
                Map.of("public.people", List.of("secret")), false);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", 1);
        row.put("name", "Ada");
        row.put("secret", "s3cr3t");
        row.put("Odd \"Name\"", "quoted");
        TargetChange routed = router.route(change("public.people", row));
        assertEquals(new TableId("copy", "people_v2"), routed.table().id());
        assertEquals(List.of("1"), routed.key());
        assertEquals(Set.of("id", "name", "Odd \"Name\""), routed.values().keySet(), "secret is never written");
    }

    @Test
    void onlyMappedTablesUnlessAllAreAllowed() throws SQLException {
        TableRouter mappedOnly = router(Map.of("public.other", Optional.empty()), Map.of(), false);
        BadEventException e = assertThrows(BadEventException.class,
                () -> mappedOnly.route(change("public.people", Map.of("id", 1))));
        assertTrue(e.getMessage().contains("not replicated"), e.getMessage());
        TableRouter all = router(Map.of(), Map.of(), true);
        assertEquals(new TableId("public", "people"), all.route(change("public.people", Map.of("id", 1))).table().id());
    }

    /** A source table's target without a change: renamed, as it is, or none where nothing is written. */
    @Test
    void targetOfASourceTableIsWhereItsChangesGo() {
        TableRouter mappedOnly = router(Map.of("public.people", Optional.of("copy.people_v2")), Map.of(), false);
        assertEquals(Optional.of(new TableId("copy", "people_v2")),
                mappedOnly.targetOf(TableId.parse("public.people")));
        assertEquals(Optional.empty(), mappedOnly.targetOf(TableId.parse("public.other")), "not replicated");
        TableRouter all = router(Map.of(), Map.of(), true);
        assertEquals(Optional.of(new TableId("public", "other")), all.targetOf(TableId.parse("public.other")));
        assertEquals(Optional.empty(), all.targetOf(TableId.parse("replicator.row_position")), "reserved");
    }

    @Test
    void namesFromEventsAreCheckedAgainstTheCatalog() {
        TableRouter all = router(Map.of(), Map.of(), true);
        assertThrows(BadEventException.class,
                () -> all.route(change("public.people\"; DROP TABLE people; --", Map.of("id", 1))));
        BadEventException column = assertThrows(BadEventException.class,
                () -> all.route(change("public.people", Map.of("id", 1, "name\" = 'x' --", "y"))));
        assertTrue(column.getMessage().contains("does not exist"), column.getMessage());
        BadEventException noKey = assertThrows(BadEventException.class,
                () -> all.route(change("public.nokey", Map.of("id", 1))));
        assertTrue(noKey.getMessage().contains("no primary key"), noKey.getMessage());
    }

    @Test
    void aColumnAddedToTheTargetIsFoundWithoutARestart() throws SQLException {
        TableRouter all = router(Map.of(), Map.of(), true);
        all.route(change("public.people", Map.of("id", 1, "name", "a")));
        TestDatabases.execute(target, "ALTER TABLE public.people ADD COLUMN email text");
        TargetChange routed = all.route(change("public.people", Map.of("id", 1, "email", "a@example.org")));
        assertEquals("a@example.org", routed.values().get("email"));
    }

    @Test
    void concurrentFirstLookupsOfATableShareOneDescription() throws Exception {
        int threads = 4;
        java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(threads);
        // every lookup reads the catalog before any of them has cached it
        DataSource meeting = (DataSource) java.lang.reflect.Proxy.newProxyInstance(DataSource.class.getClassLoader(),
                new Class<?>[] { DataSource.class }, (proxy, method, args) -> {
                    if (method.getName().equals("getConnection")) {
                        together.await(10, java.util.concurrent.TimeUnit.SECONDS);
                    }
                    return method.invoke(target, args);
                });
        TargetCatalog shared = new TargetCatalog(meeting);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            List<java.util.concurrent.Future<Optional<TargetTable>>> found = new java.util.ArrayList<>();
            for (int i = 0; i < threads; i++) {
                found.add(pool.submit(() -> shared.find(new TableId("public", "people"))));
            }
            TargetTable first = found.get(0).get().orElseThrow();
            for (java.util.concurrent.Future<Optional<TargetTable>> lookup : found) {
                org.junit.jupiter.api.Assertions.assertSame(first, lookup.get().orElseThrow());
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
