package dev.replicator;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;


import dev.replicator.apply.ApplyResult;
import dev.replicator.apply.ChangeOutcome;
import dev.replicator.apply.GroupCommit;
import dev.replicator.apply.RejectedChangeException;
import dev.replicator.apply.TargetUnavailableException;
import dev.replicator.config.ReplicatorConfig;
import dev.replicator.decode.BadEventException;
import dev.replicator.decode.DebeziumDecoder;
import dev.replicator.decode.IncomingEvent;
import dev.replicator.decode.NativeDecoder;
import dev.replicator.decode.Operation;
import dev.replicator.decode.RowChange;
import dev.replicator.observe.ReplicationMetrics;
import dev.replicator.observe.ReplicationMetrics.Outcome;
import dev.replicator.route.TableRouter;
import dev.replicator.route.TargetChange;
import dev.replicator.source.RowRefresher;

/**
 * The one path every change takes: decode the events, route them to target tables, write them in one transaction
 * (shared with concurrent requests by {@link GroupCommit}). Returns after the commit, so an event is acknowledged
 * only once its effect is durable.
 */
@ApplicationScoped
public class ReplicationPipeline {

    /** CloudEvent type of the native change format. */
    public static final String NATIVE_CHANGE_TYPE = "replicator.change.v1";


    private final DebeziumDecoder debezium = new DebeziumDecoder();
    private final NativeDecoder nativeFormat = new NativeDecoder();
    private final TableRouter router;
    private final GroupCommit writer;
    private final RowRefresher refresher;
    private final ReplicationMetrics metrics;
    private final Set<String> debeziumTypes;
    private final boolean applyTruncate;
    private final boolean acceptUnpositioned;

    @Inject
    public ReplicationPipeline(TableRouter router, GroupCommit writer, RowRefresher refresher,
            ReplicationMetrics metrics, ReplicatorConfig config) {
        this.router = router;
        this.writer = writer;
        this.refresher = refresher;
        this.metrics = metrics;
        this.debeziumTypes = Set.copyOf(config.debezium().eventTypes());
        this.applyTruncate = config.applyTruncate();
        this.acceptUnpositioned = config.ordering().acceptUnpositioned();
    }

    /** True for the CloudEvent types this pipeline decodes. */
    public boolean accepts(String ceType) {
        return NATIVE_CHANGE_TYPE.equals(ceType) || debeziumTypes.contains(ceType);
    }

    public ApplyResult process(List<IncomingEvent> events) {
        return metrics.applyLatency().record(() -> processTimed(events));
    }

    private ApplyResult processTimed(List<IncomingEvent> events) {
        int skipped = 0;
        List<RowChange> changes = new ArrayList<>();
        for (IncomingEvent event : events) {
            List<RowChange> decoded = decode(event);
            if (decoded.isEmpty()) {
                skipped++;
            }
            for (RowChange change : decoded) {
                if (change.op() == Operation.TRUNCATE && !applyTruncate) {
                    skipped++;
                    metrics.record(Outcome.SKIPPED, change.table().toString(), change.op().code());
                    continue;
                }
                if (change.position() == null && !acceptUnpositioned) {
                    throw rejected(change, new BadEventException(change.eventId(), "change of " + change.table()
                            + " has no position (no lsn or sequence); set replicator.ordering.accept-unpositioned=true"
                            + " to apply such changes last-writer-wins"));
                }
                changes.add(change);
            }
        }
        metrics.batch(changes.size());
        List<TargetChange> routed = new ArrayList<>(changes.size());
        List<TargetChange> incomplete = new ArrayList<>();
        for (RowChange change : changes) {
            TargetChange target = route(change);
            (RowRefresher.isIncomplete(target) ? incomplete : routed).add(target);
        }
        List<ChangeOutcome> outcomes = write(routed);
        int applied = 0;
        int stale = 0;
        for (TargetChange change : incomplete) {
            // the event carries nothing but the key: the source's current row stands in for it
            boolean written = refresher.refresh(change).stale() == 0;
            applied += written ? 1 : 0;
            stale += written ? 0 : 1;
            metrics.record(written ? Outcome.APPLIED : Outcome.STALE, change.sourceTable(), change.op().code());
        }
        int superseded = 0;
        for (ChangeOutcome outcome : outcomes) {
            TargetChange change = outcome.change();
            Outcome counted = switch (outcome.result()) {
                case APPLIED -> {
                    applied++;
                    metrics.appliedAt(change.sourceTable(), change.sourceMillis());
                    yield Outcome.APPLIED;
                }
                case STALE -> {
                    stale++;
                    yield Outcome.STALE;
                }
                case SUPERSEDED -> {
                    superseded++;
                    yield Outcome.SUPERSEDED;
                }
            };
            metrics.record(counted, change.sourceTable(), change.op().code());
        }
        return new ApplyResult(applied, stale, superseded, skipped);
    }

    private List<RowChange> decode(IncomingEvent event) {
        try {
            if (NATIVE_CHANGE_TYPE.equals(event.type())) {
                return nativeFormat.decode(event);
            }
            if (event.type() != null && !debeziumTypes.contains(event.type())) {
                throw new BadEventException(event.describe(), "unsupported CloudEvent type '" + event.type()
                        + "' (accepted: " + NATIVE_CHANGE_TYPE + ", " + String.join(", ", debeziumTypes) + ")");
            }
            return debezium.decode(event);
        } catch (BadEventException e) {
            metrics.record(Outcome.REJECTED, "unknown", "unknown");
            throw e;
        } catch (IllegalArgumentException e) {
            // a field of the wrong shape a decoder did not check itself (a blank schema or table name ...)
            metrics.record(Outcome.REJECTED, "unknown", "unknown");
            throw new BadEventException(event.describe(), "malformed event: "
                    + dev.replicator.route.Names.forMessage(String.valueOf(e.getMessage())));
        }
    }

    private TargetChange route(RowChange change) {
        try {
            return router.route(change);
        } catch (BadEventException e) {
            throw rejected(change, e);
        } catch (SQLException e) {
            throw TargetUnavailableException.catalogUnreadable(change.eventId(), e);
        }
    }

    private List<ChangeOutcome> write(List<TargetChange> routed) {
        try {
            return writer.write(routed);
        } catch (RejectedChangeException e) {
            routed.stream().filter(c -> c.eventId().equals(e.eventId())).findFirst()
                    .ifPresent(c -> metrics.record(Outcome.REJECTED, c.sourceTable(), c.op().code()));
            throw e;
        }
    }

    private RuntimeException rejected(RowChange change, BadEventException e) {
        metrics.record(Outcome.REJECTED, change.table().toString(), change.op().code());
        return e;
    }
}
