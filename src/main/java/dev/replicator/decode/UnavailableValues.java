package dev.replicator.decode;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Recognises Debezium's placeholder for a value it did not send (an unchanged TOASTed column), in each form it takes:
 * the text itself, its bytes in base64 (bytea), a one-element array holding it (arrays), and a map holding it (hstore).
 */
public final class UnavailableValues {

    public static final String PLACEHOLDER = "__debezium_unavailable_value";
    private static final String PLACEHOLDER_BASE64 = Base64.getEncoder()
            .encodeToString(PLACEHOLDER.getBytes(StandardCharsets.UTF_8));

    private UnavailableValues() {
    }

    public static boolean isUnavailable(JsonNode value) {
        if (value == null) {
            return false;
        }
        if (value.isTextual()) {
            String text = value.textValue();
            return text.equals(PLACEHOLDER) || text.equals(PLACEHOLDER_BASE64);
        }
        if (value.isArray()) {
            return value.size() == 1 && value.get(0).isTextual() && value.get(0).textValue().equals(PLACEHOLDER);
        }
        if (value.isObject()) {
            return value.size() == 1 && value.has(PLACEHOLDER);
        }
        return false;
    }
}
