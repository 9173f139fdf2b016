package dev.replicator.function;

import java.util.concurrent.atomic.AtomicLong;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.quarkus.runtime.configuration.MemorySize;
import io.quarkus.vertx.http.runtime.RouteConstants;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import dev.replicator.config.ReplicatorConfig;
import dev.replicator.observe.ReplicationMetrics;

/**
 * Admits requests by their body bytes before the body is read: what a request holds in memory (the body, its JSON
 * tree, the changes decoded from it) grows with its size, so capping the bytes of the requests in flight bounds the
 * memory of all of them together. Runs in front of {@link IngressRoute} and of the body handler, on the event loop, from
 * the Content-Length header; a request over the cap is answered 503 with {@code Retry-After} and its body is never buffered. A request
 * alone is always admitted (the body size limit bounds it), so the cap cannot refuse a request forever.
 */
@Singleton
public class BodyAdmission {

    /**
     * Before the body handler Quarkus puts in front of every route (Funqy needs one), which reads the whole body
     * before any route of the application runs.
     */
    static final int ORDER = RouteConstants.ROUTE_ORDER_BODY_HANDLER - 1;

    private final long maxBytesInFlight;
    private final long maxBodyBytes;
    private final ReplicationMetrics metrics;
    private final AtomicLong inFlight = new AtomicLong();

    public BodyAdmission(ReplicatorConfig config, ReplicationMetrics metrics,
            @ConfigProperty(name = "quarkus.http.limits.max-body-size") MemorySize maxBody) {
        this.maxBytesInFlight = config.admission().maxBytesInFlight().asLongValue();
        this.maxBodyBytes = maxBody.asLongValue();
        this.metrics = metrics;
        metrics.inFlightBytes(inFlight::get);
    }

    void register(@Observes Router router) {
        for (String path : IngressRoute.PATHS) {
            router.route(HttpMethod.POST, path).order(ORDER).handler(this::admit);
        }
    }

    void admit(RoutingContext ctx) {
        long bytes = declaredBytes(ctx);
        long now = inFlight.addAndGet(bytes);
        if (now > maxBytesInFlight && now != bytes) {
            inFlight.addAndGet(-bytes);
            metrics.refusedByBytes();
            // the body is not wanted: let it drain (discarded) so the connection stays usable
            ctx.request().resume();
            ErrorResponses.send(ctx, 503, "replicator is busy: " + (now - bytes) + " body bytes in flight, at most "
                    + maxBytesInFlight + " (replicator.admission.max-bytes-in-flight); try again");
            return;
        }
        // released when the answer is sent or the connection is lost, whichever comes first
        ctx.addEndHandler(ended -> inFlight.addAndGet(-bytes));
        ctx.next();
    }

    /** Body bytes in flight now. */
    long inFlight() {
        return inFlight.get();
    }

    /** The Content-Length; a body without one (chunked) may be as large as allowed and is counted so. */
    private long declaredBytes(RoutingContext ctx) {
        String length = ctx.request().getHeader("Content-Length");
        if (length != null) {
            try {
                return Math.max(0, Math.min(Long.parseLong(length.trim()), maxBodyBytes));
            } catch (NumberFormatException e) {
                // not ours to judge: the HTTP server refuses a malformed length
            }
        }
        return maxBodyBytes;
    }
}
