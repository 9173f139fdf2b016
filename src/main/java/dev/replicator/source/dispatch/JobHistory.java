package dev.replicator.source.dispatch;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.inject.Singleton;

import dev.replicator.observe.LogText;
import dev.replicator.observe.ReplicationMetrics;
import dev.replicator.source.backfill.BackfillReport;
import dev.replicator.source.pull.PullReport;
import dev.replicator.source.verify.VerifyReport;

/**
 * The latest job results this instance produced, for {@code GET /status}: the last pull per slot with its outcome,
 * and the last backfill and verify figures per table. Memory only, a few entries per table; what outlives the
 * instance (backfill checkpoints, pull coverage) is read from the target instead.
 */
@Singleton
public class JobHistory {

    /** The last pull of a slot: {@code done}, {@code continuing} or {@code failed} (then {@code error} says why). */
    public record Pull(Instant at, String outcome, long transactions, long applied, long stale, String confirmedLsn,
            String error) {
    }

    /** A table's figures from the last backfill invocation that worked on it. */
    public record Backfill(Instant at, BackfillReport.TableProgress progress) {
    }

    /** A table's figures from the last verify invocation that compared it (counts of that invocation). */
    public record Verify(Instant at, VerifyReport.TableResult result) {
    }

    private final ReplicationMetrics metrics;
    private final Map<String, Pull> pulls = new ConcurrentHashMap<>();
    private final Map<String, Backfill> backfills = new ConcurrentHashMap<>();
    private final Map<String, Verify> verifies = new ConcurrentHashMap<>();

    public JobHistory(ReplicationMetrics metrics) {
        this.metrics = metrics;
    }

    public void pulled(PullReport report) {
        String outcome = report.done() ? "done" : "continuing";
        pulls.put(report.slot(), new Pull(Instant.now(), outcome, report.transactions(), report.applied(),
                report.stale(), report.confirmedLsn(), null));
        metrics.pullRun(report.slot(), outcome);
    }

    /** A pull that failed: its answer's message (one line, without row values) is kept as the error. */
    public void pullFailed(String slot, String error) {
        pulls.put(slot, new Pull(Instant.now(), "failed", 0, 0, 0, null, LogText.oneLine(error)));
        metrics.pullRun(slot, "failed");
    }

    public void backfilled(List<BackfillReport.TableProgress> tables) {
        Instant now = Instant.now();
        tables.forEach(t -> backfills.put(t.table(), new Backfill(now, t)));
    }

    public void verified(List<VerifyReport.TableResult> tables) {
        Instant now = Instant.now();
        tables.forEach(t -> verifies.put(t.table(), new Verify(now, t)));
    }

    public Map<String, Pull> pulls() {
        return Map.copyOf(pulls);
    }

    public Map<String, Backfill> backfills() {
        return Map.copyOf(backfills);
    }

    public Map<String, Verify> verifies() {
        return Map.copyOf(verifies);
    }
}
