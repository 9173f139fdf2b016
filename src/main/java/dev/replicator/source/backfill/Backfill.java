package dev.replicator.source.backfill;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jboss.logging.Logger;

import dev.replicator.apply.ChangeOutcome;
import dev.replicator.apply.TargetWriter;
import dev.replicator.observe.ReplicationMetrics;
import dev.replicator.source.JobTable;
import dev.replicator.source.JobTables;
import dev.replicator.source.RowReader;

/**
 * Copies source tables to the target in primary-key order, one chunk per source read and target transaction, so
 * memory stays bounded by the chunk. Each chunk is written through the fenced writer as snapshot reads at
 * {@code (0, WAL position at read time)}: every streamed change outranks it, so a backfill never overwrites what the
 * stream wrote, whatever the order of arrival. Progress is checkpointed in the chunk's transaction; an invocation
 * stops after its time budget and reports where it stands, to be continued by the next invocation.
 */
public class Backfill {

    private static final Logger LOG = Logger.getLogger(Backfill.class);

    private final JobTables tables;
    private final RowReader reader;
    private final TargetWriter writer;
    private final BackfillCheckpoints checkpoints;
    private final ReplicationMetrics metrics;
    private final Duration budget;

    public Backfill(JobTables tables, RowReader reader, TargetWriter writer, BackfillCheckpoints checkpoints,
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
        boolean finished = true;
        for (JobTable table : resolved) {
            String name = table.sourceId().toString();
            BackfillCheckpoints.Progress at = checkpoints.read(name);
            while (!at.done() && (chunks == 0 || System.nanoTime() < deadline)) { // at least one chunk per call
                RowReader.Chunk chunk = reader.chunk(eventId, table, at.lastKey(), request.chunkSize());
                boolean last = chunk.rows().size() < request.chunkSize();
                BackfillCheckpoints.Progress from = at;
                AtomicBoolean counted = new AtomicBoolean();
                List<ChangeOutcome> outcomes = writer.write(chunk.rows(), connection -> counted.set(checkpoints
                        .advance(connection, name, from.lastKey(), chunk.lastKey(), chunk.rows().size(), last)));
                long written = outcomes.stream().filter(ChangeOutcome::applied).count();
                applied += written;
                stale += outcomes.size() - written;
                chunks++;
                metrics.backfilled(name, written, outcomes.size() - written);
                // another invocation advanced this table from the same key first: take up its progress
                at = counted.get() ? new BackfillCheckpoints.Progress(chunk.lastKey(), from.rows() + chunk.rows().size(),
                        last) : checkpoints.read(name);
            }
            finished &= at.done();
            progress.add(new BackfillReport.TableProgress(name, at.rows(), at.done()));
        }
        BackfillReport report = new BackfillReport(progress, applied, stale, chunks, finished,
                finished ? null : request.continuation());
        LOG.infof("backfill %s: %d chunks, %d rows applied, %d stale, %d of %d tables done%s", eventId, chunks, applied,
                stale, progress.stream().filter(BackfillReport.TableProgress::done).count(), progress.size(),
                finished ? "" : ", continuing");
        return report;
    }
}
