package dev.replicator.observe;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;

import dev.replicator.apply.GroupCommit;

/**
 * Counts what replicator does, per table and operation, both for Prometheus ({@code /q/metrics}) and for code that
 * asks directly ({@link #count}).
 */
@ApplicationScoped
public class ReplicationMetrics {

    /** Outcomes counted per table and operation. */
    public enum Outcome {
        APPLIED, STALE, SUPERSEDED, REJECTED, SKIPPED
    }

    private final MeterRegistry registry;
    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> lastSourceMillis = new ConcurrentHashMap<>();
    private final Timer applyLatency;
    private final DistributionSummary batchSize;
    private final DistributionSummary groupChanges;
    private final DistributionSummary groupRequests;

    @Inject
    public ReplicationMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.applyLatency = Timer.builder("replicator.apply.latency")
                .description("Time to decode, route and commit one request")
                .publishPercentileHistogram()
                .register(registry);
        this.batchSize = DistributionSummary.builder("replicator.batch.size")
                .description("Changes per request")
                .register(registry);
        this.groupChanges = DistributionSummary.builder("replicator.group.size")
                .description("Changes per target transaction (requests coalesced by group commit)")
                .register(registry);
        this.groupRequests = DistributionSummary.builder("replicator.group.requests")
                .description("Requests per target transaction")
                .register(registry);
        // exported from the start (0), so that a dashboard or an alert on it has a series before the first refusal
        registry.counter("replicator.refused");
    }

    /** Records committed groups and refused requests. */
    public GroupCommit.Listener groupListener() {
        return new GroupCommit.Listener() {
            @Override
            public void committed(int requests, int changes) {
                groupRequests.record(requests);
                groupChanges.record(changes);
            }

            @Override
            public void refused(int changes) {
                registry.counter("replicator.refused").increment();
            }
        };
    }

    /** Changes admitted and not yet answered. */
    public void inFlight(IntSupplier changes) {
        Gauge.builder("replicator.in.flight.changes", changes, IntSupplier::getAsInt)
                .description("Changes admitted and not yet answered (capped by max-changes-in-flight)")
                .strongReference(true) // a gauge holds its supplier weakly: a method reference would be collected
                .register(registry);
    }

    /** The share of recent group writes their writers spent waiting for a CPU. */
    public void cpuWait(DoubleSupplier share) {
        Gauge.builder("replicator.group.cpu.wait.ratio", share, DoubleSupplier::getAsDouble)
                .description("Share of recent group writes spent waiting for a CPU; from 0.3 on (until it falls "
                        + "below 0.15), groups wait for the one being written up to max-wait-cpu-bound, not max-wait")
                .strongReference(true)
                .register(registry);
    }

    /** Body bytes of the requests admitted and not yet answered. */
    public void inFlightBytes(LongSupplier bytes) {
        Gauge.builder("replicator.in.flight.bytes", bytes, LongSupplier::getAsLong)
                .description("Body bytes of requests admitted and not yet answered (capped by max-bytes-in-flight)")
                .strongReference(true)
                .register(registry);
    }

    /** A request refused because the body bytes in flight reached their cap. */
    public void refusedByBytes() {
        registry.counter("replicator.refused").increment();
        answered(503);
    }

    /** A request answered with a failure status (400, 409, 422, 503, ...): what a sender retries or dead-letters. */
    public void answered(int status) {
        registry.counter("replicator.answers", "status", String.valueOf(status)).increment();
    }

    /** Committed groups and the requests they held, since start. */
    public long groups() {
        return groupRequests.count();
    }

    public long groupedRequests() {
        return (long) groupRequests.totalAmount();
    }

    public void record(Outcome outcome, String table, String op) {
        counts.computeIfAbsent(key(outcome, table, op), k -> {
            LongAdder adder = new LongAdder();
            registry.more().counter("replicator.changes", List.of(Tag.of("outcome", outcome.name().toLowerCase()),
                    Tag.of("table", table), Tag.of("op", op)), adder);
            return adder;
        }).increment();
    }

    /** Remembers the newest source commit time applied to a table, for the lag gauge. */
    public void appliedAt(String table, long sourceMillis) {
        if (sourceMillis < 0) {
            return;
        }
        lastSourceMillis.computeIfAbsent(table, t -> {
            AtomicLong last = new AtomicLong();
            Gauge.builder("replicator.lag.seconds", last,
                    l -> l.get() == 0 ? Double.NaN : (System.currentTimeMillis() - l.get()) / 1000.0)
                    .description("Now minus the source commit time of the newest change applied to the table")
                    .tag("table", t)
                    .register(registry);
            return last;
        }).accumulateAndGet(sourceMillis, Math::max);
    }

    /** An event that could never be applied was kept in the target instead of being answered 4xx. */
    /** An addition to the target's schema was committed ({@code kind}: create_type, create_table, add_column). */
    public void schemaChanged(String kind, String object) {
        registry.counter("replicator.schema.changes", "kind", kind, "object", object).increment();
    }

    /** Additions to the target's schema of one kind committed so far, over all objects. */
    public double schemaChanges(String kind) {
        return registry.find("replicator.schema.changes").tag("kind", kind).counters().stream()
                .mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
    }

    /** A target sequence moved forward ({@code moved}) or left alone ahead of the source's ({@code ahead}). */
    public void sequenceSynced(String sequence, String outcome) {
        registry.counter("replicator.sequences.synced", "sequence", sequence, "outcome", outcome).increment();
    }

    public void parked(int status) {
        registry.counter("replicator.parked", "status", String.valueOf(status)).increment();
    }

    /** Rows a backfill chunk wrote, and rows it left alone because the target already held newer ones. */
    public void backfilled(String table, long applied, long stale) {
        registry.counter("replicator.backfill.rows", "table", table, "outcome", "applied").increment(applied);
        registry.counter("replicator.backfill.rows", "table", table, "outcome", "stale").increment(stale);
    }

    /**
     * Rows a verify compared or found differing ({@code result}: compared, changed, missing, extra, repaired).
     */
    public void verified(String table, String result, long rows) {
        registry.counter("replicator.verify.rows", "table", table, "result", result).increment(rows);
    }

    /** Rows read from the source by key and applied (written, deleted) or left alone (stale). */
    public void refreshed(String table, String outcome, long rows) {
        registry.counter("replicator.refresh.rows", "table", table, "outcome", outcome).increment(rows);
    }

    public Timer applyLatency() {
        return applyLatency;
    }

    public void batch(int size) {
        batchSize.record(size);
    }

    /** How many changes of a table and operation ended with the outcome since start. */
    public long count(Outcome outcome, String table, String op) {
        LongAdder adder = counts.get(key(outcome, table, op));
        return adder == null ? 0 : adder.sum();
    }

    /** Sum over all tables and operations. */
    public long total(Outcome outcome) {
        String prefix = outcome.name() + "|";
        return counts.entrySet().stream().filter(e -> e.getKey().startsWith(prefix))
                .mapToLong(e -> e.getValue().sum()).sum();
    }

    private final Map<String, AtomicLong[]> slotLag = new ConcurrentHashMap<>();

    /**
     * What a pull of a logical slot left behind: the WAL the slot still holds back (bytes between the source's
     * current WAL position and the slot's confirmed position) and, when it stopped before draining the slot, the age
     * of the newest change it applied (0 when drained).
     */
    public void slotLag(String slot, long bytes, long millis, long applied, long stale) {
        AtomicLong[] lag = slotLagValues(slot);
        lag[0].set(bytes);
        lag[1].set(millis);
        registry.counter("replicator.pull.changes", "slot", slot, "outcome", "applied").increment(applied);
        registry.counter("replicator.pull.changes", "slot", slot, "outcome", "stale").increment(stale);
    }

    private AtomicLong[] slotLagValues(String slot) {
        return slotLag.computeIfAbsent(slot, s -> {
            AtomicLong[] values = { new AtomicLong(), new AtomicLong() };
            Gauge.builder("replicator.pull.slot.lag.bytes", values[0], AtomicLong::get)
                    .description("WAL the replication slot retains: current WAL position minus confirmed position")
                    .tag("slot", s).register(registry);
            Gauge.builder("replicator.pull.slot.lag.seconds", values[1], v -> v.get() / 1000.0)
                    .description("Age of the newest change applied by the last pull when it left more in the slot (0: drained)")
                    .tag("slot", s).register(registry);
            return values;
        });
    }

    /**
     * The WAL a slot retains, as read from the source's catalog by {@link DatabaseProbe} between pulls: the gauge
     * keeps moving while no pull runs.
     */
    public void slotRetained(String slot, long bytes) {
        slotLagValues(slot)[0].set(bytes);
    }

    /** A pull ended: {@code done} (drained), {@code continuing} (budget or size reached) or {@code failed}. */
    public void pullRun(String slot, String outcome) {
        registry.counter("replicator.pull.runs", "slot", slot, "outcome", outcome).increment();
        if (!"failed".equals(outcome)) {
            pullSucceeded.computeIfAbsent(slot, s -> {
                AtomicLong at = new AtomicLong();
                Gauge.builder("replicator.pull.last.success.timestamp.seconds", at, a -> a.get() / 1000.0)
                        .description("When a pull of the slot last ended without failing (seconds since the epoch)")
                        .tag("slot", s).register(registry);
                return at;
            }).set(System.currentTimeMillis());
        }
    }

    /**
     * Where a table's backfill stands: the share of its estimated rows copied (NaN while the estimate is unknown) and
     * the seconds left at the current rate (NaN before a rate is known; 0 when done).
     */
    public void backfillProgress(String table, double ratio, double secondsLeft) {
        double[] values = backfillProgress.computeIfAbsent(table, t -> {
            double[] v = { Double.NaN, Double.NaN };
            Gauge.builder("replicator.backfill.progress.ratio", v, a -> a[0])
                    .description("Rows of the table copied by backfill over its estimated rows (pg_class.reltuples)")
                    .tag("table", t).strongReference(true).register(registry);
            Gauge.builder("replicator.backfill.remaining.seconds", v, a -> a[1])
                    .description("Estimated seconds until the table's backfill is done, at the rate of its last run")
                    .tag("table", t).strongReference(true).register(registry);
            return v;
        });
        values[0] = ratio;
        values[1] = secondsLeft;
    }

    /** Whether a database answered the last probe: 1 yes, 0 no (see {@link DatabaseProbe}). */
    public void databaseUp(String database, DoubleSupplier up) {
        Gauge.builder("replicator.database.up", up, DoubleSupplier::getAsDouble)
                .description("1 when the database answered the last probe, 0 when it did not (probed at most every "
                        + "few seconds, when metrics are read)")
                .tag("database", database).strongReference(true).register(registry);
    }

    private final Map<String, AtomicLong> pullSucceeded = new ConcurrentHashMap<>();
    private final Map<String, double[]> backfillProgress = new ConcurrentHashMap<>();

    private static String key(Outcome outcome, String table, String op) {
        return outcome.name() + "|" + table + "|" + op;
    }
}
