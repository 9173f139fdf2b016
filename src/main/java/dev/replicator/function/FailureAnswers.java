package dev.replicator.function;

import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;

import io.vertx.core.MultiMap;
import io.vertx.ext.web.RoutingContext;

import dev.replicator.apply.KeptRequest;
import dev.replicator.apply.ParkedEvent;
import dev.replicator.apply.RejectedEvents;
import dev.replicator.config.ReplicatorConfig;
import dev.replicator.observe.LogText;
import dev.replicator.observe.ReplicationMetrics;

/**
 * Answers a failed request. With {@code replicator.rejected.park=true}, an event that can never be applied (400 or
 * 422) is kept in the target with its reason and answered 200, because some platforms redeliver every non-2xx
 * answer. If the target cannot take it now, the answer is 503 so that it is not lost; if the target will not keep it
 * for good, the event gets its own answer (400 or 422), which a broker dead-letters.
 */
@Singleton
public class FailureAnswers {

    private static final Logger LOG = Logger.getLogger("dev.replicator.rejected");

    private final boolean park;
    private final RejectedEvents rejectedEvents;
    private final ReplicationMetrics metrics;

    public FailureAnswers(ReplicatorConfig config, RejectedEvents rejectedEvents, ReplicationMetrics metrics) {
        this.park = config.rejected().park();
        this.rejectedEvents = rejectedEvents;
        this.metrics = metrics;
    }

    void send(RoutingContext ctx, Throwable failure) {
        ErrorResponses.Failure result = ErrorResponses.classify(failure);
        // what the target would not keep is answered as it is: keeping it again would fail again
        boolean rejected = (result.status() == 400 || result.status() == 422) && !ErrorResponses.notKept(failure);
        Received received = Received.of(ctx);
        MultiMap headers = received == null ? ctx.request().headers() : received.headers();
        String id;
        String type;
        if (received != null && received.event() != null) {
            id = received.event().id();
            type = received.event().type();
        } else {
            id = headers.get("ce-id");
            type = headers.get("ce-type");
            JsonNode body = received == null ? null : received.body();
            if (id == null && body != null && body.isObject()) {
                id = body.path("id").asText(null);
                type = body.path("type").asText(null);
            }
        }
        if (park && rejected) {
            parkAndAcknowledge(ctx, new ParkedEvent(id, type, result.status(), result.message(), null,
                    request(ctx, headers, received)));
            return;
        }
        if (result.status() == 500) {
            LOG.error("request failed", failure);
        } else {
            // once per rejected request: id, type and reason, never row contents
            LOG.warnf("%d %s [id %s, type %s]", result.status(), LogText.oneLine(result.message()),
                    LogText.oneLine(id), LogText.oneLine(type));
        }
        metrics.answered(result.status());
        ErrorResponses.send(ctx, result.status(), result.message());
    }

    private void parkAndAcknowledge(RoutingContext ctx, ParkedEvent event) {
        // parking talks to the database: not on the event loop
        ctx.vertx().executeBlocking(() -> rejectedEvents.park(event), false).onComplete(parked -> {
            if (parked.succeeded()) {
                metrics.parked(event.status());
                LOG.warnf("%d %s [id %s, type %s] parked as %d", event.status(), LogText.oneLine(event.reason()),
                        LogText.oneLine(event.eventId()), LogText.oneLine(event.eventType()), parked.result());
                ctx.response().setStatusCode(200).putHeader("Content-Type", "application/json")
                        .end("{\"parked\":" + parked.result() + ",\"status\":" + event.status() + "}");
            } else {
                ErrorResponses.Failure unparked = ErrorResponses.classify(parked.cause());
                LOG.warnf("%d %s [id %s, type %s]", unparked.status(), LogText.oneLine(unparked.message()),
                        LogText.oneLine(event.eventId()), LogText.oneLine(event.eventType()));
                metrics.answered(unparked.status());
                ErrorResponses.send(ctx, unparked.status(), unparked.message());
            }
        });
    }

    /**
     * The request as it came, to replay later: CloudEvent and Debezium headers, and the body's exact bytes (a jsonb
     * view of it is tried only when it was read as JSON, or was empty).
     */
    private static KeptRequest request(RoutingContext ctx, MultiMap asCame, Received received) {
        byte[] body = ctx.body() == null || ctx.body().buffer() == null ? null : ctx.body().buffer().getBytes();
        return KeptRequest.of(asCame, body, received != null);
    }
}
