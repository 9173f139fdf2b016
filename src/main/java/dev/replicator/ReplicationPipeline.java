package dev.replicator;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import dev.replicator.apply.ApplyResult;
import dev.replicator.apply.ChangeOutcome;
import dev.replicator.apply.GroupCommit;
import dev.replicator.apply.KeptRequest;
import dev.replicator.apply.NotKeptException;
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
import dev.replicator.source.rowref.RowRefresher;

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
    private final boolean applyTruncate;
    private final boolean acceptUnpositioned;

    @Inject
    public ReplicationPipeline(TableRouter router, GroupCommit writer, RejectedEvents rejectedEvents,
            RowRefresher refresher, ReplicationMetrics metrics, ReplicatorConfig config) {
        this(router, writer, rejectedEvents, refresher, metrics, config.applyTruncate(),
                config.ordering().acceptUnpositioned());
    }

    /**
     * @param applyTruncate      {@code replicator.apply-truncate}: off, truncates are counted as skipped
     * @param acceptUnpositioned {@code replicator.ordering.accept-unpositioned}: changes without a position are
     *                           applied last-writer-wins instead of refused
     */
    public ReplicationPipeline(TableRouter router, GroupCommit writer, RejectedEvents rejectedEvents,
            RowRefresher refresher, ReplicationMetrics metrics, boolean applyTruncate, boolean acceptUnpositioned) {
        this.router = router;
        this.writer = writer;
        this.rejectedEvents = rejectedEvents;
        this.refresher = refresher;
        this.metrics = metrics;
        this.applyTruncate = applyTruncate;
        this.acceptUnpositioned = acceptUnpositioned;
    }

    /** Applies one event; an event that can never be applied fails the request. */
    public ApplyResult apply(IncomingEvent event) {
        return GroupCommit.await(applyLater(event));
    }

    /**
     * As {@link #apply(IncomingEvent)}, without holding the calling thread while the shared transaction is written:
     * the answer completes after the commit (on the writer's thread), or fails with what {@code apply} would throw.
     */
    public CompletableFuture<ApplyResult> applyLater(IncomingEvent event) {
        return applyLater(List.of(new BatchElement(0, event, null, null)));
    }

    /** Applies a batch in one transaction; the first element that can never be applied fails the request. */
    public ApplyResult apply(List<BatchElement> elements) {
        return GroupCommit.await(applyLater(elements));
    }

    /** As {@link #apply(List)}, answered after the commit like {@link #applyLater(IncomingEvent)}. */
    public CompletableFuture<ApplyResult> applyLater(List<BatchElement> elements) {
        long started = System.nanoTime();
        CompletableFuture<ApplyResult> written;
        try {
            written = applyStrict(elements);
        } catch (RuntimeException e) {
            written = CompletableFuture.failedFuture(e);
        }
        // completed with the failure itself, not wrapped, so every caller answers it as apply would
        CompletableFuture<ApplyResult> answer = new CompletableFuture<>();
        written.whenComplete((result, failure) -> {
            metrics.applyLatency().record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
            if (failure != null) {
                answer.completeExceptionally(unwrapped(failure));
            } else {
                answer.complete(result);
            }
        });
        return answer;
    }

    /**
     * Applies a batch whose elements stand alone (with {@code replicator.rejected.park=true}): every change that can be
     * applied is, and every element that can never be applied (unreadable, unknown table or column, unconvertible
     * value, refused by the target) is kept in the rejected table with its reason and place in the batch, in the
     * same transaction as the good changes. Returns after that commit. A change waiting for its row (409) or a target
     * that is unavailable (503) still fails the whole batch, which is then delivered again. An element the target
     * will not keep for good fails the batch with that element's answer (400 or 422) after the commit.
     *
     * @param replayHeaders the request headers kept with each parked element, to replay it later
     * @param received      the bytes the batch was read from, so that each parked element is kept as the bytes it
     *                      was within them; null keeps it as it was read, written out again as JSON
     */
    public ApplyResult applyParking(List<BatchElement> elements, Map<String, String> replayHeaders,
            BatchBytes received) {
        return metrics.applyLatency().record(() -> applyParkingTimed(elements, new Replay(replayHeaders, received)));
    }

    /** As {@link #applyParking(List, Map, BatchBytes)}, each parked element kept as it was read. */
    public ApplyResult applyParking(List<BatchElement> elements, Map<String, String> replayHeaders) {
        return applyParking(elements, replayHeaders, null);
    }

    /** What a parked element is kept with: the request's headers, and the batch as received (or null). */
    private record Replay(Map<String, String> headers, BatchBytes received) {
    }

    /** The changes of a request, decoded and routed, ready to be written. */
    private record Prepared(List<TargetChange> routed, List<TargetChange> incomplete,
            Map<TargetChange, BatchElement> elementOf, Map<Integer, ParkedEvent> parked, int skipped) {
    }

    /**
     * Decodes and routes the elements. Strict ({@code replay} null): the first element that can never be
     * applied is thrown. Parking: such elements are set aside in {@code parked}, keyed by their place in the batch.
     */
    private Prepared prepare(List<BatchElement> elements, Replay replay) {
        boolean strict = replay == null;
        Map<Integer, ParkedEvent> parked = new TreeMap<>();
        int skipped = 0;
        List<RowChange> changes = new ArrayList<>();
        List<BatchElement> changeElements = new ArrayList<>();
        for (BatchElement element : elements) {
            if (element.unreadable() != null) {
                metrics.record(Outcome.REJECTED, "unknown", "unknown");
                refuse(strict, parked, element, element.unreadable(), replay);
                continue;
            }
            List<RowChange> decoded;
            try {
                decoded = decode(element.event());
            } catch (BadEventException e) {
                refuse(strict, parked, element, e, replay);
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
                    if (!parked.containsKey(element.index())) {
                        refuse(strict, parked, element, unpositioned(change), replay);
                    }
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
                metrics.record(Outcome.REJECTED, change.table().toString(), change.op().code());
                refuse(strict, parked, element, e, replay);
                continue;
            } catch (SQLException e) {
                throw TargetUnavailableException.catalogUnreadable(change.eventId(), e);
            }
            if (target.movesToItsOwnKey()) {
                // the source's key changed, the target's did not: the create at the same position writes the row
                skipped++;
                metrics.record(Outcome.SKIPPED, target.sourceTable(), change.op().code());
                continue;
            }
            elementOf.put(target, element);
            (RowRefresher.isIncomplete(target) ? incomplete : routed).add(target);
        }
        return new Prepared(routed, incomplete, elementOf, parked, skipped);
    }

    /**
     * The strict path: all or nothing. The request's thread is not held while its group is written, unless a change
     * must be refreshed from the source afterwards: that read is not done on the writer's thread, where it would hold
     * up the groups behind it.
     */
    private CompletableFuture<ApplyResult> applyStrict(List<BatchElement> elements) {
        Prepared prepared = prepare(elements, null);
        CompletableFuture<List<ChangeOutcome>> written = writeLater(prepared.routed());
        if (prepared.incomplete().isEmpty()) {
            return written.thenApply(outcomes -> {
                Counts counts = new Counts(prepared.skipped());
                count(outcomes, counts);
                return counts.result(0);
            });
        }
        Counts counts = new Counts(prepared.skipped());
        count(GroupCommit.await(written), counts);
        for (TargetChange change : prepared.incomplete()) {
            refresh(change, counts);
        }
        return CompletableFuture.completedFuture(counts.result(0));
    }

    /**
     * The parking path: what can never be applied is kept in the rejected table, the rest applied. An element the
     * target will not keep for good fails the request with its own answer (400 or 422) after the rest committed: the
     * sender then dead-letters the batch, the only place left to keep that element, and a redelivery of it finds the
     * rest stale or kept already.
     */
    private ApplyResult applyParkingTimed(List<BatchElement> elements, Replay replay) {
        Prepared prepared = prepare(elements, replay);
        Counts counts = new Counts(prepared.skipped());
        ParkingInTransaction parking = new ParkingInTransaction(prepared.parked(), prepared.elementOf(),
                replay);
        count(writeParking(prepared.routed(), parking), counts);
        List<ParkedEvent> afterwards = new ArrayList<>();
        for (TargetChange change : prepared.incomplete()) {
            try {
                refresh(change, counts);
            } catch (RejectedChangeException e) {
                // refreshed in a transaction of its own, after the batch's: kept on its own as well
                metrics.record(Outcome.REJECTED, change.sourceTable(), change.op().code());
                afterwards.add(parkedEvent(prepared.elementOf().get(change), 422, e.getMessage(), replay));
            }
        }
        logParked(parking.kept.events(), parking.kept.ids());
        List<NotKeptException> refused = new ArrayList<>(parking.kept.refused());
        int kept = parking.kept.events().size() + parkAfterwards(afterwards, refused);
        if (!refused.isEmpty()) {
            // the first is logged with the answer
            refused.subList(1, refused.size()).forEach(ReplicationPipeline::logNotKept);
            throw refused.get(0);
        }
        return counts.result(kept);
    }

    private static RuntimeException unwrapped(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause()
                : failure;
        return cause instanceof RuntimeException runtime ? runtime : new IllegalStateException(cause);
    }

    /** An element that can never be applied: fails a strict batch, is kept (parked) otherwise. */
    private static void refuse(boolean strict, Map<Integer, ParkedEvent> parked, BatchElement element,
            BadEventException reason, Replay replay) {
        if (strict) {
            throw reason;
        }
        parked.put(element.index(), parkedEvent(element, 400, reason(reason), replay));
    }

    private List<ChangeOutcome> writeParking(List<TargetChange> routed, ParkingInTransaction parking) {
        GroupCommit.Tolerated written = writer.writeParking(routed, parking);
        for (GroupCommit.Refusal refusal : written.refused()) {
            metrics.record(Outcome.REJECTED, refusal.change().sourceTable(), refusal.change().op().code());
        }
        return written.outcomes();
    }

    /**
     * Parks, each in a transaction of its own, what was refused after the batch's commit; returns how many were kept
     * and adds those the target would not keep to {@code refused}.
     */
    private int parkAfterwards(List<ParkedEvent> afterwards, List<NotKeptException> refused) {
        int kept = 0;
        for (ParkedEvent event : afterwards) {
            try {
                long id = rejectedEvents.park(event);
                logParked(List.of(event), List.of(id));
                kept++;
            } catch (NotKeptException e) {
                refused.add(e);
            }
        }
        return kept;
    }

    /** Parks the batch's bad elements in the transaction of its good changes (again on every attempt of it). */
    private final class ParkingInTransaction implements GroupCommit.Parking {
        private final Map<Integer, ParkedEvent> beforeWriting;
        private final Map<TargetChange, BatchElement> elementOf;
        private final Replay replay;
        /** What the last attempt kept (and the rows it got) or could not keep; read after the commit. */
        RejectedEvents.Kept kept = new RejectedEvents.Kept(List.of(), List.of(), List.of());

        ParkingInTransaction(Map<Integer, ParkedEvent> beforeWriting, Map<TargetChange, BatchElement> elementOf,
                Replay replay) {
            this.beforeWriting = beforeWriting;
            this.elementOf = elementOf;
            this.replay = replay;
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
                        replay));
            }
            kept = rejectedEvents.park(connection, List.copyOf(all.values()));
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

    private static void logNotKept(NotKeptException e) {
        ParkedEvent event = e.event();
        REJECTED.warnf("%d %s [id %s, type %s, batch index %d]", event.status(), LogText.oneLine(e.getMessage()),
                LogText.oneLine(event.eventId()), LogText.oneLine(event.eventType()), event.batchIndex());
    }

    private static ParkedEvent parkedEvent(BatchElement element, int status, String reason, Replay replay) {
        byte[] received = replay.received() == null ? null : replay.received().element(element.index());
        KeptRequest request = KeptRequest.of(replay.headers().entrySet(), received != null ? received
                : element.original().toString().getBytes(StandardCharsets.UTF_8), true);
        IncomingEvent event = element.event();
        String id = event != null ? event.id() : element.original().path("id").asText(null);
        String type = event != null ? event.type() : element.original().path("type").asText(null);
        return new ParkedEvent(id, type, status, reason, element.index(), request);
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
        final int skipped;

        Counts(int skipped) {
            this.skipped = skipped;
        }

        ApplyResult result(int parked) {
            return new ApplyResult(applied, stale, superseded, skipped, parked);
        }
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

    /** The type was checked where the request was read: native or Debezium (also a plain envelope, no type). */
    private List<RowChange> decode(IncomingEvent event) {
        try {
            return NativeDecoder.TYPE.equals(event.type()) ? nativeFormat.decode(event) : debezium.decode(event);
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

    private CompletableFuture<List<ChangeOutcome>> writeLater(List<TargetChange> routed) {
        return writer.writeLater(routed).whenComplete((outcomes, failure) -> {
            if (failure != null && unwrapped(failure) instanceof RejectedChangeException e) {
                routed.stream().filter(c -> c.eventId().equals(e.eventId())).findFirst()
                        .ifPresent(c -> metrics.record(Outcome.REJECTED, c.sourceTable(), c.op().code()));
            }
        });
    }
}
