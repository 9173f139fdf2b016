package dev.replicator.source.dispatch;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.quarkus.runtime.annotations.RegisterForReflection;

import dev.replicator.apply.RefreshWriter;
import dev.replicator.config.ReplicatorConfig;
import dev.replicator.source.JobEventTypes;
import dev.replicator.source.backfill.Backfill;
import dev.replicator.source.backfill.BackfillReport;
import dev.replicator.source.backfill.BackfillRequest;
import dev.replicator.source.pull.PullJob;
import dev.replicator.source.pull.PullReport;
import dev.replicator.source.pull.PullRequest;
import dev.replicator.source.sequences.SequenceSync;
import dev.replicator.source.rowref.RowRefresher;
import dev.replicator.source.verify.Verifier;
import dev.replicator.source.verify.VerifyReport;
import dev.replicator.source.verify.VerifyRequest;

/**
 * The source-side requests as the functions and plain HTTP receive them: request JSON in, answer (CloudEvent type
 * and data) out. An unfinished job answers with its own request type, carrying where to continue, so a Trigger
 * routes it back; a finished one answers with a report type that nothing routes back.
 */
@RegisterForReflection(targets = { BackfillReport.class, BackfillReport.TableProgress.class, BackfillRequest.class,
        VerifyReport.class, VerifyReport.TableResult.class, VerifyReport.SampleKey.class, VerifyRequest.class,
        VerifyRequest.Resume.class, PullReport.class, PullRequest.class, SequenceSync.Synced.class })
public class JobDispatch {

    private static final Logger LOG = Logger.getLogger(JobDispatch.class);

    /** The answer event: its type and data. */
    public record Answer(String type, JsonNode data) {
    }

    private final Backfill backfill;
    private final Verifier verifier;
    private final RowRefresher refresher;
    private final ObjectMapper mapper;
    private final ReplicatorConfig config;
    private final PullJob pull;
    private final SequenceSync sequences;
    private final JobHistory history;

    public JobDispatch(Backfill backfill, Verifier verifier, RowRefresher refresher, ObjectMapper mapper,
            ReplicatorConfig config, PullJob pull, SequenceSync sequences, JobHistory history) {
        this.pull = pull;
        this.sequences = sequences;
        this.history = history;
        this.backfill = backfill;
        this.verifier = verifier;
        this.refresher = refresher;
        this.mapper = mapper;
        this.config = config;
    }

    public Answer backfill(String eventId, JsonNode data) {
        BackfillRequest request = JobRequests.backfill(eventId, data, config.backfill().chunkSize());
        BackfillReport report = backfill.run(eventId, request);
        history.backfilled(report.tables());
        if (report.finished()) {
            return new Answer(JobEventTypes.BACKFILL_DONE, withSequences(eventId, mapper.valueToTree(report)));
        }
        ObjectNode next = mapper.createObjectNode();
        tables(next, report.next().tables());
        next.put("chunkSize", report.next().chunkSize());
        next.set("report", mapper.valueToTree(report.tables()));
        return new Answer(JobEventTypes.BACKFILL, next);
    }

    public Answer verify(String eventId, JsonNode data) {
        VerifyRequest request = JobRequests.verify(eventId, data, config.verify().chunkSize(),
                config.verify().sampleKeys());
        VerifyReport report = verifier.run(eventId, request);
        history.verified(report.tables());
        if (report.finished()) {
            return new Answer(JobEventTypes.VERIFY_REPORT, mapper.valueToTree(report));
        }
        VerifyRequest next = report.next();
        ObjectNode continuation = mapper.createObjectNode();
        tables(continuation, next.tables());
        continuation.put("chunkSize", next.chunkSize());
        continuation.put("repair", next.repair());
        continuation.put("sampleKeys", next.sampleKeys());
        continuation.set("resume", mapper.valueToTree(next.resume()));
        continuation.set("report", mapper.valueToTree(report));
        return new Answer(JobEventTypes.VERIFY, continuation);
    }

    /** Drains the slot for one time budget; unfinished, it answers with its own type to be continued. */
    public Answer pull(String eventId, JsonNode data) {
        PullRequest request = PullRequest.of(eventId, data);
        PullReport report;
        try {
            report = pull.run(eventId, request);
        } catch (RuntimeException e) {
            history.pullFailed(config.pull().slot(), e.getMessage());
            throw e;
        }
        history.pulled(report);
        return new Answer(report.done() ? JobEventTypes.PULL_DONE : JobEventTypes.PULL,
                withSequences(eventId, mapper.valueToTree(report)));
    }

    /** {@code replicator.sequences.v1}: moves the target's sequences forward to the source's, now. */
    public Answer sequences(String eventId) {
        ObjectNode report = mapper.createObjectNode();
        report.set("sequences", mapper.valueToTree(sequences.run(eventId)));
        return new Answer(JobEventTypes.SEQUENCES_REPORT, report);
    }

    /**
     * With {@code replicator.sequences.sync} (the default), the end of a pull or backfill moves the target's sequences
     * forward, after its writes committed; the answer lists them.
     */
    private JsonNode withSequences(String eventId, JsonNode report) {
        if (!config.sequences().sync() || !(report instanceof ObjectNode object)) {
            return report;
        }
        try {
            object.set("sequences", mapper.valueToTree(sequences.run(eventId)));
        } catch (RuntimeException e) {
            // the job's writes are committed (and a pull's slot confirmed): a sync that cannot run now is reported
            // with them, not answered as the job's failure, which would have the job sent again for nothing
            LOG.warnf("event %s: the target's sequences were not synced: %s", eventId, e.getMessage());
            object.put("sequencesError", e.getMessage());
        }
        return object;
    }

    /** A PingSource's event: a pull when its {@code replicatorjob} extension says so, a verify otherwise. */
    public Answer ping(String eventId, String job, JsonNode data) {
        return "pull".equals(job) ? pull(eventId, data) : verify(eventId, data);
    }

    public RefreshWriter.Outcome rowRef(String eventId, JsonNode data) {
        return refresher.refresh(eventId, JobRequests.rowRef(eventId, data));
    }

    private static void tables(ObjectNode request, java.util.List<String> tables) {
        if (tables.isEmpty()) {
            request.put("tables", "all");
        } else {
            tables.forEach(request.putArray("tables")::add);
        }
    }
}
