package dev.replicator.function;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import dev.replicator.status.StatusReport;

/**
 * {@code GET /status}: where replication stands, as one JSON document for a person or a script
 * ({@link StatusReport}). Its reads run on threads of their own, never on the event loop, and no thread waits for
 * them: the answer is sent when they are done.
 */
@Singleton
public class StatusRoute {

    private static final Logger LOG = Logger.getLogger(StatusRoute.class);

    static final String PATH = "/status";

    private final StatusReport report;

    public StatusRoute(StatusReport report) {
        this.report = report;
    }

    void register(@Observes Router router) {
        router.get(PATH).order(-100).handler(this::status);
    }

    void status(RoutingContext ctx) {
        Context eventLoop = Vertx.currentContext();
        report.collect().whenComplete((status, failure) -> eventLoop.runOnContext(v -> {
            if (failure == null) {
                ctx.response().setStatusCode(200).putHeader("Content-Type", "application/json")
                        .putHeader("Cache-Control", "no-store").end(status.toString());
            } else {
                LOG.error("status failed", failure);
                ErrorResponses.send(ctx, 500, "status failed: " + failure.getClass().getSimpleName());
            }
        }));
    }
}
