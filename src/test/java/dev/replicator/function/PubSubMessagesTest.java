package dev.replicator.function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.replicator.decode.BadEventException;

class PubSubMessagesTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void dataIsDecodedAndDebeziumAttributesBecomeHeadersInEitherForm() throws Exception {
        String key = "{\"k\":2}";
        String base64Key = base64(key);
        JsonNode envelope = JSON.readTree("{\"message\":{\"data\":\"" + base64("{\"op\":\"d\"}") + "\","
                + "\"attributes\":{\"__debezium.newkey\":\"" + key.replace("\"", "\\\"") + "\","
                + "\"__DEBEZIUM.OLDKEY\":\"" + base64Key + "\",\"googclient_schemaencoding\":\"JSON\"}}}");
        PubSubMessages.Message message = PubSubMessages.unwrap("m-1", envelope, JSON);
        assertEquals("d", message.body().get("op").asText());
        assertEquals(Map.of("x-debezium-__debezium.newkey", base64Key, "x-debezium-__debezium.oldkey", base64Key),
                message.headers());
    }

    @Test
    void aMessageWithoutDataNamesTheProblem() throws Exception {
        BadEventException e = assertThrows(BadEventException.class,
                () -> PubSubMessages.unwrap("m-2", JSON.readTree("{\"message\":{\"data\":\"\"}}"), JSON));
        assertEquals("m-2", e.eventId());
        assertTrue(e.getMessage().contains("no data"), e.getMessage());
    }

    private static String base64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }
}
