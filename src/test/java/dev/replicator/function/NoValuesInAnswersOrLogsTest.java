package dev.replicator.function;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

import dev.replicator.testing.PostgresResource;
import dev.replicator.testing.TestDatabases;

/**
 * A value the target refuses, or a bad request carrying values, appears neither in the answer nor in the log; the
 * answer names the event, table, column and type instead. Bad requests leave no stack trace at WARN or above. The log
 * is captured in-process, so this test does not run against the packaged application.
 */
@QuarkusTest
@QuarkusTestResource(PostgresResource.class)
class NoValuesInAnswersOrLogsTest {

    static final String VALUE = "77777777777";

    /** Every record logged while a test runs. */
    static final class Capture extends Handler {
        final List<LogRecord> records = new ArrayList<>();

        @Override
        public synchronized void publish(LogRecord record) {
            records.add(record);
        }

        synchronized List<LogRecord> records() {
            return List.copyOf(records);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    final Capture capture = new Capture();

    @BeforeEach
    void capture() {
        capture.setLevel(Level.ALL);
        Logger.getLogger("").addHandler(capture);
        TestDatabases.execute(PostgresResource.target(), "TRUNCATE guarded, scratch");
    }

    @AfterEach
    void release() {
        Logger.getLogger("").removeHandler(capture);
    }

    @Test
    void anOutOfRangeNumberIsNamedByColumnAndTypeNotByValue() {
        String data = "{\"table\":\"public.guarded\",\"op\":\"upsert\",\"position\":1,\"after\":{\"id\":7,\"qty\":"
                + VALUE + "}}";
        List<Response> answers = List.of(
                ReplicationHttpTest.nativeChange("range-1", data),
                given().contentType("application/cloudevents+json")
                        .body(ReplicationHttpTest.structuredNative("range-2", data)).post("/"),
                given().contentType("application/json")
                        .body("[" + ReplicationHttpTest.structuredNative("range-3", data) + "]").post("/"),
                ReplicationHttpTest.nativeChange("range-4", data.replace(VALUE, "\"" + VALUE + "\"")));
        int n = 1;
        for (Response answer : answers) {
            String body = answer.asString();
            assertEquals(422, answer.statusCode(), body);
            assertTrue(body.contains("range-" + n++), body);
            assertTrue(body.contains("public.guarded"), body);
            assertTrue(body.contains("column \\\"qty\\\" (integer)"), body);
            assertTrue(body.contains("out of range for type integer"), body);
            assertFalse(body.contains(VALUE), body);
        }
        assertEquals("", TestDatabases.copy(PostgresResource.target(), "SELECT * FROM guarded"));
        List<LogRecord> rejected = capture.records().stream()
                .filter(r -> r.getLoggerName().equals("dev.replicator.rejected")).toList();
        assertEquals(4, rejected.size(), text(capture.records()));
        assertTrue(text(rejected).contains("column \"qty\" (integer)"), text(rejected));
        assertNoValueAndNoStackTrace();
    }

    @Test
    void badRequestsLogNeitherValuesNorStackTraces() {
        given().contentType("application/json").body("{\"after\": {\"v\": \"" + VALUE + "\"").post("/").then()
                .statusCode(400);
        given().contentType("application/json").header("ce-id", "bad-1").header("ce-source", "/t")
                .header("ce-specversion", "1.0").header("ce-type", "replicator.change.v1")
                .body("{\"table\":\"public.scratch\",\"op\":\"upsert\",\"position\":1,\"after\":{\"k\":1,\"nope\":\""
                        + VALUE + "\"}}").post("/").then().statusCode(400);
        given().contentType("application/json").header("ce-id", "bad-2").header("ce-source", "/t")
                .header("ce-specversion", "1.0").header("ce-type", "replicator.change.v1")
                .body("{\"table\":\"public.scratch\",\"op\":\"upsert\",\"position\":1,\"after\":{\"k\":\"" + VALUE
                        + "x\"}}").post("/").then().statusCode(422);
        given().contentType("application/json").header("ce-id", "bad-3").header("ce-source", "/t")
                .header("ce-specversion", "1.0").header("ce-type", "replicator.change.v1").body("").post("/").then()
                .statusCode(400);
        given().contentType("application/json").body("{\"tables\":[\"pg_catalog.pg_class\"]}").post("/backfill")
                .then().statusCode(400);
        assertTrue(capture.records().stream().anyMatch(r -> r.getLoggerName().equals("dev.replicator.rejected")),
                text(capture.records()));
        assertNoValueAndNoStackTrace();
    }

    @Test
    void anEventIdWithLineBreaksCannotSplitOrForgeALogLine() {
        String forged = "forged-1\n2026-01-01 00:00:00,000 ERROR [dev.replicator] forged line\r\u2028x";
        String data = "{\"table\":\"public.guarded\",\"op\":\"upsert\",\"position\":1,\"after\":{\"id\":7,\"qty\":-1}}";
        given().contentType("application/cloudevents+json")
                .body(ReplicationHttpTest.structuredNative("ID", data).replace("\"ID\"", json(forged))).post("/")
                .then().statusCode(422);
        List<LogRecord> rejected = capture.records().stream()
                .filter(r -> r.getLoggerName().equals("dev.replicator.rejected")).toList();
        assertEquals(1, rejected.size(), text(capture.records()));
        String line = text(rejected).stripTrailing();
        assertTrue(line.contains("forged-1"), line);
        assertFalse(line.contains("\n") || line.contains("\r") || line.contains("\u2028"), line);
    }

    private static String json(String text) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private void assertNoValueAndNoStackTrace() {
        for (LogRecord record : capture.records()) {
            if (record.getLoggerName().startsWith("io.zonky.")) {
                continue; // the embedded test database's own server log, relayed into this JVM only in tests
            }
            String line = text(List.of(record));
            assertFalse(line.contains(VALUE), "a value in the log: " + line);
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                assertNull(record.getThrown(), "a stack trace at " + record.getLevel() + ": " + line);
            }
        }
    }

    /** Records as they would be written: the formatted message and every cause's message. */
    private static String text(List<LogRecord> records) {
        SimpleFormatter formatter = new SimpleFormatter();
        StringBuilder text = new StringBuilder();
        for (LogRecord record : records) {
            text.append(record.getLevel()).append(' ').append(record.getLoggerName()).append(' ')
                    .append(record instanceof org.jboss.logmanager.ExtLogRecord ext ? ext.getFormattedMessage()
                            : formatter.formatMessage(record));
            for (Throwable t = record.getThrown(); t != null; t = t.getCause()) {
                text.append(" | ").append(t);
            }
            text.append('\n');
        }
        return text.toString();
    }
}
