package dev.replicator.function;

import com.fasterxml.jackson.databind.JsonNode;

import io.vertx.core.MultiMap;
import io.vertx.ext.web.RoutingContext;

import dev.replicator.decode.BadEventException;
import dev.replicator.decode.IncomingEvent;

/**
 * What {@link IngressRoute} read from a request, kept in its RoutingContext: the function behind it takes the event
 * from here instead of parsing the body again, and a rejection keeps the headers as they came.
 *
 * @param body    the parsed body; null when it had none
 * @param event   the single event it delivers; null for a batch, or when it could not be read
 * @param headers the request's headers as they came (before they were set for Funqy's dispatch)
 */
record Received(JsonNode body, IncomingEvent event, MultiMap headers) {

    private static final String KEY = Received.class.getName();

    static Received of(RoutingContext ctx) {
        return ctx.get(KEY);
    }

    /** The single event of a request that came through the ingress. */
    static IncomingEvent event(RoutingContext ctx) {
        Received received = of(ctx);
        if (received == null || received.event() == null) {
            // only a request that bypassed the ingress route gets here (say, another HTTP method)
            throw new BadEventException(null, "request was not read as a single event");
        }
        return received.event();
    }

    void keep(RoutingContext ctx) {
        ctx.put(KEY, this);
    }
}
