package dev.replicator.function;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.netty.buffer.ByteBufInputStream;
import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import dev.replicator.BatchElement;
import dev.replicator.ReplicationPipeline;
import dev.replicator.apply.ApplyResult;
import dev.replicator.apply.RefreshWriter;
import dev.replicator.config.ReplicatorConfig;
import dev.replicator.decode.BadEventException;
import dev.replicator.decode.IncomingEvent;
import dev.replicator.source.JobEventTypes;
import dev.replicator.source.dispatch.JobDispatch;

/**
 * Sits in front of the Funqy functions and handles what Funqy does not: batches (a JSON array, as Debezium's HTTP
 * sink sends with {@code batch.enabled=true}), plain Debezium envelopes without CloudEvent attributes, events that
 * Eventarc delivers wrapped in a Pub/Sub message, bad input, which must be a 400 (not Funqy's 404/500, which brokers
 * retry), and source-side requests that Funqy cannot take (plain HTTP posts to {@code /backfill}, {@code /verify},
 * {@code /rowref}, or a structured event sent as application/json). Well-formed single CloudEvents of an accepted
 * type go on to the function mapped to their type.
 */
@Singleton
public class IngressRoute {

    /** Paths events are posted to: the root (Knative, Debezium Server) and the functions' own paths. */
    static final List<String> PATHS = List.of("/", "/debezium", "/change", "/backfill", "/verify", "/rowref",
            "/scheduledVerify");

    private final ReplicationPipeline pipeline;
    private final JobDispatch jobs;
    private final FailureAnswers failures;
    private final ObjectMapper mapper;
    private final long maxBodyBytes;
    private final boolean park;

    public IngressRoute(ReplicationPipeline pipeline, JobDispatch jobs, FailureAnswers failures, ObjectMapper mapper,
            @ConfigProperty(name = "quarkus.http.limits.max-body-size") MemorySize maxBody, ReplicatorConfig config) {
        this.park = config.rejected().park();
        this.pipeline = pipeline;
        this.jobs = jobs;
        this.failures = failures;
        this.mapper = mapper;
        this.maxBodyBytes = maxBody.asLongValue();
    }

    void register(@Observes Router router) {
        for (String path : PATHS) {
            router.route(HttpMethod.POST, path).order(-100)
                    .handler(BodyHandler.create(false).setBodyLimit(maxBodyBytes))
                    .handler(this::screen)
                    .failureHandler(this::failure);
        }
    }

    /**
     * A small binary-mode event is checked here, on the event loop, and goes on to Funqy, which runs its function on a
     * worker thread: one hand-over between threads per event instead of two. Everything else, and every failure
     * (answering one may park the event in the target), is handled on a worker thread.
     */
    void screen(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        if (isBinary(request) && ctx.body().length() <= MAX_SCREENED_BYTES
                && !PubSubMessages.MESSAGE_PUBLISHED.equals(request.getHeader("ce-type"))) {
            boolean hasData;
            try {
                hasData = checkBinary(request, ctx);
            } catch (RuntimeException e) {
                onWorker(ctx, () -> failures.send(ctx, e));
                return;
            }
            if (hasData) {
                ctx.next();
                return;
            }
        }
        onWorker(ctx, () -> handle(ctx));
    }

    /** Larger bodies are parsed on a worker thread, so that one big event does not hold up the event loop. */
    static final int MAX_SCREENED_BYTES = 64 * 1024;

    /** Runs the work on a worker thread; {@link #resume} then goes on to Funqy back on this event loop. */
    private static void onWorker(RoutingContext ctx, Runnable work) {
        ctx.put(EVENT_LOOP, Vertx.currentContext());
        ctx.vertx().executeBlocking(() -> {
            work.run();
            return null;
        }, false).onFailure(ctx::fail);
    }

    private static final String EVENT_LOOP = IngressRoute.class.getName() + ".eventLoop";

    private static void resume(RoutingContext ctx) {
        Context eventLoop = ctx.get(EVENT_LOOP);
        eventLoop.runOnContext(v -> ctx.next());
    }

