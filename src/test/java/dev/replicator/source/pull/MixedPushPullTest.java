package dev.replicator.source.pull;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.LongStream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.replicator.apply.CopySql;
import dev.replicator.apply.CopyWriter;
import dev.replicator.apply.Sql;
import dev.replicator.apply.TargetSchema;
import dev.replicator.apply.TargetUnavailableException;
import dev.replicator.decode.DebeziumDecoder;
import dev.replicator.decode.IncomingEvent;
import dev.replicator.decode.RowChange;
import dev.replicator.route.TableMappings;
import dev.replicator.route.TargetCatalog;
import dev.replicator.route.TargetChange;
import dev.replicator.source.JobTables;
import dev.replicator.source.RowReader;
import dev.replicator.source.UpstreamCatalog;
import dev.replicator.source.backfill.Backfill;
import dev.replicator.source.backfill.BackfillCheckpoints;
import dev.replicator.source.backfill.BackfillRequest;
import dev.replicator.testing.DebeziumLoss;
import dev.replicator.testing.PushSlot;
import dev.replicator.testing.TableComparison;
import dev.replicator.testing.TestDatabases;

/**
 * Pushed and pulled changes of the same rows converge: random source histories (inserts, updates, key changes,
 * deletes) are both pulled from one slot and pushed, as Debezium events with Debezium's positions
 * ({@code lsn}, {@code sequence: [last commit LSN, LSN]}) read from a second slot, delivered shuffled, late and
 * twice. Pulls stop after random numbers of changes, and some die between the target commit and the slot
 * confirmation. Backfill chunks of the same table (restarted now and then) copy the source's rows in between. Whatever the interleaving, the target ends equal to the source. {@code -Dpull.mixed.seeds=N} runs
 * more seeds.
 */
class MixedPushPullTest {

