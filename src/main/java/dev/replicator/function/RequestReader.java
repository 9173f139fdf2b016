package dev.replicator.function;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.netty.buffer.ByteBufInputStream;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;

import dev.replicator.BatchElement;
import dev.replicator.decode.BadEventException;
import dev.replicator.decode.IncomingEvent;
import dev.replicator.source.JobEventTypes;

/**
 * Reads a request (path, headers and body bytes) into what it delivers, or a {@link BadEventException} naming what
 * is wrong with it. Every content mode of the same event comes out as the same {@link Delivery.Single}: binary,
 * structured ({@code application/cloudevents+json} or {@code application/json}), {@code data_base64}, wrapped in a
 * Pub/Sub message. No HTTP server needed: the body is parsed here, once.
 */
final class RequestReader {

    private final AcceptedTypes types;
    private final ObjectMapper mapper;

    RequestReader(AcceptedTypes types, ObjectMapper mapper) {
        this.types = types;
        this.mapper = mapper;
    }

    /** {@link #parse} and {@link #classify} in one. */
    Delivery read(String path, MultiMap headers, Buffer body) {
        return classify(path, headers, parse(headers.get("ce-id"), body));
    }

    /** The body as JSON; null when there is none (a binary-mode event without data). */
    JsonNode parse(String eventId, Buffer body) {
        if (body == null || body.length() == 0) {
            return null;
        }
        try {
            // read from the received buffer itself: a copy of a large body would double its memory for a while
            JsonNode node = mapper.readTree(new ByteBufInputStream(body.getByteBuf()));
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

    /** What a request with this (already parsed) body delivers. */
    Delivery classify(String path, MultiMap headers, JsonNode body) {
        String contentType = Events.mediaType(headers.get("Content-Type"));
        if (isBinary(headers)) {
            return binary(headers, contentType, body);
        }
        boolean cloudEvents = Events.isStructuredMediaType(contentType);
        if (contentType != null && !cloudEvents && !Events.isJson(contentType)) {
            throw new BadEventException(null, "unsupported Content-Type '" + Events.shorten(contentType)
                    + "' (accepted: application/json, application/cloudevents+json,"
                    + " application/cloudevents-batch+json)");
        }
        JsonNode required = required(null, body);
        if (cloudEvents && required.isObject() && !Events.isStructuredEvent(required)) {
            throw new BadEventException(required.path("id").isTextual() ? required.get("id").textValue() : null,
                    "CloudEvent has no 'specversion' attribute (required: " + String.join(", ", Events.REQUIRED)
                            + ")");
        }
        String job = jobOfPath(path);
        if (job != null && !Events.isStructuredEvent(required)) {
            // a plain HTTP request to /backfill, /verify, /rowref, /pull or /sequences: the body is the request's data
            return new Delivery.Single(new IncomingEvent("http-" + UUID.randomUUID(), job, "/http", Map.of(),
                    required, Map.of()));
        }
        return ofBody(required, null, Events.debeziumHeaders(headers), null, cloudEvents);
    }

    /** Binary mode: ce-* headers carry the attributes, the body is the data (none for a Debezium tombstone). */
    private Delivery binary(MultiMap headers, String contentType, JsonNode body) {
        Events.checkBinaryAttributes(headers);
        String id = headers.get("ce-id");
        String type = headers.get("ce-type");
        if (PubSubMessages.MESSAGE_PUBLISHED.equals(type)) {
            // Eventarc on a Pub/Sub topic: the body Debezium published is inside the message
            checkJsonData(id, contentType);
            PubSubMessages.Message message = PubSubMessages.unwrap(id, required(id, body), mapper);
            return ofBody(message.body(), message.data(), message.headers(), id, false);
        }
        if (!types.single(type)) {
            throw unsupported(id, type);
        }
        if (body != null) {
            checkJsonData(id, contentType);
        }
        return new Delivery.Single(new IncomingEvent(id, type, headers.get("ce-source"),
                Events.binaryExtensions(headers), body, Events.debeziumHeaders(headers)));
    }

    /**
     * What a JSON body holds: a batch, one structured CloudEvent or one plain Debezium envelope. {@code messageData}:
     * the bytes of a body that came inside a Pub/Sub message, null for the request body.
     */
    private Delivery ofBody(JsonNode body, byte[] messageData, Map<String, String> headers, String eventId,
            boolean cloudEvents) {
        if (body.isArray()) {
            return new Delivery.Batch(batch(body, headers, eventId, cloudEvents), messageData);
        }
        if (!body.isObject()) {
            throw new BadEventException(eventId, "body must be a JSON object or array, got " + body.getNodeType());
        }
        if (Events.isStructuredEvent(body)) {
            IncomingEvent event = Events.structured(body, headers);
            if (!types.single(event.type())) {
                throw unsupported(event.describe(), event.type());
            }
            return new Delivery.Single(event);
        }
        return new Delivery.Single(Events.plain(body, headers));
    }

    /** The elements of a batch; one that cannot be read is kept with its reason, to fail or park the request. */
    private List<BatchElement> batch(JsonNode array, Map<String, String> headers, String eventId,
            boolean cloudEvents) {
        if (array.isEmpty()) {
            throw new BadEventException(eventId, "batch is empty");
        }
        List<BatchElement> elements = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            JsonNode element = array.get(i);
            try {
                // a batch of one may carry the request's key-change headers
                Map<String, String> elementHeaders = array.size() == 1 ? headers : Map.of();
                elements.add(new BatchElement(i, element(element, i, eventId, cloudEvents, elementHeaders), null,
                        element));
            } catch (BadEventException e) {
                elements.add(new BatchElement(i, null, e, element));
            }
        }
        return elements;
    }

    /** One element of a batch: a change event; a batch sent as CloudEvents holds CloudEvents only. */
    private IncomingEvent element(JsonNode element, int index, String eventId, boolean cloudEvents,
            Map<String, String> headers) {
        if (!element.isObject()) {
            throw new BadEventException(eventId, "batch element " + index + " is not a JSON object, got "
                    + element.getNodeType());
        }
        if (!Events.isStructuredEvent(element)) {
            if (cloudEvents) {
                throw new BadEventException(eventId, "batch element " + index
                        + " is not a CloudEvent: it has no 'specversion' attribute");
            }
            return Events.plain(element, headers);
        }
        IncomingEvent event = Events.structured(element, headers);
        if (!types.changes().contains(event.type())) {
            throw unsupported(event.describe(), event.type());
        }
        return event;
    }

    /**
     * Binary mode: ce-* headers claim a CloudEvent, and the media type does not say structured mode (or a batch),
     * whatever headers come along.
     */
    static boolean isBinary(MultiMap headers) {
        return Events.claimsBinary(headers)
                && !Events.isStructuredMediaType(Events.mediaType(headers.get("Content-Type")));
    }

    private static JsonNode required(String eventId, JsonNode body) {
        if (body == null) {
            throw new BadEventException(eventId, "request body is empty");
        }
        return body;
    }

    /** Binary-mode data must be JSON, as Debezium and Knative send it. */
    private static void checkJsonData(String eventId, String contentType) {
        if (!"application/json".equals(contentType)) {
            throw new BadEventException(eventId, "binary-mode CloudEvent data must be application/json, got "
                    + (contentType == null ? "no Content-Type" : "'" + Events.shorten(contentType) + "'"));
        }
    }

    private static BadEventException unsupported(String eventId, String type) {
        return new BadEventException(eventId, "unsupported CloudEvent type '"
                + (type.length() > 100 ? type.substring(0, 100) + "..." : type) + "'");
    }

    private static String jobOfPath(String path) {
        return switch (path) {
            case "/backfill" -> JobEventTypes.BACKFILL;
            case "/verify", "/scheduledVerify" -> JobEventTypes.VERIFY;
            case "/rowref" -> JobEventTypes.ROWREF;
            case "/pull" -> JobEventTypes.PULL;
            case "/sequences" -> JobEventTypes.SEQUENCES;
            default -> null;
        };
    }
}
