package dev.replicator.function;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** One CloudEvent as a request in each content mode a broker or Debezium may use. */
final class ContentModes {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> NOT_HEADERS = Set.of("data", "data_base64", "datacontenttype");

    /** A request as it goes over the wire: headers (names as sent) and body. */
    record Request(String mode, Map<String, String> headers, String body) {
        byte[] bytes() {
            return body.getBytes(StandardCharsets.UTF_8);
        }
    }

    private ContentModes() {
    }

    /** The structured event (with {@code data}) in every mode. */
    static List<Request> of(String structuredEvent) {
        ObjectNode event = (ObjectNode) read(structuredEvent);
        List<Request> requests = new ArrayList<>();
        requests.add(binary(event));
        requests.add(new Request("structured application/cloudevents+json",
                Map.of("Content-Type", "application/cloudevents+json"), event.toString()));
        requests.add(new Request("structured sent as application/json", Map.of("Content-Type", "application/json"),
                event.toString()));
        ObjectNode base64 = event.deepCopy();
        JsonNode data = base64.remove("data");
        base64.put("data_base64", base64(data.toString()));
        requests.add(new Request("structured with data_base64",
                Map.of("Content-Type", "application/cloudevents+json"), base64.toString()));
        Map<String, String> pubSub = new LinkedHashMap<>();
        pubSub.put("Content-Type", "application/json");
        pubSub.put("ce-id", "msg-" + event.get("id").asText());
        pubSub.put("ce-specversion", "1.0");
        pubSub.put("ce-source", "//pubsub.googleapis.com/projects/p/topics/t");
        pubSub.put("ce-type", PubSubMessages.MESSAGE_PUBLISHED);
        requests.add(new Request("in a Pub/Sub message", pubSub, "{\"message\":{\"data\":\""
                + base64(event.toString()) + "\",\"messageId\":\"1\"},\"subscription\":\"s\"}"));
        return requests;
    }

    /** Binary mode: every attribute but data as a ce-* header, the data as the body. */
    static Request binary(ObjectNode event) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", "application/json");
        Iterator<Map.Entry<String, JsonNode>> fields = event.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            if (!NOT_HEADERS.contains(field.getKey()) && !field.getValue().isNull()) {
                headers.put("ce-" + field.getKey(), field.getValue().isTextual() ? field.getValue().textValue()
                        : field.getValue().toString());
            }
        }
        return new Request("binary", headers, event.get("data").toString());
    }

    static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static String base64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }
}
