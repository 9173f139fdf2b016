package dev.replicator.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.fasterxml.jackson.databind.ObjectMapper;

class NativeDecoderTest {

    final NativeDecoder decoder = new NativeDecoder();
    final ObjectMapper json = new ObjectMapper();

    RowChange decode(String data) throws Exception {
        return decoder.decode(new IncomingEvent("n-1", "replicator.change.v1", "/t", Map.of(), json.readTree(data),
                Map.of())).get(0);
    }

    @Test
    void upsertWithTwoPartPosition() throws Exception {
        RowChange change = decode("{\"table\":\"sales.orders\",\"op\":\"upsert\",\"position\":[12,3],"
                + "\"after\":{\"id\":7,\"total\":\"12.50\"}}");
        assertEquals(new TableId("sales", "orders"), change.table());
        assertEquals(Operation.UPDATE, change.op());
        assertEquals(new Position(12, 3), change.position());
        assertEquals("12.50", change.row().get("total").json().asText());
        assertEquals(ValueEncoding.NATIVE, change.encoding());
    }

    @Test
    void deleteTakesTheKeyAndAnOptionalNewKey() throws Exception {
        RowChange change = decode("{\"table\":\"orders\",\"op\":\"delete\",\"position\":\"99\",\"key\":{\"id\":7},"
                + "\"newKey\":{\"id\":8}}");
        assertEquals(new TableId("public", "orders"), change.table());
        assertEquals(new Position(99, 0), change.position());
        assertEquals(7, change.row().get("id").json().asInt());
        assertEquals(8, change.newKey().get("id").json().asInt());
    }

    @Test
    void positionIsOptionalHere() throws Exception {
        assertNull(decode("{\"table\":\"t\",\"op\":\"truncate\"}").position());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"op\":\"upsert\",\"after\":{}}|table",
            "{\"table\":\"t\",\"op\":\"merge\",\"after\":{}}|op",
            "{\"table\":\"t\",\"op\":\"upsert\"}|after",
            "{\"table\":\"t\",\"op\":\"upsert\",\"after\":[1]}|after",
            "{\"table\":\"t\",\"op\":\"delete\"}|key",
            "{\"table\":\"t\",\"op\":\"upsert\",\"after\":{},\"position\":-1}|position",
            "{\"table\":\"t\",\"op\":\"upsert\",\"after\":{},\"position\":[1]}|position",
            "{\"table\":\"t\",\"op\":\"upsert\",\"after\":{},\"position\":\"x1\"}|position" })
    void invalidChangesNameTheProblem(String data, String named) {
        BadEventException e = assertThrows(BadEventException.class, () -> decode(data));
        assertEquals("n-1", e.eventId());
        assertTrue(e.getMessage().contains(named), e.getMessage());
    }
}
