package dev.replicator.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.replicator.apply.SchemaApplier;
import dev.replicator.apply.Sql;
import dev.replicator.apply.TargetSchema;
import dev.replicator.apply.TargetTransactions;
import dev.replicator.apply.TargetWriter;
import dev.replicator.apply.TombstonePruning;
import dev.replicator.convert.ConversionOptions;
import dev.replicator.convert.ValueConverter;
import dev.replicator.decode.BadEventException;
import dev.replicator.decode.DebeziumDecoder;
import dev.replicator.decode.Fixtures;
import dev.replicator.decode.IncomingEvent;
import dev.replicator.decode.RowChange;
import dev.replicator.route.SchemaPlanner;
import dev.replicator.route.TableMappings;
import dev.replicator.route.TableRouter;
import dev.replicator.route.TargetCatalog;
import dev.replicator.route.TargetChange;
import dev.replicator.testing.DebeziumLoss;
import dev.replicator.testing.TableComparison;
import dev.replicator.testing.TestDatabases;

/**
 * {@code replicator.schema.evolution=add} through pushed events: the requests Debezium Server 3.6 posted while the
 * source gained columns (plain, with a default, an array, an enum, five at once), a table, and lost a column, replayed
 * one request per transaction into a target made from the schema before all that. The target ends equal to the
 * source by COPY, on the source's columns (the dropped one stays on the target).
 */
class SchemaEvolutionReplayTest {

    private static final String FOLDER = "/fixtures/debezium-server-3.6/schema-evolution/";

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = { "cloudevents", "json-schema" })
    void eventsWithSchemasEvolveTheTargetToEqualTheSource(String capture) throws SQLException {
        Replay replay = new Replay("evolve_" + capture.replace('-', '_'), true);

        for (IncomingEvent event : replay.events(capture)) {
            replay.writer.write(replay.route(event));
        }

        TableComparison.assertSameRowsOfSourceColumns(replay.source, replay.target,
                java.util.EnumSet.noneOf(DebeziumLoss.class));
        assertEquals("integer\n", TestDatabases.copy(replay.target,
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'items'::regclass"
                        + " AND attname = 'qty'"));
        assertEquals("timestamp(3) without time zone|numeric(8,2)|boolean[]\n", TestDatabases.copy(replay.target, """
                SELECT string_agg(format_type(atttypid, atttypmod), '|' ORDER BY attnum) FROM pg_attribute
                WHERE attrelid = 'orders'::regclass AND attname IN ('placed', 'total', 'flags')"""));
        assertTrue(replay.made.get() >= 10, "additions made: " + replay.made.get());
    }

    /**
     * Without a schema, a column's type comes from the source's catalog as it is now: a column the source has dropped
     * since cannot be typed, and its event is refused (400) with a message that names the column.
     */
    @Test
    void eventsWithoutSchemasTakeTypesFromTheSourcesCatalog() throws SQLException {
        Replay replay = new Replay("evolve_noschema", true);
        List<IncomingEvent> events = replay.events("json-noschema");

        BadEventException refused = assertThrows(BadEventException.class, () -> {
            for (IncomingEvent event : events) {
                replay.writer.write(replay.route(event));
            }
        });

        assertTrue(refused.getMessage().contains("column \"note\" does not exist in target table public.items, and "
                + "the source's catalog does not give its type"), refused.getMessage());
    }

    /** With {@code none}, the first event with a new column is refused as before: 400 naming the column. */
    @Test
    void withoutEvolutionTheFirstNewColumnIsRefused() throws SQLException {
        Replay replay = new Replay("evolve_off", false);
        List<IncomingEvent> events = replay.events("cloudevents");

        BadEventException refused = assertThrows(BadEventException.class, () -> {
            for (IncomingEvent event : events) {
                replay.writer.write(replay.route(event));
            }
        });

        assertEquals("column \"note\" does not exist in target table public.items", refused.getMessage());
    }

    /** Requests that need the same new column at once add it once: a lock, then a second look. */
    @Test
    void concurrentRequestsAddAColumnOnce() throws Exception {
        Replay replay = new Replay("evolve_concurrent", true);
        TestDatabases.execute(replay.target, "ALTER TABLE items ADD COLUMN note text, ADD COLUMN qty integer,"
                + " ADD COLUMN tags text[]");
        // replicator's own tables are made once at start-up in the app
        new TargetSchema(replay.target, new Sql("replicator"), "replicator").ensure();
        List<IncomingEvent> events = replay.events("cloudevents");
        IncomingEvent withMood = events.get(12); // 0013: insert of 8, the first event with mood
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int i = 0; i < 8; i++) {
            Thread thread = new Thread(() -> {
                try {
                    replay.writer.write(replay.route(withMood));
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            threads.add(thread);
        }
        threads.forEach(Thread::start);
        for (Thread thread : threads) {
            thread.join(60_000);
        }

        assertEquals(List.of(), failures);
        assertEquals(1, replay.made.get(), "one request added the column, the others found it");
        assertEquals("8|happy\n", TestDatabases.copy(replay.target, "SELECT id, mood FROM items WHERE id = 8")
                .replace('\t', '|'));
    }

    /** A source that ran the whole workload, a target made from the schema before it, and the pipeline between. */
    private static final class Replay {
        final DataSource source;
        final DataSource target;
        final TableRouter router;
        final TargetWriter writer;
        final AtomicInteger made = new AtomicInteger();
        private final DebeziumDecoder decoder = new DebeziumDecoder();

        Replay(String name, boolean evolve) {
            source = TestDatabases.freshDatabase(TestDatabases.source(), name + "_source");
            TestDatabases.runScript(source, FOLDER + "schema.sql");
            TestDatabases.runScript(source, FOLDER + "workload.sql");
            target = TestDatabases.freshDatabase(TestDatabases.target(), name + "_target");
            TestDatabases.runScript(target, FOLDER + "schema.sql");
            TargetCatalog catalog = new TargetCatalog(target);
            SchemaPlanner planner = new SchemaPlanner(target, source);
            router = new TableRouter(new TableMappings(Map.of(), true), catalog,
                    new ValueConverter(ConversionOptions.DEFAULTS), evolve ? planner : null);
            Sql sql = new Sql("replicator");
            writer = new TargetWriter(new TargetTransactions(target, new TargetSchema(target, sql, "replicator"),
                    catalog::invalidate), sql, new TombstonePruning(target, sql, Duration.ofDays(7)),
                    new SchemaApplier(change -> {
                        made.incrementAndGet();
                        catalog.invalidateAll();
                        planner.made(change);
                    }));
        }

        List<IncomingEvent> events(String capture) {
            List<IncomingEvent> events = Fixtures.loadFolder("schema-evolution/" + capture);
            assertFalse(events.isEmpty());
            return events;
        }

        List<TargetChange> route(IncomingEvent event) throws SQLException {
            List<TargetChange> routed = new ArrayList<>();
            for (RowChange change : decoder.decode(event)) {
                routed.add(router.route(change));
            }
            return routed;
        }
    }
}
