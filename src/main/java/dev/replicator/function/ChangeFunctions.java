package dev.replicator.function;

import jakarta.inject.Inject;

import com.fasterxml.jackson.databind.JsonNode;

import io.quarkus.funqy.Funq;
import io.quarkus.funqy.knative.events.CloudEvent;
import io.quarkus.vertx.http.runtime.CurrentVertxRequest;
import io.smallrye.mutiny.Uni;

import dev.replicator.ReplicationPipeline;

/**
 * The function every change event goes to ({@code quarkus.funqy.knative-events.mapping}: the catch-all, since
 * {@link IngressRoute} lets only accepted types through). It returns nothing, so the answer is 204 with no reply
 * event, sent only after the change is committed. The event comes as {@link IngressRoute} read it: Funqy's
 * {@code CloudEvent} is never asked for its data, so the body is not parsed again.
 * <p>
 * The function hands its changes to the shared transaction and returns at once; Funqy sends the answer when that
 * transaction commits. No thread waits per request: a worker thread parked for each request in flight cost more
 * CPU here than everything else a single event does.
 */
public class ChangeFunctions {

    @Inject
    ReplicationPipeline pipeline;

    @Inject
    CurrentVertxRequest request;

    /** Debezium change events and the native format, {@code replicator.change.v1}. */
    @Funq
    public Uni<Void> change(CloudEvent<JsonNode> event) {
        return Uni.createFrom().completionStage(pipeline.applyLater(Received.event(request.getCurrent())))
                .replaceWithVoid();
    }

    /** The same function under the path {@code /debezium} (Funqy gives each function a path of its name). */
    @Funq
    public Uni<Void> debezium(CloudEvent<JsonNode> event) {
        return change(event);
    }

    /**
     * {@code replicator.ping.v1}: answered 204 without touching a database, to check that a broker's deliveries
     * reach the function; also the floor of what a single-event request costs (the throughput benchmark).
     */
    @Funq
    public void ping(CloudEvent<JsonNode> event) {
        // nothing to do: reaching here through the same ingress as a change is the point
    }
}
