package dev.replicator;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.replicator.apply.ApplyResult;
import dev.replicator.apply.ChangeOutcome;
import dev.replicator.apply.GroupCommit;
import dev.replicator.apply.ParkedEvent;
import dev.replicator.apply.RejectedChangeException;
import dev.replicator.apply.TargetUnavailableException;
import dev.replicator.apply.RejectedEvents;
import dev.replicator.config.ReplicatorConfig;
import dev.replicator.decode.BadEventException;
import dev.replicator.decode.DebeziumDecoder;
import dev.replicator.decode.IncomingEvent;
import dev.replicator.decode.NativeDecoder;
import dev.replicator.decode.Operation;
import dev.replicator.decode.RowChange;
import dev.replicator.observe.LogText;
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



    private static final Logger REJECTED = Logger.getLogger("dev.replicator.rejected");

    private final DebeziumDecoder debezium = new DebeziumDecoder();
    private final NativeDecoder nativeFormat = new NativeDecoder();
    private final TableRouter router;
    private final GroupCommit writer;
    private final RejectedEvents rejectedEvents;
    private final RowRefresher refresher;
    private final ReplicationMetrics metrics;
    private final Set<String> debeziumTypes;
    private final boolean applyTruncate;
    private final boolean acceptUnpositioned;

    @Inject
    public ReplicationPipeline(TableRouter router, GroupCommit writer, RejectedEvents rejectedEvents,
            RowRefresher refresher, ReplicationMetrics metrics, ReplicatorConfig config) {
        this.router = router;
        this.writer = writer;
        this.rejectedEvents = rejectedEvents;
        this.refresher = refresher;
        this.metrics = metrics;
        this.debeziumTypes = Set.copyOf(config.debezium().eventTypes());
        this.applyTruncate = config.applyTruncate();
        this.acceptUnpositioned = config.ordering().acceptUnpositioned();
    }

    /** True for the CloudEvent types this pipeline decodes. */
    public boolean accepts(String ceType) {
        return NativeDecoder.TYPE.equals(ceType) || debeziumTypes.contains(ceType);
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
                if (skippedTruncate(change)) {
                    skipped++;
                    continue;
                }
                if (change.position() == null && !acceptUnpositioned) {
                    throw rejected(change, unpositioned(change));
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
        Counts counts = new Counts();
        counts.skipped = skipped;
        for (TargetChange change : incomplete) {
            refresh(change, counts);
        }
        count(outcomes, counts);
        return new ApplyResult(counts.applied, counts.stale, counts.superseded, counts.skipped);
    }

    /**
     * Applies a batch whose elements stand alone (with {@code replicator.rejected.park=true}): every change that can be
     * applied is, and every element that can never be applied (unreadable, unknown table or column, unconvertible
     * value, refused by the target) is kept in the rejected table with its reason and place in the batch, in the
     * same transaction as the good changes. Returns after that commit. A change waiting for its row (409) or a target
     * that is unavailable (503) still fails the whole batch, which is then delivered again.
     *
     * @param replayHeaders the request headers kept with each parked element, to replay it later
     */
    public ApplyResult processParking(List<BatchElement> elements, Map<String, String> replayHeaders) {
        return metrics.applyLatency().record(() -> processParkingTimed(elements, replayHeaders));
    }

    private ApplyResult processParkingTimed(List<BatchElement> elements, Map<String, String> replayHeaders) {
        Map<Integer, ParkedEvent> parked = new TreeMap<>();
        int skipped = 0;
        List<RowChange> changes = new ArrayList<>();
        List<BatchElement> changeElements = new ArrayList<>();
        for (BatchElement element : elements) {
            if (element.unreadable() != null) {
                metrics.record(Outcome.REJECTED, "unknown", "unknown");
                parked.put(element.index(), parkedEvent(element, 400, reason(element.unreadable()),
                        replayHeaders));
                continue;
            }
            List<RowChange> decoded;
            try {
                decoded = decode(element.event());
            } catch (BadEventException e) {
                parked.put(element.index(), parkedEvent(element, 400, reason(e), replayHeaders));
                continue;
            }
            if (decoded.isEmpty()) {
                skipped++;
            }
            for (RowChange change : decoded) {
                if (skippedTruncate(change)) {
                    skipped++;
                } else if (change.position() == null && !acceptUnpositioned) {
                    metrics.record(Outcome.REJECTED, change.table().toString(), change.op().code());
                    parked.putIfAbsent(element.index(), parkedEvent(element, 400, reason(unpositioned(change)),
                            replayHeaders));
                } else {
                    changes.add(change);
                    changeElements.add(element);
                }
            }
        }
        metrics.batch(changes.size());
        Map<TargetChange, BatchElement> elementOf = new IdentityHashMap<>();
        List<TargetChange> routed = new ArrayList<>(changes.size());
        List<TargetChange> incomplete = new ArrayList<>();
        for (int i = 0; i < changes.size(); i++) {
            RowChange change = changes.get(i);
            BatchElement element = changeElements.get(i);
            if (parked.containsKey(element.index())) {
                continue; // another change of the element cannot be applied: the element is kept whole
            }
            TargetChange target;
            try {
                target = router.route(change);
            } catch (BadEventException e) {
                rejected(change, e);
                parked.put(element.index(), parkedEvent(element, 400, reason(e), replayHeaders));
                continue;
            } catch (SQLException e) {
                throw TargetUnavailableException.catalogUnreadable(change.eventId(), e);
            }
            elementOf.put(target, element);
            (RowRefresher.isIncomplete(target) ? incomplete : routed).add(target);
        }
        ParkingInTransaction parking = new ParkingInTransaction(parked, elementOf, replayHeaders);
        GroupCommit.Tolerated written = writer.writeParking(routed, parking);
        for (GroupCommit.Refusal refusal : written.refused()) {
            metrics.record(Outcome.REJECTED, refusal.change().sourceTable(), refusal.change().op().code());
        }
        Counts counts = new Counts();
        counts.skipped = skipped;
        count(written.outcomes(), counts);
        List<ParkedEvent> afterwards = new ArrayList<>();
        for (TargetChange change : incomplete) {
            try {
                refresh(change, counts);
            } catch (RejectedChangeException e) {
                // refreshed in a transaction of its own, after the batch's: kept on its own as well
                metrics.record(Outcome.REJECTED, change.sourceTable(), change.op().code());
                afterwards.add(parkedEvent(elementOf.get(change), 422, e.getMessage(), replayHeaders));
            }
        }
        logParked(parking.kept, parking.ids);
        for (ParkedEvent event : afterwards) {
            long id = rejectedEvents.park(event.eventId(), event.eventType(), event.status(), event.reason(),
                    event.eventJson());
            logParked(List.of(event), List.of(id));
        }
        return new ApplyResult(counts.applied, counts.stale, counts.superseded, counts.skipped,
                parking.kept.size() + afterwards.size());
    }

    /** Parks the batch's bad elements in the transaction of its good changes (again on every attempt of it). */
    private final class ParkingInTransaction implements GroupCommit.Parking {
        private final Map<Integer, ParkedEvent> beforeWriting;
        private final Map<TargetChange, BatchElement> elementOf;
        private final Map<String, String> replayHeaders;
        /** What the last attempt kept, and the rows it got; read after the commit. */
        List<ParkedEvent> kept = List.of();
        List<Long> ids = List.of();

        ParkingInTransaction(Map<Integer, ParkedEvent> beforeWriting, Map<TargetChange, BatchElement> elementOf,
                Map<String, String> replayHeaders) {
            this.beforeWriting = beforeWriting;
            this.elementOf = elementOf;
            this.replayHeaders = replayHeaders;
        }

        @Override
        public boolean hasParked() {
            return !beforeWriting.isEmpty();
        }

        @Override
        public void park(Connection connection, List<GroupCommit.Refusal> refusedByTarget) throws SQLException {
            Map<Integer, ParkedEvent> all = new TreeMap<>(beforeWriting);
            for (GroupCommit.Refusal refusal : refusedByTarget) {
                BatchElement element = elementOf.get(refusal.change());
                all.putIfAbsent(element.index(), parkedEvent(element, 422, refusal.reason().getMessage(),
                        replayHeaders));
            }
            List<ParkedEvent> events = List.copyOf(all.values());
            ids = rejectedEvents.park(connection, events);
            kept = events;
        }
    }

    /** A truncate while {@code replicator.apply-truncate} is off: counted as skipped, never written. */
    private boolean skippedTruncate(RowChange change) {
        if (change.op() != Operation.TRUNCATE || applyTruncate) {
            return false;
        }
        metrics.record(Outcome.SKIPPED, change.table().toString(), change.op().code());
        return true;
    }

    private void logParked(List<ParkedEvent> events, List<Long> ids) {
        for (int i = 0; i < events.size(); i++) {
            ParkedEvent event = events.get(i);
            metrics.parked(event.status());
            // id, type, place and reason, never row contents
            REJECTED.warnf("%d %s [id %s, type %s, batch index %d] parked as %d", event.status(),
                    LogText.oneLine(event.reason()), LogText.oneLine(event.eventId()),
                    LogText.oneLine(event.eventType()), event.batchIndex(), ids.get(i));
        }
    }

    private static ParkedEvent parkedEvent(BatchElement element, int status, String reason,
            Map<String, String> replayHeaders) {
        ObjectNode request = JsonNodeFactory.instance.objectNode();
        ObjectNode headers = request.putObject("headers");
        replayHeaders.forEach(headers::put);
        request.set("body", element.original());
        IncomingEvent event = element.event();
        String id = event != null ? event.id() : element.original().path("id").asText(null);
        String type = event != null ? event.type() : element.original().path("type").asText(null);
        return new ParkedEvent(id, type, status, reason, element.index(), request.toString());
    }

    private static BadEventException unpositioned(RowChange change) {
        return new BadEventException(change.eventId(), "change of " + change.table()
                + " has no position (no lsn or sequence); set replicator.ordering.accept-unpositioned=true"
                + " to apply such changes last-writer-wins");
    }

    /** As the answer names it: with the event's id. */
    private static String reason(BadEventException e) {
        String message = e.getMessage();
        return e.eventId() == null || message.startsWith("event ") ? message : "event " + e.eventId() + ": " + message;
    }

    private static final class Counts {
        int applied;
        int stale;
        int superseded;
        int skipped;
    }

    private void refresh(TargetChange change, Counts counts) {
        // the event carries nothing but the key: the source's current row stands in for it
        boolean written = refresher.refresh(change).stale() == 0;
        counts.applied += written ? 1 : 0;
        counts.stale += written ? 0 : 1;
        metrics.record(written ? Outcome.APPLIED : Outcome.STALE, change.sourceTable(), change.op().code());
    }

    private void count(List<ChangeOutcome> outcomes, Counts counts) {
        for (ChangeOutcome outcome : outcomes) {
            TargetChange change = outcome.change();
            Outcome counted = switch (outcome.result()) {
                case APPLIED -> {
                    counts.applied++;
                    metrics.appliedAt(change.sourceTable(), change.sourceMillis());
                    yield Outcome.APPLIED;
                }
                case STALE -> {
                    counts.stale++;
                    yield Outcome.STALE;
                }
                case SUPERSEDED -> {
                    counts.superseded++;
                    yield Outcome.SUPERSEDED;
                }
            };
            metrics.record(counted, change.sourceTable(), change.op().code());
        }
    }

    private List<RowChange> decode(IncomingEvent event) {
        try {
            if (NativeDecoder.TYPE.equals(event.type())) {
                return nativeFormat.decode(event);
            }
            if (event.type() != null && !debeziumTypes.contains(event.type())) {
                throw new BadEventException(event.describe(), "unsupported CloudEvent type '" + event.type()
                        + "' (accepted: " + NativeDecoder.TYPE + ", " + String.join(", ", debeziumTypes) + ")");
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
