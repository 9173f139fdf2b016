package dev.replicator.observe;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.logging.Handler;
import java.util.logging.Level;

import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import org.jboss.logmanager.ExtFormatter;
import org.jboss.logmanager.ExtHandler;
import org.jboss.logmanager.ExtLogRecord;
import org.jboss.logmanager.LogContext;
import org.jboss.logmanager.handlers.ConsoleHandler;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.quarkus.runtime.StartupEvent;

import dev.replicator.config.ReplicatorConfig;

/**
 * One JSON object per log line on the console, for log collectors (Cloud Logging reads {@code severity} and
 * {@code message}). Switched on with {@code replicator.log-json=true}.
 */
@Singleton
public class JsonLogs {

    void install(@Observes @Priority(-10) StartupEvent event, ReplicatorConfig config) {
        if (config.logJson()) {
            for (Handler handler : LogContext.getLogContext().getLogger("").getHandlers()) {
                install(handler, new Formatter());
            }
        }
    }

    private static void install(Handler handler, Formatter formatter) {
        if (handler instanceof ConsoleHandler) {
            handler.setFormatter(formatter);
        }
        if (handler instanceof ExtHandler parent) {
            for (Handler child : parent.getHandlers()) {
                install(child, formatter);
            }
        }
    }

    /** The JSON line for one record. */
    public static final class Formatter extends ExtFormatter {

        private static final ObjectMapper JSON = new ObjectMapper();

        @Override
        public String format(ExtLogRecord record) {
            ObjectNode line = JSON.createObjectNode();
            line.put("timestamp", Instant.ofEpochMilli(record.getMillis()).toString());
            line.put("severity", severity(record.getLevel()));
            line.put("level", record.getLevel().getName());
            line.put("logger", record.getLoggerName());
            line.put("thread", record.getThreadName());
            line.put("message", formatMessage(record));
            if (record.getThrown() != null) {
                StringWriter trace = new StringWriter();
                record.getThrown().printStackTrace(new PrintWriter(trace));
                line.put("exception", trace.toString());
            }
            try {
                return JSON.writeValueAsString(line) + System.lineSeparator();
            } catch (JsonProcessingException e) {
                return "{\"message\":\"unprintable log record\"}" + System.lineSeparator();
            }
        }

        private static String severity(Level level) {
            int value = level.intValue();
            return value >= Level.SEVERE.intValue() ? "ERROR"
                    : value >= Level.WARNING.intValue() ? "WARNING"
                            : value >= Level.INFO.intValue() ? "INFO" : "DEBUG";
        }
    }
}
