package dev.replicator.testing;

import static io.restassured.RestAssured.given;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;

/** Replays captured HTTP requests (method, path, headers, body) against the application under test. */
public final class Requests {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Requests() {
    }

    public static JsonNode fixture(String resource) {
        try {
            return JSON.readTree(TestDatabases.resource(resource));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The numbered request files of a capture folder, in order. */
    public static List<String> folder(String resourceFolder, int count) {
        List<String> files = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            files.add(resourceFolder + String.format("%04d.json", i));
        }
        return files;
    }

    /** Posts a captured request as it was sent. */
    public static Response replay(String resource) {
        JsonNode request = fixture(resource);
        RequestSpecification spec = given();
        Iterator<Map.Entry<String, JsonNode>> headers = request.get("headers").fields();
        while (headers.hasNext()) {
            Map.Entry<String, JsonNode> header = headers.next();
            spec = spec.header(header.getKey(), header.getValue().asText());
        }
        return spec.body(request.get("body").toString().getBytes(StandardCharsets.UTF_8)).post(request.get("path").asText("/"));
    }

    /** Posts a captured structured CloudEvent in binary mode, as a Knative broker delivers it. */
    public static Response replayBinary(String resource) {
        JsonNode request = fixture(resource);
        ObjectNode event = (ObjectNode) request.get("body");
        RequestSpecification spec = given().contentType("application/json");
        Iterator<Map.Entry<String, JsonNode>> attributes = event.fields();
        while (attributes.hasNext()) {
            Map.Entry<String, JsonNode> attribute = attributes.next();
            if (!attribute.getKey().equals("data") && !attribute.getKey().equals("datacontenttype")
                    && !attribute.getValue().isNull()) {
                spec = spec.header("ce-" + attribute.getKey(), attribute.getValue().asText());
            }
        }
        Iterator<Map.Entry<String, JsonNode>> headers = request.get("headers").fields();
        while (headers.hasNext()) {
            Map.Entry<String, JsonNode> header = headers.next();
            if (header.getKey().toLowerCase().startsWith("x-debezium")) {
                spec = spec.header(header.getKey(), header.getValue().asText());
            }
        }
        return spec.body(event.get("data").toString().getBytes(StandardCharsets.UTF_8)).post("/");
    }

    /**
     * Posts a captured request's body the way Eventarc delivers a message of a Pub/Sub topic that Debezium Server's
     * Pub/Sub sink published it to: a binary CloudEvent of type messagePublished, the body base64 in
     * {@code message.data}, Debezium's headers as attributes holding their JSON value.
     */
    public static Response replayPubSub(String resource, String messageId) {
        JsonNode request = fixture(resource);
        ObjectNode envelope = JSON.createObjectNode();
        ObjectNode message = envelope.putObject("message");
        message.put("data", Base64.getEncoder().encodeToString(request.get("body").toString()
                .getBytes(StandardCharsets.UTF_8)));
        message.put("messageId", messageId);
        message.put("publishTime", "2026-11-24T10:00:00.000Z");
        ObjectNode attributes = message.putObject("attributes");
        Iterator<Map.Entry<String, JsonNode>> headers = request.get("headers").fields();
        while (headers.hasNext()) {
            Map.Entry<String, JsonNode> header = headers.next();
            String name = header.getKey().toLowerCase(java.util.Locale.ROOT);
            if (name.startsWith("x-debezium-")) {
                attributes.put(name.substring("x-debezium-".length()), new String(
                        Base64.getDecoder().decode(header.getValue().asText()), StandardCharsets.UTF_8));
            }
        }
        envelope.put("subscription", "projects/demo/subscriptions/eventarc-replicator");
        return pubSub(messageId, envelope.toString());
    }

    /** Posts an Eventarc Pub/Sub event with the given envelope as its data. */
    public static Response pubSub(String messageId, String envelope) {
        return given().contentType("application/json").header("ce-id", messageId).header("ce-specversion", "1.0")
                .header("ce-source", "//pubsub.googleapis.com/projects/demo/topics/replicator-changes")
                .header("ce-type", "google.cloud.pubsub.topic.v1.messagePublished")
                .body(envelope.getBytes(StandardCharsets.UTF_8)).post("/");
    }
}
