package dev.replicator.function;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import dev.replicator.ReplicationPipeline;
import dev.replicator.apply.ApplyResult;
import dev.replicator.decode.BadEventException;
import dev.replicator.decode.IncomingEvent;

/**
 * Sits in front of the Funqy functions and handles what Funqy does not: batches (a JSON array, as Debezium's HTTP
 * sink sends with {@code batch.enabled=true}), plain Debezium envelopes without CloudEvent attributes, and bad input,
 * which must be a 400 (not Funqy's 404/500, which brokers retry). Binary-mode CloudEvents, whose data it parses to
 * check anyway, it applies itself; structured single CloudEvents of an accepted type go on to the function mapped to
 * their type.
 */
@Singleton
public class IngressRoute {

    /** Paths events are posted to: the root (Knative, Debezium Server) and the functions' own paths. */
    static final List<String> PATHS = List.of("/", "/debezium", "/change");

    private final ReplicationPipeline pipeline;
    private final FailureAnswers failures;
    private final ObjectMapper mapper;
    private final long maxBodyBytes;

    public IngressRoute(ReplicationPipeline pipeline, FailureAnswers failures, ObjectMapper mapper,
            @ConfigProperty(name = "quarkus.http.limits.max-body-size") MemorySize maxBody) {
        this.pipeline = pipeline;
        this.failures = failures;
        this.mapper = mapper;
        this.maxBodyBytes = maxBody.asLongValue();
    }

    void register(@Observes Router router) {
        for (String path : PATHS) {
            router.route(HttpMethod.POST, path).order(-100)
                    .handler(BodyHandler.create(false).setBodyLimit(maxBodyBytes))
                    .blockingHandler(this::handle, false)
                    .failureHandler(this::failure);
        }
    }

    void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        String contentType = request.getHeader("Content-Type");
        String ceId = request.getHeader("ce-id");
        try {
            if (ceId != null) {
                JsonNode data = checkBinary(request, ceId, contentType, ctx);
                if (data == null) {
                    ctx.next();
                } else {
                    // the data is parsed already: apply it here rather than parse it again behind another thread hop
                    pipeline.process(List.of(Events.binary(request.headers(), data)));
                    ctx.response().setStatusCode(204).end();
                }
                return;
            }
            JsonNode body = parse(ctx, null);
            Map<String, String> headers = Events.debeziumHeaders(request.headers());
            if (body.isArray()) {
                respond(ctx, pipeline.process(batch(body, headers)));
            } else if (!body.isObject()) {
                throw new BadEventException(null, "body must be a JSON object or array, got " + body.getNodeType());
            } else if (Events.isStructuredEvent(body)) {
                IncomingEvent event = Events.structured(body, headers);
                checkType(event);
                if (contentType != null && contentType.startsWith("application/cloudevents+json")) {
                    ctx.next();
                } else {
                    // a structured event sent as application/json, which Funqy would not see as a CloudEvent
                    respond(ctx, pipeline.process(List.of(event)));
                }
            } else {
                respond(ctx, pipeline.process(List.of(Events.plain(body, headers))));
            }
        } catch (RuntimeException e) {
            failures.send(ctx, e);
        }
    }

    /** Binary mode: attributes in ce-* headers, data in the body, which must be JSON. Returns the data, if any. */
    private JsonNode checkBinary(HttpServerRequest request, String ceId, String contentType, RoutingContext ctx) {
        String type = request.getHeader("ce-type");
        if (type == null || type.isBlank()) {
            throw new BadEventException(ceId, "CloudEvent has no ce-type header");
        }
        if (!pipeline.accepts(type)) {
            throw unsupported(ceId, type);
        }
        if (ctx.body().length() == 0) {
            return null;
        }
        if (contentType == null || !contentType.startsWith("application/json")) {
            throw new BadEventException(ceId, "binary-mode CloudEvent data must be application/json, got "
                    + (contentType == null ? "no Content-Type" : contentType));
        }
        return parse(ctx, ceId);
    }

    private List<IncomingEvent> batch(JsonNode array, Map<String, String> headers) {
        List<IncomingEvent> events = new ArrayList<>(array.size());
        int index = 0;
        for (JsonNode element : array) {
            if (!element.isObject()) {
                throw new BadEventException(null, "batch element " + index + " is not a JSON object");
            }
            boolean cloudEvent = Events.isStructuredEvent(element);
            IncomingEvent event = cloudEvent ? Events.structured(element, Map.of()) : Events.plain(element, Map.of());
            if (cloudEvent) {
                checkType(event);
            }
            events.add(event);
            index++;
        }
        if (events.size() == 1) {
            // a batch of one may carry the request's key-change headers
            IncomingEvent only = events.get(0);
            events.set(0, new IncomingEvent(only.id(), only.type(), only.source(), only.extensions(), only.data(), headers));
        }
        return events;
    }

    private void checkType(IncomingEvent event) {
        if (event.type() == null || event.type().isBlank()) {
            throw new BadEventException(event.id(), "CloudEvent has no type");
        }
        if (!pipeline.accepts(event.type())) {
            throw unsupported(event.describe(), event.type());
        }
    }

    private BadEventException unsupported(String id, String type) {
        return new BadEventException(id, "unsupported CloudEvent type '" + shorten(type) + "'");
    }

    private JsonNode parse(RoutingContext ctx, String eventId) {
        if (ctx.body().length() == 0) {
            throw new BadEventException(eventId, "request body is empty");
        }
        try {
            JsonNode node = mapper.readTree(ctx.body().buffer().getBytes());
            if (node == null || node.isMissingNode()) {
                throw new BadEventException(eventId, "request body is empty");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new BadEventException(eventId, ErrorResponses.malformedJson(e));
        } catch (IOException e) {
            throw new BadEventException(eventId, "unreadable body: " + e.getClass().getSimpleName());
        }
    }

    private void respond(RoutingContext ctx, ApplyResult result) {
        String body = "{\"applied\":" + result.applied() + ",\"stale\":" + result.stale() + ",\"skipped\":"
                + result.skipped() + "}";
        ctx.response().setStatusCode(200).putHeader("Content-Type", "application/json").end(body);
    }

    /** Failures of this route and of the functions behind it (Funqy passes a function's exception on). */
    void failure(RoutingContext ctx) {
        if (ctx.failure() != null) {
            failures.send(ctx, ctx.failure());
        } else if (ctx.statusCode() == 413) {
            ErrorResponses.send(ctx, 413, "request body larger than quarkus.http.limits.max-body-size ("
                    + maxBodyBytes + " bytes)");
        } else {
            ctx.next();
        }
    }

    private static String shorten(String text) {
        return text.length() > 100 ? text.substring(0, 100) + "..." : text;
    }
}
