package dev.replicator.function;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import io.vertx.core.MultiMap;

import dev.replicator.decode.IncomingEvent;

/** Turns what arrived over HTTP (a structured CloudEvent, binary-mode attributes, a plain envelope) into events. */
final class Events {

    /** CloudEvent attributes that are not extensions. */
    private static final java.util.Set<String> CONTEXT_ATTRIBUTES = java.util.Set.of("id", "source", "specversion",
            "type", "datacontenttype", "dataschema", "subject", "time", "data", "data_base64");

    private Events() {
    }

    /** A structured-mode CloudEvent (one JSON object with attributes and {@code data}). */
    static IncomingEvent structured(JsonNode event, Map<String, String> headers) {
        Map<String, String> extensions = new HashMap<>();
        Iterator<Map.Entry<String, JsonNode>> fields = event.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            if (!CONTEXT_ATTRIBUTES.contains(field.getKey()) && !field.getValue().isNull()) {
                extensions.put(field.getKey(), field.getValue().isTextual() ? field.getValue().textValue()
                        : field.getValue().toString());
            }
        }
        return new IncomingEvent(text(event, "id"), text(event, "type"), text(event, "source"), extensions,
                event.get("data"), headers);
    }

    /** A binary-mode CloudEvent: attributes in {@code ce-*} headers (extensions as Funqy reads them), data in the body. */
    static IncomingEvent binary(MultiMap headers, JsonNode data) {
        Map<String, String> extensions = new HashMap<>();
        for (Map.Entry<String, String> header : headers) {
            String name = header.getKey().toLowerCase(java.util.Locale.ROOT);
            if (name.startsWith("ce-") && !CONTEXT_ATTRIBUTES.contains(name.substring(3))) {
                extensions.put(name.substring(3), header.getValue());
            }
        }
        return new IncomingEvent(headers.get("ce-id"), headers.get("ce-type"), headers.get("ce-source"), extensions,
                data, debeziumHeaders(headers));
    }

    /** A Debezium envelope posted without CloudEvent attributes. */
    static IncomingEvent plain(JsonNode envelope, Map<String, String> headers) {
        return new IncomingEvent(null, null, null, Map.of(), envelope, headers);
    }

    /** The headers decoding may need: Debezium's {@code X-DEBEZIUM-*} headers, names lower-cased. */
    static Map<String, String> debeziumHeaders(MultiMap headers) {
        Map<String, String> result = new HashMap<>();
        for (Map.Entry<String, String> header : headers) {
            String name = header.getKey().toLowerCase(java.util.Locale.ROOT);
            if (name.startsWith("x-debezium-")) {
                result.put(name, header.getValue());
            }
        }
        return result;
    }

    static boolean isStructuredEvent(JsonNode node) {
        return node.isObject() && node.has("specversion");
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }
}
