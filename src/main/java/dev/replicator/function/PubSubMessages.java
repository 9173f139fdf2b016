package dev.replicator.function;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.replicator.decode.BadEventException;

/**
 * Opens the envelope Eventarc puts around a Pub/Sub message ({@code google.cloud.pubsub.topic.v1.messagePublished}):
 * the body Debezium Server's Pub/Sub sink published is base64 in {@code message.data}, and Debezium's headers (such
 * as {@code __debezium.newkey}) are message attributes. What comes out is handled exactly like the same body posted
 * directly: a structured CloudEvent, a plain Debezium envelope, or an array of either.
 */
final class PubSubMessages {

    /** The CloudEvent type Eventarc gives every message of a Pub/Sub topic. */
    static final String MESSAGE_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished";

    /**
     * @param body    the published message's data, parsed
     * @param headers Debezium headers from the attributes, in the form a direct POST carries them (names
     *                {@code x-debezium-...} lower-cased, values base64 JSON)
     * @param data    the published message's data as bytes, what {@code body} was read from
     */
    record Message(JsonNode body, Map<String, String> headers, byte[] data) {
    }

    private PubSubMessages() {
    }

    static Message unwrap(String eventId, JsonNode envelope, ObjectMapper mapper) {
        JsonNode message = envelope.path("message");
        if (!message.isObject()) {
            throw new BadEventException(eventId, MESSAGE_PUBLISHED + " event has no 'message' object");
        }
        JsonNode data = message.get("data");
        if (data == null || !data.isTextual() || data.textValue().isEmpty()) {
            throw new BadEventException(eventId, "Pub/Sub message has no data (message.data must be base64 text)");
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(data.textValue().trim());
        } catch (IllegalArgumentException e) {
            throw new BadEventException(eventId, "Pub/Sub message data is not base64");
        }
        JsonNode body;
        try {
            body = mapper.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new BadEventException(eventId, "Pub/Sub message data: " + ErrorResponses.malformedJson(e));
        } catch (IOException e) {
            throw new BadEventException(eventId, "Pub/Sub message data is unreadable");
        }
        if (body == null || body.isMissingNode()) {
            throw new BadEventException(eventId, "Pub/Sub message data is empty");
        }
        return new Message(body, debeziumHeaders(message.path("attributes")), bytes);
    }

    /**
     * Debezium's Pub/Sub sink publishes its headers as attributes holding the JSON value; its HTTP sink sends them as
     * {@code X-DEBEZIUM-*} headers holding base64 JSON. Both end up in the HTTP form the decoder reads.
     */
    private static Map<String, String> debeziumHeaders(JsonNode attributes) {
        Map<String, String> headers = new HashMap<>();
        Iterator<Map.Entry<String, JsonNode>> fields = attributes.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> attribute = fields.next();
            String name = attribute.getKey().toLowerCase(Locale.ROOT);
            if (!name.startsWith("__debezium") || !attribute.getValue().isTextual()) {
                continue;
            }
            String value = attribute.getValue().textValue().trim();
            if (value.startsWith("{") || value.startsWith("[") || value.startsWith("\"")) {
                value = Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8));
            }
            headers.put("x-debezium-" + name, value);
        }
        return headers;
    }
}
