package dev.replicator.function;

import java.util.List;
import java.util.Map;
import java.util.Objects;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.Context;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import dev.replicator.BatchBytes;
import dev.replicator.BatchElement;
import dev.replicator.ReplicationPipeline;
import dev.replicator.apply.ApplyResult;
import dev.replicator.config.ReplicatorConfig;
import dev.replicator.decode.IncomingEvent;

/**
 * Sits in front of the Funqy functions and does only what Funqy cannot: reads the request once
 * ({@link RequestReader}) and answers bad input with a 400 (Funqy's 404/500 would be retried by a broker). A single
 * event, in whatever content mode it came, goes on to the function of its type with what was read kept in the
 * RoutingContext ({@link Received}); a batch (a JSON array, as Debezium's HTTP sink sends with
 * {@code batch.enabled=true}), which Funqy cannot take, is applied here and answered with its counts.
 */
@Singleton
public class IngressRoute {

    /** Paths events are posted to: the root (Knative, Debezium Server) and the functions' own paths. */
    static final List<String> PATHS = List.of("/", "/debezium", "/change", "/backfill", "/verify", "/rowref",
            "/scheduledVerify", "/pull", "/sequences");

    /** Larger bodies are read on a worker thread, so that one big event does not hold up the event loop. */
    static final int MAX_READ_ON_EVENT_LOOP = 64 * 1024;

    private final RequestReader reader;
    private final JsonFactory json;
    private final ReplicationPipeline pipeline;
    private final FailureAnswers failures;
    private final long maxBodyBytes;
    private final boolean park;

    public IngressRoute(ReplicationPipeline pipeline, FailureAnswers failures, ObjectMapper mapper,
            @ConfigProperty(name = "quarkus.http.limits.max-body-size") MemorySize maxBody, ReplicatorConfig config) {
        this.reader = new RequestReader(AcceptedTypes.of(config.debezium().eventTypes()), mapper);
        this.json = mapper.getFactory();
        this.pipeline = pipeline;
        this.failures = failures;
        this.maxBodyBytes = maxBody.asLongValue();
        this.park = config.rejected().park();
    }

    void register(@Observes Router router) {
        for (String path : PATHS) {
            // events are posted; Funqy would otherwise run a function for any method that carries ce-* headers
            router.route(path).order(-101).handler(IngressRoute::postOnly);
            router.route(HttpMethod.POST, path).order(-100)
                    .handler(BodyHandler.create(false).setBodyLimit(maxBodyBytes))
                    .handler(this::screen)
                    .failureHandler(this::failure);
        }
    }

    /** 405 for any method but POST: not retried by a broker, and it says what to do instead. */
    static void postOnly(RoutingContext ctx) {
        if (ctx.request().method() == HttpMethod.POST) {
            ctx.next();
            return;
        }
        ctx.response().putHeader("Allow", "POST");
        ErrorResponses.send(ctx, 405, "method " + ctx.request().method().name() + " not allowed on "
                + ctx.request().path() + ": events and job requests are POSTed");
    }

    /**
     * A small body is read here, on the event loop, and its event goes on to Funqy, which runs the function on a
     * worker thread: one hand-over between threads per event. A large body is read on a worker thread.
     */
    void screen(RoutingContext ctx) {
        if (ctx.body().length() <= MAX_READ_ON_EVENT_LOOP) {
            read(ctx, false);
        } else {
            onWorker(ctx, () -> read(ctx, true));
        }
    }

    private void read(RoutingContext ctx, boolean onWorker) {
        HttpServerRequest request = ctx.request();
        Delivery delivery;
        try {
            JsonNode body = reader.parse(request.getHeader("ce-id"), ctx.body().buffer());
            new Received(body, null, request.headers()).keep(ctx);
            delivery = reader.classify(request.path(), request.headers(), body);
        } catch (RuntimeException e) {
            failures.send(ctx, e);
            return;
        }
        if (delivery instanceof Delivery.Single single) {
            handOn(ctx, single.event());
            if (onWorker) {
                resume(ctx);
            } else {
                ctx.next();
            }
        } else if (onWorker) {
            apply(ctx, (Delivery.Batch) delivery);
        } else {
            onWorker(ctx, () -> apply(ctx, (Delivery.Batch) delivery));
        }
    }

    /**
     * Funqy dispatches a binary-mode event by its ce-type header without reading the body, and reads the whole body
     * of any other mode. So an event that came in another mode (structured, in a Pub/Sub message, a plain envelope,
     * a plain request to a job's path) goes on as binary mode with its (accepted, so known) type; the function takes
     * the event itself from {@link Received}. The id is not copied into a header: Funqy does not need it, and a header
     * cannot hold every id an event may carry. The headers as they came are kept for a rejection's copy.
     */
    private static void handOn(RoutingContext ctx, IncomingEvent event) {
        MultiMap headers = ctx.request().headers();
        MultiMap asCame = headers;
        if (!RequestReader.isBinary(headers) || !Objects.equals(headers.get("ce-type"), event.type())) {
            asCame = MultiMap.caseInsensitiveMultiMap().addAll(headers);
            headers.set("ce-id", "read-by-ingress");
            headers.set("ce-specversion", Events.SPEC_VERSION);
            if (event.type() == null) {
                headers.remove("ce-type"); // a plain envelope: Funqy's catch-all, the change function
            } else {
                headers.set("ce-type", event.type());
            }
        }
        new Received(Received.of(ctx).body(), event, asCame).keep(ctx);
    }

    /**
     * A batch, on a worker thread: strict, or with its bad elements parked on their own, each as the bytes it was
     * within the body (or the Pub/Sub message) received.
     */
    private void apply(RoutingContext ctx, Delivery.Batch batch) {
        List<BatchElement> elements = batch.elements();
        try {
            ApplyResult result = park && elements.size() > 1
                    ? pipeline.applyParking(elements, Map.of("content-type", contentType(ctx)),
                            new BatchBytes(() -> batch.messageData() != null ? batch.messageData()
                                    : ctx.body().buffer().getBytes(), json))
                    : pipeline.apply(elements);
            ctx.response().setStatusCode(200).putHeader("Content-Type", "application/json").end("{\"applied\":"
                    + result.applied() + ",\"stale\":" + result.stale() + ",\"superseded\":" + result.superseded()
                    + ",\"skipped\":" + result.skipped() + ",\"parked\":" + result.parked() + "}");
        } catch (RuntimeException e) {
            failures.send(ctx, e);
        }
    }

    private static String contentType(RoutingContext ctx) {
        String contentType = Events.mediaType(ctx.request().getHeader("Content-Type"));
        return contentType == null ? "application/json" : contentType;
    }

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
}
