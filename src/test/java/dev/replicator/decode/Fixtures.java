package dev.replicator.decode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Loads the captured Debezium Server requests under {@code /fixtures/debezium-server-3.6/} as events, the way the
 * HTTP layer would present them: one event per request, or per element of a batched request.
 */
public final class Fixtures {

    /** As the application reads bodies: decimals exactly, never through a double. */
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    private static final String ROOT = "/fixtures/debezium-server-3.6/";
    private static final Set<String> CONTEXT = Set.of("id", "source", "specversion", "type", "datacontenttype",
            "dataschema", "subject", "time", "data");

    private Fixtures() {
    }

    /** Every request of a capture folder (e.g. {@code small/cloudevents}), in order. */
    public static List<IncomingEvent> loadFolder(String folder) {
        List<IncomingEvent> events = new ArrayList<>();
        for (int i = 1;; i++) {
            String path = ROOT + folder + "/" + String.format("%04d.json", i);
            if (Fixtures.class.getResource(path) == null) {
                return events;
            }
            events.addAll(load(folder + "/" + String.format("%04d.json", i)));
        }
    }

    /** One request file (relative to the captures' root) as events. */
    public static List<IncomingEvent> load(String file) {
        JsonNode request = read(ROOT + file);
        Map<String, String> headers = new HashMap<>();
        request.get("headers").fields().forEachRemaining(h -> {
            String name = h.getKey().toLowerCase(Locale.ROOT);
            if (name.startsWith("x-debezium-")) {
                headers.put(name, h.getValue().asText());
            }
        });
        JsonNode body = request.get("body");
        List<IncomingEvent> events = new ArrayList<>();
        if (body.isArray()) {
            body.forEach(element -> events.add(event(element, Map.of())));
        } else {
            events.add(event(body, headers));
        }
        return events;
    }

    static IncomingEvent event(JsonNode body, Map<String, String> headers) {
        if (!body.has("specversion")) {
            return new IncomingEvent(null, null, null, Map.of(), body, headers);
        }
        Map<String, String> extensions = new HashMap<>();
        Iterator<Map.Entry<String, JsonNode>> fields = body.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            if (!CONTEXT.contains(f.getKey()) && !f.getValue().isNull()) {
                extensions.put(f.getKey(), f.getValue().asText());
            }
        }
        return new IncomingEvent(body.get("id").asText(), body.get("type").asText(), body.get("source").asText(),
                extensions, body.get("data"), headers);
    }

    private static JsonNode read(String resource) {
        try (InputStream in = Fixtures.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no fixture " + resource);
            }
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
