package dev.replicator.function;

import java.io.IOException;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.vertx.core.MultiMap;

import dev.replicator.decode.BadEventException;
import dev.replicator.decode.IncomingEvent;

/** Turns what arrived over HTTP (a structured CloudEvent, binary-mode attributes, a plain envelope) into events. */
final class Events {

    /** The attributes CloudEvents requires, in the order they are checked. */
    static final List<String> REQUIRED = List.of("id", "source", "specversion", "type");
    private static final List<String> REQUIRED_HEADERS = REQUIRED.stream().map(attribute -> "ce-" + attribute).toList();
    static final String SPEC_VERSION = "1.0";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** CloudEvent attributes that are not extensions. */
    private static final java.util.Set<String> CONTEXT_ATTRIBUTES = java.util.Set.of("id", "source", "specversion",
            "type", "datacontenttype", "dataschema", "subject", "time", "data", "data_base64");

    private Events() {
    }

    /**
     * A structured-mode CloudEvent (one JSON object with attributes and {@code data} or {@code data_base64}). The
     * attributes the specification requires must be there as strings; {@code data_base64} must hold JSON.
     */
    static IncomingEvent structured(JsonNode event, Map<String, String> headers) {
        String id = event.path("id").isTextual() ? event.get("id").textValue() : null;
        for (String attribute : REQUIRED) {
            JsonNode value = event.get(attribute);
            if (value == null || value.isNull()) {
                throw new BadEventException(id, "CloudEvent has no '" + attribute + "' attribute (required: "
                        + String.join(", ", REQUIRED) + ")");
            }
            if (!value.isTextual() || value.textValue().isBlank()) {
                throw new BadEventException(id, "CloudEvent attribute '" + attribute + "' must be a non-empty string");
            }
        }
        checkSpecVersion(id, event.get("specversion").textValue());
        JsonNode data = data(id, event);
        Map<String, String> extensions = new HashMap<>();
        Iterator<Map.Entry<String, JsonNode>> fields = event.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            if (!CONTEXT_ATTRIBUTES.contains(field.getKey()) && !field.getValue().isNull()) {
                // lower-cased as in binary mode, where they are header names (Debezium sends iodebeziumtxId)
                extensions.put(field.getKey().toLowerCase(Locale.ROOT), field.getValue().isTextual() ? field.getValue().textValue()
                        : field.getValue().toString());
            }
        }
        return new IncomingEvent(text(event, "id"), text(event, "type"), text(event, "source"), extensions,
                data, headers);
    }

    /** {@code data}, or {@code data_base64} decoded and parsed: CloudEvents allows either, not both. */
    private static JsonNode data(String id, JsonNode event) {
        JsonNode base64 = event.get("data_base64");
        if (base64 == null || base64.isNull()) {
            return event.get("data");
        }
        if (event.hasNonNull("data")) {
            throw new BadEventException(id, "CloudEvent has both 'data' and 'data_base64'");
        }
        if (!base64.isTextual()) {
            throw new BadEventException(id, "CloudEvent attribute 'data_base64' must be a base64 string");
        }
        JsonNode contentType = event.get("datacontenttype");
        if (contentType != null && !contentType.isNull() && !isJson(mediaType(contentType.asText()))) {
            throw new BadEventException(id, "'data_base64' must hold JSON, but datacontenttype is '"
                    + shorten(contentType.asText()) + "'");
        }
        byte[] bytes;
        try {
            // line breaks are tolerated; any other character that is not base64 is not
            bytes = Base64.getDecoder().decode(base64.textValue().replaceAll("[\\r\\n ]", ""));
        } catch (IllegalArgumentException e) {
            throw new BadEventException(id, "CloudEvent 'data_base64' is not base64");
        }
        if (bytes.length == 0) {
            return null;
        }
        try {
            JsonNode data = JSON.readTree(bytes);
            return data == null || data.isMissingNode() ? null : data;
        } catch (JsonProcessingException e) {
            throw new BadEventException(id, "CloudEvent 'data_base64': " + ErrorResponses.malformedJson(e));
        } catch (IOException e) {
            throw new BadEventException(id, "CloudEvent 'data_base64' is unreadable");
        }
    }

    /** Binary mode: the request claims to be a CloudEvent when it carries any of the required ce-* headers. */
    static boolean claimsBinary(MultiMap headers) {
        for (String header : REQUIRED_HEADERS) {
            if (headers.get(header) != null) {
                return true;
            }
        }
        return false;
    }

    /** Binary mode: every required attribute is a ce-* header, with a value. */
    static void checkBinaryAttributes(MultiMap headers) {
        String id = headers.get("ce-id");
        for (String attribute : REQUIRED) {
            String value = headers.get("ce-" + attribute);
            if (value == null || value.isBlank()) {
                throw new BadEventException(id == null || id.isBlank() ? null : id, "CloudEvent has no ce-"
                        + attribute + " header (required: ce-" + String.join(", ce-", REQUIRED) + ")");
            }
        }
        checkSpecVersion(id, headers.get("ce-specversion"));
    }

    private static void checkSpecVersion(String id, String specVersion) {
        if (!SPEC_VERSION.equals(specVersion.trim())) {
            throw new BadEventException(id, "unsupported CloudEvents specversion '" + shorten(specVersion)
                    + "' (accepted: " + SPEC_VERSION + ")");
        }
    }

    /** The media type of a Content-Type header, lower-cased, without parameters; null when there is none. */
    static String mediaType(String contentType) {
        if (contentType == null) {
            return null;
        }
        int semicolon = contentType.indexOf(';');
        String type = (semicolon >= 0 ? contentType.substring(0, semicolon) : contentType).trim()
                .toLowerCase(Locale.ROOT);
        return type.isEmpty() ? null : type;
    }

    static boolean isJson(String mediaType) {
        return mediaType != null && (mediaType.equals("application/json") || mediaType.equals("text/json")
                || mediaType.endsWith("+json"));
    }

    /** Structured mode or a batch: the media type says the body holds CloudEvents, whatever ce-* headers say. */
    static boolean isStructuredMediaType(String mediaType) {
        return mediaType != null && mediaType.startsWith("application/cloudevents");
    }

    static String shorten(String text) {
        String shown = text.length() > 60 ? text.substring(0, 60) + "..." : text;
        return dev.replicator.route.Names.forMessage(shown);
    }

    /** Binary mode: the ce-* headers that are extension attributes ({@code ce-iodebeziumlsn} ...), names lower-cased. */
    static Map<String, String> binaryExtensions(MultiMap headers) {
        Map<String, String> extensions = new HashMap<>();
        for (Map.Entry<String, String> header : headers) {
            if (!header.getKey().regionMatches(true, 0, "ce-", 0, 3)) {
                continue; // most headers: not lower-cased for nothing, on every request
            }
            String name = header.getKey().toLowerCase(Locale.ROOT);
            if (!CONTEXT_ATTRIBUTES.contains(name.substring(3))) {
                extensions.put(name.substring(3), header.getValue());
            }
        }
        return extensions;
    }

    /** A Debezium envelope posted without CloudEvent attributes. */
    static IncomingEvent plain(JsonNode envelope, Map<String, String> headers) {
        return new IncomingEvent(null, null, null, Map.of(), envelope, headers);
    }

    /** The headers decoding may need: Debezium's {@code X-DEBEZIUM-*} headers, names lower-cased. */
    static Map<String, String> debeziumHeaders(MultiMap headers) {
        Map<String, String> result = new HashMap<>();
        for (Map.Entry<String, String> header : headers) {
            if (header.getKey().regionMatches(true, 0, "x-debezium-", 0, 11)) {
                result.put(header.getKey().toLowerCase(Locale.ROOT), header.getValue());
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
