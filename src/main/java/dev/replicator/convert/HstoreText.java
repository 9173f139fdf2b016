package dev.replicator.convert;

import java.util.Iterator;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** hstore text input from a JSON object: Debezium's map mode sends the object, its default json mode the object's text. */
final class HstoreText {

    private static final ObjectMapper JSON = new ObjectMapper();

    private HstoreText() {
    }

    static String fromJson(String text) {
        try {
            JsonNode map = JSON.readTree(text);
            if (map == null || !map.isObject()) {
                throw new IllegalArgumentException("hstore JSON is not an object");
            }
            return of(map);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("hstore value is not JSON");
        }
    }

    static String of(JsonNode map) {
        StringBuilder out = new StringBuilder();
        Iterator<Map.Entry<String, JsonNode>> entries = map.fields();
        while (entries.hasNext()) {
            Map.Entry<String, JsonNode> entry = entries.next();
            if (out.length() > 0) {
                out.append(", ");
            }
            out.append(quote(entry.getKey())).append("=>")
                    .append(entry.getValue().isNull() ? "NULL" : quote(entry.getValue().asText()));
        }
        return out.toString();
    }

    private static String quote(String text) {
        return '"' + text.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
