package dev.replicator.decode;

import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * An event as it arrived, before decoding: CloudEvent attributes (null for a plain Debezium envelope), the data, and
 * the HTTP headers that carry information (Debezium's {@code X-DEBEZIUM-*} headers), keys lower-cased.
 *
 * @param id         ce-id, or null for a plain envelope
 * @param type       ce-type, or null for a plain envelope
 * @param source     ce-source, or null
 * @param extensions CloudEvent extension attributes as text (for example {@code iodebeziumlsn}); never null
 * @param data       the event's data (for a plain envelope: the whole body)
 * @param headers    HTTP headers that matter to decoding, names lower-cased; never null
 */
public record IncomingEvent(
        String id,
        String type,
        String source,
        Map<String, String> extensions,
        JsonNode data,
        Map<String, String> headers) {

    public IncomingEvent {
        extensions = extensions == null ? Map.of() : extensions;
        headers = headers == null ? Map.of() : headers;
    }

    public boolean isCloudEvent() {
        return type != null;
    }

    /** How the event is named in error messages: its id, or "plain event" when it has none. */
    public String describe() {
        return id != null ? id : "plain event";
    }
}
