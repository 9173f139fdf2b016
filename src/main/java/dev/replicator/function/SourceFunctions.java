package dev.replicator.function;

import java.util.UUID;

import jakarta.inject.Inject;

import com.fasterxml.jackson.databind.JsonNode;

import io.quarkus.funqy.Funq;
import io.quarkus.funqy.knative.events.CloudEvent;
import io.quarkus.funqy.knative.events.CloudEventBuilder;
import io.quarkus.vertx.http.runtime.CurrentVertxRequest;

import dev.replicator.decode.IncomingEvent;
import dev.replicator.source.JobEventTypes;
import dev.replicator.source.dispatch.JobDispatch;

/**
 * The functions bound to the source-side request types ({@code quarkus.funqy.knative-events.mapping}). Backfill,
 * verify and pull answer with a CloudEvent, in binary mode whatever mode the request came in: a continuation of
 * their own type while unfinished (a Trigger routes it back), a report type when done. A rowref answers 204 once
 * its rows are committed, like a change. The request comes as {@link IngressRoute} read it.
 */
public class SourceFunctions {

    @Inject
    JobDispatch jobs;

    @Inject
    CurrentVertxRequest request;

    /** {@code replicator.backfill.v1}: copy source rows to the target for one time budget. */
    @Funq
    public CloudEvent<JsonNode> backfill(CloudEvent<JsonNode> event) {
        IncomingEvent received = Received.event(request.getCurrent());
        return answer(jobs.backfill(received.id(), received.data()));
    }

    /** {@code replicator.verify.v1}: compare source and target, optionally repair. */
    @Funq
    public CloudEvent<JsonNode> verify(CloudEvent<JsonNode> event) {
        IncomingEvent received = Received.event(request.getCurrent());
        return answer(jobs.verify(received.id(), received.data()));
    }

    /**
     * A Knative PingSource's event ({@code dev.knative.sources.ping}): its data is a verify request, or a pull
     * request when its {@code replicatorjob} extension is {@code pull}.
     */
    @Funq
    public CloudEvent<JsonNode> scheduledVerify(CloudEvent<JsonNode> event) {
        IncomingEvent received = Received.event(request.getCurrent());
        return answer(jobs.ping(received.id(), received.extensions().get("replicatorjob"), received.data()));
    }

    /** {@code replicator.pull.v1}: drain the source's logical replication slot into the target. */
    @Funq
    public CloudEvent<JsonNode> pull(CloudEvent<JsonNode> event) {
        IncomingEvent received = Received.event(request.getCurrent());
        return answer(jobs.pull(received.id(), received.data()));
    }

    /** {@code replicator.sequences.v1}: move the target's sequences forward to the source's (before a cutover). */
    @Funq
    public CloudEvent<JsonNode> sequences(CloudEvent<JsonNode> event) {
        IncomingEvent received = Received.event(request.getCurrent());
        return answer(jobs.sequences(received.id()));
    }

    /** {@code replicator.rowref.v1}: read the rows by key from the source and apply them. */
    @Funq
    public void rowref(CloudEvent<JsonNode> event) {
        IncomingEvent received = Received.event(request.getCurrent());
        jobs.rowRef(received.id(), received.data());
    }

    /** The one place an answer event is built. */
    private static CloudEvent<JsonNode> answer(JobDispatch.Answer answer) {
        return CloudEventBuilder.create().id(UUID.randomUUID().toString()).type(answer.type())
                .source(JobEventTypes.SOURCE).build(answer.data());
    }
}