    void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        String contentType = Events.mediaType(request.getHeader("Content-Type"));
        String ceId = request.getHeader("ce-id");
        try {
            if (isBinary(request) && PubSubMessages.MESSAGE_PUBLISHED.equals(request.getHeader("ce-type"))) {
                // Eventarc on a Pub/Sub topic: the event Debezium published is inside the message
                Events.checkBinaryAttributes(request.headers());
                checkJsonData(ceId, contentType);
                PubSubMessages.Message message = PubSubMessages.unwrap(ceId, parse(ctx, ceId), mapper);
                respond(ctx, pipeline.process(events(message.body(), message.headers(), ceId, false)));
                return;
            }
            if (isBinary(request)) {
                if (checkBinary(request, ctx)) {
                    resume(ctx);
                } else {
                    // no data (a Debezium tombstone, a request with every field left out): Funqy cannot take it
                    single(ctx, new IncomingEvent(ceId, request.getHeader("ce-type"), request.getHeader("ce-source"),
                            Events.binaryExtensions(request.headers()), null,
                            Events.debeziumHeaders(request.headers())));
                }
                return;
            }
            boolean cloudEvents = Events.isStructuredMediaType(contentType);
            if (contentType != null && !cloudEvents && !Events.isJson(contentType)) {
                throw new BadEventException(null, "unsupported Content-Type '" + Events.shorten(contentType)
                        + "' (accepted: application/json, application/cloudevents+json,"
                        + " application/cloudevents-batch+json)");
            }
            JsonNode body = parse(ctx, null);
            if (cloudEvents && body.isObject() && !Events.isStructuredEvent(body)) {
                throw new BadEventException(body.path("id").isTextual() ? body.get("id").textValue() : null,
                        "CloudEvent has no 'specversion' attribute (required: "
                                + String.join(", ", Events.REQUIRED) + ")");
            }
            Map<String, String> headers = Events.debeziumHeaders(request.headers());
            String job = jobOfPath(request.path());
            if (job != null && !Events.isStructuredEvent(body)) {
                // a plain HTTP request to /backfill, /verify or /rowref: the body is the request's data
                runJob(ctx, job, null, body);
                return;
            }
            if (Events.isStructuredEvent(body)) {
                IncomingEvent event = Events.structured(body, headers);
                checkType(event, true);
                if ("application/cloudevents+json".equals(contentType)) {
                    if (event.data() != null && !event.data().isNull() && !Events.hasBase64Data(body)) {
                        resume(ctx);
                    } else {
                        // Funqy reads neither data_base64 nor an event without data
                        single(ctx, event);
                    }
                    return;
                }
                if (JobEventTypes.REQUESTS.contains(event.type())) {
                    runJob(ctx, event.type(), event.id(), event.data());
                } else {
                    // a structured change event sent as application/json, which Funqy would not see as a CloudEvent
                    respond(ctx, pipeline.process(List.of(event)));
                }
                return;
            }
            if (park && body.isArray() && body.size() > 1) {
                // each element stands alone: the bad ones are parked, the good ones applied
                respond(ctx, pipeline.processParking(elements(body, cloudEvents), Map.of("content-type",
                        contentType == null ? "application/json" : contentType)));
                return;
            }
            respond(ctx, pipeline.process(events(body, headers, null, cloudEvents)));
        } catch (RuntimeException e) {
            failures.send(ctx, e);
        }
    }

    /** A single CloudEvent Funqy cannot take, answered as Funqy would: 204 for a change, the answer event of a job. */
    private void single(RoutingContext ctx, IncomingEvent event) {
        if (JobEventTypes.REQUESTS.contains(event.type())) {
            runJob(ctx, event.type(), event.id(), event.data());
            return;
        }
        pipeline.process(List.of(event));
        ctx.response().setStatusCode(204).end();
    }

    /**
     * Binary mode: ce-* headers carry the attributes. A CloudEvents media type means structured mode (or a batch),
     * whatever headers come along.
     */
    private static boolean isBinary(HttpServerRequest request) {
        return Events.claimsBinary(request.headers())
                && !Events.isStructuredMediaType(Events.mediaType(request.getHeader("Content-Type")));
    }

    /**
     * The events a JSON body holds: a batch, one structured CloudEvent (also when sent as {@code application/json},
     * which Funqy would not see as a CloudEvent) or one plain Debezium envelope.
     */
    private List<IncomingEvent> events(JsonNode body, Map<String, String> headers, String eventId,
            boolean cloudEvents) {
        if (body.isArray()) {
            return batch(body, headers, eventId, cloudEvents);
        }
        if (!body.isObject()) {
            throw new BadEventException(eventId, "body must be a JSON object or array, got " + body.getNodeType());
        }
        if (Events.isStructuredEvent(body)) {
            IncomingEvent event = Events.structured(body, headers);
            checkType(event, false);
            return List.of(event);
        }
        return List.of(Events.plain(body, headers));
    }

    /**
     * Binary mode: the required attributes in ce-* headers, an accepted type, and data in the body that is JSON. An
     * empty body is an event without data (a Debezium tombstone).
     *
     * @return false when the event has no data
     */
    private boolean checkBinary(HttpServerRequest request, RoutingContext ctx) {
        Events.checkBinaryAttributes(request.headers());
        String ceId = request.getHeader("ce-id");
        String type = request.getHeader("ce-type");
        if (!pipeline.accepts(type) && !JobEventTypes.REQUESTS.contains(type)) {
            throw unsupported(ceId, type);
        }
        if (bodyLength(ctx) == 0) {
            return false;
        }
        checkJsonData(ceId, Events.mediaType(request.getHeader("Content-Type")));
        parse(ctx, ceId);
        return true;
    }

    /** The length of the request body; none at all is empty. */
    private static int bodyLength(RoutingContext ctx) {
        return ctx.body() == null || ctx.body().buffer() == null ? 0 : ctx.body().buffer().length();
    }

    /** Funqy reads binary-mode data only as application/json. */
    private static void checkJsonData(String ceId, String contentType) {
        if (!"application/json".equals(contentType)) {
            throw new BadEventException(ceId, "binary-mode CloudEvent data must be application/json, got "
                    + (contentType == null ? "no Content-Type" : "'" + Events.shorten(contentType) + "'"));
        }
    }

    private List<IncomingEvent> batch(JsonNode array, Map<String, String> headers, String eventId,
            boolean cloudEvents) {
        if (array.isEmpty()) {
            throw new BadEventException(eventId, "batch is empty");
        }
        List<IncomingEvent> events = new ArrayList<>(array.size());
        int index = 0;
        for (JsonNode element : array) {
            events.add(element(element, index, eventId, cloudEvents));
            index++;
        }
        if (events.size() == 1) {
            // a batch of one may carry the request's key-change headers
            IncomingEvent only = events.get(0);
            events.set(0, new IncomingEvent(only.id(), only.type(), only.source(), only.extensions(), only.data(), headers));
        }
        return events;
    }

    /** One element of a batch; a batch sent as CloudEvents holds CloudEvents only. */
    private IncomingEvent element(JsonNode element, int index, String eventId, boolean cloudEvents) {
        if (!element.isObject()) {
            throw new BadEventException(eventId, "batch element " + index + " is not a JSON object, got "
                    + element.getNodeType());
        }
        if (cloudEvents && !Events.isStructuredEvent(element)) {
            throw new BadEventException(eventId, "batch element " + index
                    + " is not a CloudEvent: it has no 'specversion' attribute");
        }
        boolean cloudEvent = Events.isStructuredEvent(element);
        IncomingEvent event = cloudEvent ? Events.structured(element, Map.of()) : Events.plain(element, Map.of());
        if (cloudEvent) {
            checkType(event, false);
        }
        return event;
    }

    /** The elements of a batch whose bad elements are parked on their own; one that cannot be read is kept as is. */
    private List<BatchElement> elements(JsonNode array, boolean cloudEvents) {
        List<BatchElement> elements = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            JsonNode element = array.get(i);
            try {
                elements.add(new BatchElement(i, element(element, i, null, cloudEvents), null, element));
            } catch (BadEventException e) {
                elements.add(new BatchElement(i, null, e, element));
            }
        }
        return elements;
    }

    /** Source-side requests are single events; a batch holds changes only. */
    private void checkType(IncomingEvent event, boolean sourceRequests) {
        if (event.type() == null || event.type().isBlank()) {
            throw new BadEventException(event.id(), "CloudEvent has no type");
        }
        if (!pipeline.accepts(event.type()) && !(sourceRequests && JobEventTypes.REQUESTS.contains(event.type()))) {
            throw unsupported(event.describe(), event.type());
        }
    }

    private BadEventException unsupported(String id, String type) {
        return new BadEventException(id, "unsupported CloudEvent type '" + shorten(type) + "'");
    }

    private JsonNode parse(RoutingContext ctx, String eventId) {
        if (bodyLength(ctx) == 0) {
            throw new BadEventException(eventId, "request body is empty");
        }
        try {
            // read from the received buffer itself: a copy of a large body would double its memory for a while
            JsonNode node = mapper.readTree(new ByteBufInputStream(ctx.body().buffer().getByteBuf()));
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

    private static String jobOfPath(String path) {
        return switch (path) {
            case "/backfill" -> JobEventTypes.BACKFILL;
            case "/verify", "/scheduledVerify" -> JobEventTypes.VERIFY;
            case "/rowref" -> JobEventTypes.ROWREF;
            default -> null;
        };
    }

    /**
     * Runs a source-side request that Funqy does not see (plain HTTP, or a structured event sent as
     * application/json) and answers like Funqy would in binary mode: the answer event's attributes as ce-* headers,
     * its data as the body.
     */
    private void runJob(RoutingContext ctx, String type, String eventId, JsonNode data) {
        String id = eventId != null ? eventId : "http-" + UUID.randomUUID();
        if (JobEventTypes.ROWREF.equals(type)) {
            RefreshWriter.Outcome outcome = jobs.rowRef(id, data);
            ctx.response().setStatusCode(200).putHeader("Content-Type", "application/json").end("{\"written\":"
                    + outcome.written() + ",\"deleted\":" + outcome.deleted() + ",\"stale\":" + outcome.stale() + "}");
            return;
        }
        JobDispatch.Answer answer = JobEventTypes.BACKFILL.equals(type) ? jobs.backfill(id, data)
                : jobs.verify(id, data);
        String body;
        try {
            body = mapper.writeValueAsString(answer.data());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        ctx.response().setStatusCode(200).putHeader("Content-Type", "application/json")
                .putHeader("ce-specversion", "1.0").putHeader("ce-id", UUID.randomUUID().toString())
                .putHeader("ce-type", answer.type()).putHeader("ce-source", JobEventTypes.SOURCE).end(body);
    }

    private void respond(RoutingContext ctx, ApplyResult result) {
        String body = "{\"applied\":" + result.applied() + ",\"stale\":" + result.stale() + ",\"superseded\":"
                + result.superseded() + ",\"skipped\":"
                + result.skipped() + ",\"parked\":" + result.parked() + "}";
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
