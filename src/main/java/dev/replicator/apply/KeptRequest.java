package dev.replicator.apply;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A request kept to replay it: the headers to send it again with (CloudEvent {@code ce-*}, Debezium
 * {@code x-debezium-*}, {@code content-type}) and its body, the exact bytes received.
 *
 * @param headers names (lower case) and values, in the order they came
 * @param body    the body as received; empty when there was none
 * @param json    whether the body was read as JSON (or was empty): only then is a jsonb view of it tried
 */
public record KeptRequest(List<Map.Entry<String, String>> headers, byte[] body, boolean json) {

    private static final byte[] NONE = new byte[0];

    /** The request's headers worth replaying (the others, such as {@code host}, belong to the delivery). */
    public static KeptRequest of(Iterable<Map.Entry<String, String>> received, byte[] body, boolean json) {
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        for (Map.Entry<String, String> header : received) {
            String name = header.getKey().toLowerCase(Locale.ROOT);
            if (name.startsWith("ce-") || name.startsWith("x-debezium-") || name.equals("content-type")) {
                headers.add(Map.entry(name, header.getValue() == null ? "" : header.getValue()));
            }
        }
        return new KeptRequest(List.copyOf(headers), body == null ? NONE : body, json);
    }

    /**
     * The headers as HTTP header lines, {@code name: value} and CRLF each, the form {@code curl -H @file} reads. HTTP
     * headers arrive as bytes that the server reads one character each (ISO-8859-1): they are written back so.
     */
    public byte[] headerLines() {
        ByteArrayOutputStream lines = new ByteArrayOutputStream();
        for (Map.Entry<String, String> header : headers) {
            write(lines, header.getKey());
            lines.write(':');
            lines.write(' ');
            write(lines, header.getValue());
            lines.write('\r');
            lines.write('\n');
        }
        return lines.toByteArray();
    }

    /** The headers as a JSON object, for the jsonb view; a name that came twice shows its last value. */
    public String headersJson() {
        ObjectNode object = JsonNodeFactory.instance.objectNode();
        headers.forEach(header -> object.put(header.getKey(), header.getValue()));
        return object.toString();
    }

    /**
     * Whether a jsonb view of the request is worth trying: the body was read as JSON and nothing holds a zero
     * character, which jsonb cannot store. The database has the last word (a number beyond its range, text after
     * the JSON ...): when it refuses the view, the request is kept without one.
     */
    public boolean viewable() {
        if (!json || escapedZero(body)) {
            return false;
        }
        for (Map.Entry<String, String> header : headers) {
            if (header.getValue().indexOf('\0') >= 0) {
                return false;
            }
        }
        return true;
    }

    /** A zero byte, or a JSON escape {@code \u0000} (not an escaped backslash followed by {@code u0000}). */
    static boolean escapedZero(byte[] json) {
        for (int i = 0; i < json.length; i++) {
            if (json[i] == 0) {
                return true;
            }
            if (json[i] == '\\') {
                if (i + 5 < json.length && json[i + 1] == 'u' && json[i + 2] == '0' && json[i + 3] == '0'
                        && json[i + 4] == '0' && json[i + 5] == '0') {
                    return true;
                }
                i++; // the escaped character
            }
        }
        return false;
    }

    private static void write(ByteArrayOutputStream out, String text) {
        text.codePoints().forEach(c -> {
            if (c <= 0xFF) {
                out.write(c);
            } else {
                // not from an HTTP/1.1 header (each of its bytes is one character): kept as UTF-8
                out.writeBytes(Character.toString(c).getBytes(StandardCharsets.UTF_8));
            }
        });
    }
}
