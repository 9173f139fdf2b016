package dev.replicator.function;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;

import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.vertx.core.MultiMap;
import io.vertx.ext.web.RoutingContext;

import dev.replicator.apply.RejectedEvents;
import dev.replicator.config.ReplicatorConfig;
import dev.replicator.observe.LogText;
import dev.replicator.observe.ReplicationMetrics;

/**
 * Answers a failed request. With {@code replicator.rejected.park=true}, an event that can never be applied (400 or
 * 422) is kept in the target with its reason and answered 200, because some platforms redeliver every non-2xx
 * answer; if it cannot be kept, the answer is 503 so that it is not lost.
 */
@Singleton
public class FailureAnswers {

    private static final Logger LOG = Logger.getLogger("dev.replicator.rejected");

    private final boolean park;
    private final RejectedEvents rejectedEvents;
    private final ReplicationMetrics metrics;
    private final ObjectMapper mapper;

    public FailureAnswers(ReplicatorConfig config, RejectedEvents rejectedEvents, ReplicationMetrics metrics,
            ObjectMapper mapper) {
        this.park = config.rejected().park();
        this.rejectedEvents = rejectedEvents;
        this.metrics = metrics;
        this.mapper = mapper;
    }

    void send(RoutingContext ctx, Throwable failure) {
        ErrorResponses.Failure result = ErrorResponses.classify(failure);
        boolean rejected = result.status() == 400 || result.status() == 422;
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
            parkAndAcknowledge(ctx, result, id, type, request(ctx, headers, received));
            return;
        }
        if (result.status() == 500) {
            LOG.error("request failed", failure);
        } else {
            // once per rejected request: id, type and reason, never row contents
            LOG.warnf("%d %s [id %s, type %s]", result.status(), LogText.oneLine(result.message()),
                    LogText.oneLine(id), LogText.oneLine(type));
        }
        ErrorResponses.send(ctx, result.status(), result.message());
    }

    private void parkAndAcknowledge(RoutingContext ctx, ErrorResponses.Failure result, String eventId,
            String eventType, ObjectNode request) {
        // parking talks to the database: not on the event loop
        ctx.vertx().executeBlocking(() -> rejectedEvents.park(eventId, eventType, result.status(), result.message(),
                request.toString()), false).onComplete(parked -> {
                    if (parked.succeeded()) {
                        metrics.parked(result.status());
                        LOG.warnf("%d %s [id %s, type %s] parked as %d", result.status(),
                                LogText.oneLine(result.message()), LogText.oneLine(eventId),
                                LogText.oneLine(eventType), parked.result());
                        ctx.response().setStatusCode(200).putHeader("Content-Type", "application/json")
                                .end("{\"parked\":" + parked.result() + ",\"status\":" + result.status() + "}");
                    } else {
                        ErrorResponses.Failure unparked = ErrorResponses.classify(parked.cause());
                        LOG.warnf("%d %s [id %s, type %s]", unparked.status(), LogText.oneLine(unparked.message()),
                                LogText.oneLine(eventId), LogText.oneLine(eventType));
                        ErrorResponses.send(ctx, unparked.status(), unparked.message());
                    }
                });
    }

    /**
     * The request as it came, to replay later: CloudEvent and Debezium headers, and the body as it was parsed (as
     * text when it is not JSON).
     */
    private ObjectNode request(RoutingContext ctx, MultiMap asCame, Received received) {
        ObjectNode request = mapper.createObjectNode();
        ObjectNode headers = request.putObject("headers");
        for (Map.Entry<String, String> header : asCame) {
            String name = header.getKey().toLowerCase(Locale.ROOT);
            if (name.startsWith("ce-") || name.startsWith("x-debezium-") || name.equals("content-type")) {
                headers.put(name, header.getValue());
            }
        }
        if (received != null) {
            request.set("body", received.body() == null ? mapper.nullNode() : received.body());
        } else if (ctx.body() == null || ctx.body().buffer() == null || ctx.body().length() == 0) {
            request.set("body", mapper.nullNode());
        } else {
            request.put("body", ctx.body().asString(StandardCharsets.UTF_8.name()));
        }
        return request;
    }
}