    static LongStream seeds() {
        return LongStream.range(1, 1 + Integer.getInteger("pull.mixed.seeds", 3));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void pushedAndPulledChangesConverge(long seed) throws SQLException {
        Random random = new Random(seed);
        PullHarness h = new PullHarness("pull_mixed");
        h.both("CREATE TABLE items (id int PRIMARY KEY, v text, n int)");
        h.createSlot();
        PushSlot pushSlot = PushSlot.copyOf(h.source, h.settings.slot(), h.settings.slot() + "_push",
                h.settings.publication());
        DebeziumDecoder debezium = new DebeziumDecoder();
        List<IncomingEvent> undelivered = new ArrayList<>();
        List<IncomingEvent> delivered = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        int nextId = 1;
        int crashes = 0;
        int backfills = 0;
        long stale = 0;

        for (int round = 0; round < 30; round++) {
            for (int tx = random.nextInt(3) + 1; tx > 0; tx--) {
                StringBuilder sql = new StringBuilder("BEGIN;");
                for (int op = random.nextInt(4) + 1; op > 0; op--) {
                    int pick = ids.isEmpty() ? 0 : random.nextInt(10);
                    if (pick < 4) {
                        ids.add(nextId);
                        sql.append("INSERT INTO items VALUES (").append(nextId++).append(", 'v").append(random.nextInt(1000))
                                .append("', ").append(random.nextInt(100)).append(");");
                    } else {
                        int id = ids.get(random.nextInt(ids.size()));
                        if (pick < 7) {
                            sql.append("UPDATE items SET v = 'u").append(random.nextInt(1000)).append("', n = n + 1 WHERE id = ")
                                    .append(id).append(';');
                        } else if (pick < 9) {
                            ids.remove(Integer.valueOf(id));
                            ids.add(nextId);
                            sql.append("UPDATE items SET id = ").append(nextId++).append(" WHERE id = ").append(id).append(';');
                        } else {
                            ids.remove(Integer.valueOf(id));
                            sql.append("DELETE FROM items WHERE id = ").append(id).append(';');
                        }
                    }
                }
                TestDatabases.execute(h.source, sql.append("COMMIT;").toString());
            }
            undelivered.addAll(pushSlot.take());
            int action = random.nextInt(10);
            if (action < 4) {
                boolean dies = random.nextInt(3) == 0;
                LogicalSlot slot = !dies ? new LogicalSlot(h.source, h.settings) : new LogicalSlot(h.source, h.settings) {
                    @Override
                    void confirm(SlotReading reading, long lsn) {
                        throw new IllegalStateException("died before confirming");
                    }
                };
                try {
                    stale += h.job(slot).run("mixed", new PullRequest(random.nextInt(20))).stale();
                } catch (IllegalStateException e) {
                    crashes++;
                }
            } else if (action == 9) {
                backfills += backfill(h, random);
            } else if (action < 8) {
                Collections.shuffle(undelivered, random);
                int count = random.nextInt(undelivered.size() + 1);
                List<IncomingEvent> batch = new ArrayList<>(undelivered.subList(0, count));
                if (!delivered.isEmpty()) {
                    batch.add(delivered.get(random.nextInt(delivered.size()))); // a redelivery
                }
                push(h, debezium, batch, undelivered, delivered);
            }
        }
        for (int attempt = 0; attempt < 20 && !undelivered.isEmpty(); attempt++) {
            undelivered.addAll(pushSlot.take());
            Collections.shuffle(undelivered, random);
            push(h, debezium, new ArrayList<>(undelivered), undelivered, delivered);
        }
        assertTrue(undelivered.isEmpty(), "pushed events that never applied: " + undelivered.size());
        PullReport last;
        do {
            last = h.pull();
            stale += last.stale();
        } while (!last.done());

        TableComparison.assertSameRows(h.source, h.target, "items", EnumSet.noneOf(DebeziumLoss.class));
        assertTrue(stale > 0, "no pulled change was ever found already pushed");
        System.out.printf("seed %d: %d pushed events, %d pulls died before confirming, %d pulled changes stale,"
                + " %d backfill chunks, %d row positions left%n", seed, delivered.size(), crashes, stale, backfills,
                PullHarness.count(h.target, "SELECT count(*) FROM replicator.row_position"));
    }

    /**
     * One chunk of a backfill of the table (1 to 8 rows), from where the last one stopped or, now and then, from the
     * first key again: it copies the source's current rows between the pulled and pushed changes.
     */
    private static int backfill(PullHarness h, Random random) {
        Sql sql = new Sql("replicator");
        JobTables tables = new JobTables(new TableMappings(Map.of(), true), new UpstreamCatalog(
                new TargetCatalog(h.source)), h.catalog, h.source, "replicator");
        Backfill backfill = new Backfill(tables, new RowReader(h.source, h.router), new CopyWriter(
                h.writer.transactions(), new CopySql("replicator")), new BackfillCheckpoints(h.target, sql,
                        new TargetSchema(h.target, sql, "replicator")), h.metrics, Duration.ZERO);
        return backfill.run("mixed-backfill", new BackfillRequest(List.of("public.items"), random.nextInt(8) + 1,
                random.nextInt(4) == 0)).chunks();
    }

    /** Delivers each event on its own, like a broker; one that must wait for another (409) stays for later. */
    private static void push(PullHarness h, DebeziumDecoder debezium, List<IncomingEvent> batch,
            List<IncomingEvent> undelivered, List<IncomingEvent> delivered) throws SQLException {
        for (IncomingEvent event : batch) {
            List<TargetChange> routed = new ArrayList<>();
            for (RowChange change : debezium.decode(event)) {
                routed.add(h.router.route(change));
            }
            try {
                h.writer.write(routed);
                if (undelivered.remove(event)) {
                    delivered.add(event);
                }
            } catch (TargetUnavailableException e) {
                assertEquals(409, e.status(), e.getMessage());
            }
        }
    }
}
