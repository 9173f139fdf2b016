package dev.replicator.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.logging.Level;

import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

class JsonLogsTest {

    @Test
    void oneJsonObjectPerLineWithSeverityAndMessage() throws Exception {
        ExtLogRecord record = new ExtLogRecord(Level.WARNING, "400 event %s: unsupported CloudEvent type 'x'",
                ExtLogRecord.FormatStyle.PRINTF, "test");
        record.setParameters(new Object[] { "e-1" });
        record.setLoggerName("dev.replicator.rejected");
        String line = new JsonLogs.Formatter().format(record);
        assertTrue(line.endsWith(System.lineSeparator()) && line.indexOf('\n') == line.length() - 1, line);
        JsonNode json = new ObjectMapper().readTree(line);
        assertEquals("WARNING", json.get("severity").asText());
        assertEquals("dev.replicator.rejected", json.get("logger").asText());
        assertEquals("400 event e-1: unsupported CloudEvent type 'x'", json.get("message").asText());
    }
}
