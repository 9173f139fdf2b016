package dev.replicator.source.backfill;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import org.jboss.logging.Logger;

import dev.replicator.apply.CopyWriter;
import dev.replicator.observe.ReplicationMetrics;
import dev.replicator.source.JobTable;
import dev.replicator.source.JobTables;
import dev.replicator.source.RowReader;

/**
 * Copies source tables to the target in primary-key order, one chunk per source snapshot and target transaction:
 * rows stream from {@code COPY ... TO STDOUT} on the source into {@code COPY ... FROM STDIN} on the target
 * ({@link CopyWriter}), so memory does not grow with the chunk. Copied rows record no position: they rank as snapshot
 * reads, below every streamed change, and the copy leaves alone every key the stream wrote or deleted. Progress is
 * checkpointed in the chunk's transaction, and a chunk whose checkpoint another invocation of the table advanced first
 * is rolled back; an invocation stops after its time budget and reports where it stands, to be continued by the next
 * invocation.
 */
public class Backfill {

    private static final Logger LOG = Logger.getLogger(Backfill.class);

    private final JobTables tables;
    private final RowReader reader;
    private final CopyWriter writer;
    private final BackfillCheckpoints checkpoints;
    private final ReplicationMetrics metrics;
    private final Duration budget;

    public Backfill(JobTables tables, RowReader reader, CopyWriter writer, BackfillCheckpoints checkpoints,
            ReplicationMetrics metrics, Duration budget) {
        this.tables = tables;
        this.reader = reader;
        this.writer = writer;
        this.checkpoints = checkpoints;
        this.metrics = metrics;
        this.budget = budget;
    }

    public BackfillReport run(String eventId, BackfillRequest request) {
        long deadline = System.nanoTime() + budget.toNanos();
        List<JobTable> resolved = tables.resolve(eventId, request.tables());
        if (request.restart()) {
            resolved.forEach(t -> checkpoints.reset(t.sourceId().toString()));
        }
        List<BackfillReport.TableProgress> progress = new ArrayList<>();
        long applied = 0;
        long stale = 0;
        int chunks = 0;
        int tried = 0;
        int direct = 0;
        boolean finished = true;
        for (JobTable table : resolved) {
            String name = table.sourceId().toString();
            BackfillCheckpoints.Progress at = checkpoints.read(name);
            if (at.done()) {
                progress.add(CopyProgress.finished(name, at.rows()));
                metrics.backfillProgress(name, 1, 0);
                continue;
            }
            CopyProgress moving = new CopyProgress(eventId, name, reader.estimatedRows(table), at.rows(),
                    System.nanoTime());
            BackfillReport.TableProgress reached = null;
            if (at.lastKey() == null) {
                // committed before the first chunk's snapshot is taken, so that every pulled change that snapshot
                // lacks is written with a position, which the chunk leaves alone
                checkpoints.begin(name);
            }
            // at least one chunk per call, counted in tries: a chunk that loses its checkpoint copies nothing
            while (!at.done() && (tried == 0 || System.nanoTime() < deadline)) {
                tried++;
                BackfillCheckpoints.Progress from = at;
                AtomicReference<RowReader.CopyPlan> planned = new AtomicReference<>();
                CopyWriter.Outcome outcome;
                try {
                    outcome = reader.copyChunk(eventId, table, from.lastKey(), request.chunkSize(), (plan, rows) -> {
                        planned.set(plan);
                        return writer.write(eventId, new CopyWriter.Chunk(table.written(), table.target().columns(),
                                plan.after(), plan.last(), plan.readAt()), rows, (connection, copied) -> {
                                    if (!checkpoints.advance(connection, name, from.lastKey(),
                                            plan.last() == null ? from.lastKey() : plan.last(), copied, plan.end())) {
                                        throw new CheckpointLost();
                                    }
                                });
                    });
                } catch (CheckpointLost lost) {
                    // another invocation advanced this table from the same key first, and may have finished it, after
                    // which pull no longer fences its rows: this chunk, read earlier, was rolled back (it could put
                    // back older rows). Take up that invocation's progress.
                    at = checkpoints.read(name);
                    LOG.infof("backfill %s of %s: another invocation copied this chunk first; it was rolled back,"
                            + " continuing from %d rows copied%s", eventId, name, at.rows(), at.done() ? ", done" : "");
                    reached = moving.advanced(at.rows(), at.done(), metrics, System.nanoTime());
                    continue;
                }
                applied += outcome.applied();
                stale += outcome.copied() - outcome.applied();
                chunks++;
                direct += outcome.direct() ? 1 : 0;
                metrics.backfilled(name, outcome.applied(), outcome.copied() - outcome.applied());
                RowReader.CopyPlan plan = planned.get();
                at = new BackfillCheckpoints.Progress(plan.last() == null ? from.lastKey() : plan.last(),
                        from.rows() + outcome.copied(), plan.end());
                reached = moving.advanced(at.rows(), at.done(), metrics, System.nanoTime());
            }
            finished &= at.done();
            progress.add(reached != null ? reached : moving.at(at.rows(), at.done(), System.nanoTime()));
        }
        BackfillReport report = new BackfillReport(progress, applied, stale, chunks, direct, finished,
                finished ? null : request.continuation());
        LOG.infof("backfill %s: %d chunks, %d rows applied, %d stale, %d of %d tables done%s", eventId, chunks, applied,
                stale, progress.stream().filter(BackfillReport.TableProgress::done).count(), progress.size(),
                finished ? "" : ", continuing");
        return report;
    }

    /**
     * Thrown in a chunk's transaction when its checkpoint lost to another invocation's, so that the transaction is
     * rolled back (work given to {@link dev.replicator.apply.TargetTransactions} must not roll back itself).
     */
    private static final class CheckpointLost extends RuntimeException {
        CheckpointLost() {
            super("another invocation advanced the backfill from the same key first", null, false, false);
        }
    }
}
