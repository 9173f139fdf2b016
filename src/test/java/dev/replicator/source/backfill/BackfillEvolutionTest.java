package dev.replicator.source.backfill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import dev.replicator.decode.BadEventException;
import dev.replicator.observe.ReplicationMetrics;
import dev.replicator.route.TableMappings;
import dev.replicator.source.TwoDatabaseJobs;
import dev.replicator.source.sequences.SequenceSync;
import dev.replicator.testing.DebeziumLoss;
import dev.replicator.testing.TableComparison;
import dev.replicator.testing.TestDatabases;

/**
 * A backfill with {@code replicator.schema.evolution=add} seeds a target that lacks the table or some columns: the
 * table is created (columns, types, enum, key) or the columns added from the source's catalog, then the rows copied;
 * the sequence sync after it leaves the target handing out keys the source never used.
 */
class BackfillEvolutionTest {

    private static final Duration AMPLE = Duration.ofSeconds(60);
    private static final String SOURCE = """
            CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
            CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, price numeric(10,2), feeling mood,
                                tags text[], added timestamptz DEFAULT now());
            INSERT INTO items (name, price, feeling, tags)
            SELECT 'item ' || g, g / 7.0, (ARRAY['sad', 'ok', 'happy']::mood[])[1 + g % 3], ARRAY['t' || g]
            FROM generate_series(1, 2500) g;
            """;

    @Test
    void aTableTheTargetLacksIsCreatedThenFilledAndItsSequenceFollows() {
        TwoDatabaseJobs jobs = new TwoDatabaseJobs("backfill_evolve_create", SOURCE, "", List.of("public.items"),
                true);

        BackfillReport report = jobs.backfill(AMPLE).run("bf-1", new BackfillRequest(List.of("public.items"), 1000,
                false));

        assertTrue(report.finished());
        TableComparison.assertSameRows(jobs.source, jobs.target, "items", EnumSet.noneOf(DebeziumLoss.class));
        assertEquals("integer|text|numeric(10,2)|mood|text[]|timestamp with time zone\n", TestDatabases.copy(
                jobs.target, "SELECT string_agg(format_type(atttypid, atttypmod), '|' ORDER BY attnum)"
                        + " FROM pg_attribute WHERE attrelid = 'items'::regclass AND attnum > 0"));

        // the created table has no sequence of its own: nothing to move, nothing claimed
        SequenceSync sync = new SequenceSync(jobs.source, jobs.target,
                new TableMappings(java.util.Map.of(), true), new ReplicationMetrics(new SimpleMeterRegistry()));
        assertEquals("missing", sync.run("seq-1").get(0).outcome());
    }

    @Test
    void columnsAddedOnTheSourceAreAddedBeforeTheCopyAndSequencesMoveForwardOnly() {
        String target = "CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL)";
        TwoDatabaseJobs jobs = new TwoDatabaseJobs("backfill_evolve_add", SOURCE, target, List.of("public.items"),
                true);

        jobs.backfill(AMPLE).run("bf-1", new BackfillRequest(List.of("public.items"), 1000, false));
        SequenceSync sync = new SequenceSync(jobs.source, jobs.target,
                new TableMappings(java.util.Map.of(), true), new ReplicationMetrics(new SimpleMeterRegistry()));
        assertEquals("moved", sync.run("seq-1").get(0).outcome());

        TableComparison.assertSameRows(jobs.source, jobs.target, "items", EnumSet.noneOf(DebeziumLoss.class));
        TestDatabases.execute(jobs.target, "INSERT INTO items (name) VALUES ('made on the target')");
        assertEquals("2501\n", TestDatabases.copy(jobs.target, "SELECT max(id) FROM items"),
                "the target's next key is one the source never handed out");
        TestDatabases.execute(jobs.target, "SELECT setval('items_id_seq', 9000)");
        assertEquals("ahead", sync.run("seq-2").get(0).outcome());
        assertEquals("9000\n", TestDatabases.copy(jobs.target, "SELECT last_value FROM items_id_seq"),
                "a target sequence ahead of the source's is never moved back");
    }

    /** Under allow-all-tables too, the sync never moves a sequence of replicator's own schema. */
    @Test
    void theSequenceSyncLeavesReplicatorsOwnSchemaAlone() {
        String own = "CREATE SCHEMA replicator; CREATE TABLE replicator.own (id serial PRIMARY KEY)";
        TwoDatabaseJobs jobs = new TwoDatabaseJobs("sequences_own", own
                + "; INSERT INTO replicator.own SELECT FROM generate_series(1, 3)", own, List.of(), false);
        SequenceSync sync = new SequenceSync(jobs.source, jobs.target,
                new TableMappings(java.util.Map.of(), true), new ReplicationMetrics(new SimpleMeterRegistry()));

        assertEquals(List.of(), sync.run("seq-own"));
        assertEquals("f\n", TestDatabases.copy(jobs.target, "SELECT is_called FROM replicator.own_id_seq"));
    }

    @Test
    void withoutEvolutionAColumnTheTargetLacksIsRefusedAsBefore() {
        String target = "CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL)";
        TwoDatabaseJobs jobs = new TwoDatabaseJobs("backfill_evolve_none", SOURCE, target, List.of("public.items"),
                false);

        BadEventException refused = assertThrows(BadEventException.class, () -> jobs.backfill(AMPLE).run("bf-1",
                new BackfillRequest(List.of("public.items"), 1000, false)));

        assertTrue(refused.getMessage().contains("column \"price\" of source table public.items does not exist"),
                refused.getMessage());
    }
}
