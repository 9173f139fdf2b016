package dev.replicator.function;

import java.util.List;

import jakarta.inject.Inject;

import com.fasterxml.jackson.databind.JsonNode;

import io.quarkus.funqy.Funq;
import io.quarkus.funqy.knative.events.CloudEvent;
import io.quarkus.vertx.http.runtime.CurrentVertxRequest;

import dev.replicator.ReplicationPipeline;
import dev.replicator.decode.IncomingEvent;

/**
 * The functions bound to change-event types ({@code quarkus.funqy.knative-events.mapping}). They return nothing, so
 * the answer is 204 with no reply event, sent only after the change is committed.
 */
public class ChangeFunctions {

    @Inject
    ReplicationPipeline pipeline;

    @Inject
    CurrentVertxRequest request;

    /** Debezium change events (the types in {@code replicator.debezium.event-types}). */
    @Funq
    public void debezium(CloudEvent<JsonNode> event) {
        pipeline.process(List.of(incoming(event)));
    }

    /** The native change format, {@code replicator.change.v1}. */
    @Funq
    public void change(CloudEvent<JsonNode> event) {
        pipeline.process(List.of(incoming(event)));
    }

    private IncomingEvent incoming(CloudEvent<JsonNode> event) {
        return new IncomingEvent(event.id(), event.type(), event.source(), event.extensions(), event.data(),
                Events.debeziumHeaders(request.getCurrent().request().headers()));
    }
}
