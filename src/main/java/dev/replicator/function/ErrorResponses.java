package dev.replicator.function;

import java.io.UncheckedIOException;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.vertx.ext.web.RoutingContext;

import dev.replicator.apply.NotKeptException;
import dev.replicator.apply.RejectedChangeException;
import dev.replicator.apply.TargetUnavailableException;
import dev.replicator.decode.BadEventException;
import dev.replicator.route.RefusedValueException;

/**
 * Answers a failed request with the status a broker acts on correctly: 400 for events that can never succeed (the
 * broker sends them to its dead-letter sink), 422 for changes the target refuses, 409/503 for trouble that a retry
 * can fix. The body is one JSON object with a one-line message; row contents never appear in it.
 */
final class ErrorResponses {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ErrorResponses() {
    }

    record Failure(int status, String message) {
    }

    static Failure classify(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof NotKeptException notKept) {
                return new Failure(notKept.status(), notKept.getMessage());
            }
            if (t instanceof BadEventException bad) {
                return new Failure(400, withEvent(bad.eventId(), bad.getMessage()));
            }
            if (t instanceof RejectedChangeException rejected) {
                return new Failure(422, rejected.getMessage());
            }
            if (t instanceof RefusedValueException refused) {
                return new Failure(422, refused.getMessage());
            }
            if (t instanceof TargetUnavailableException unavailable) {
                return new Failure(unavailable.status(), unavailable.getMessage());
            }
            if (t instanceof JsonProcessingException json) {
                return new Failure(400, malformedJson(json));
            }
            if (t instanceof UncheckedIOException io && io.getCause() instanceof JsonProcessingException json) {
                return new Failure(400, malformedJson(json));
            }
        }
        return new Failure(500, "internal error: " + failure.getClass().getSimpleName());
    }

    /** A rejected event the target would not keep with parking on: answered with its own status. */
    static boolean notKept(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof NotKeptException) {
                return true;
            }
        }
        return false;
    }

    static void send(RoutingContext ctx, int status, String message) {
        if (ctx.response().ended()) {
            return;
        }
        String body;
        try {
            body = JSON.writeValueAsString(Map.of("status", status, "error", oneLine(message)));
        } catch (JsonProcessingException e) {
            body = "{\"status\":" + status + "}";
        }
        if (status == 503) {
            // brokers that honour it (Knative, Pub/Sub push) back off instead of redelivering at once
            ctx.response().putHeader("Retry-After", "1");
        }
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body);
    }

    /** Jackson quotes the offending token, which may be row content: leave it out. */
    static String malformedJson(JsonProcessingException e) {
        String message = String.valueOf(e.getOriginalMessage()).replaceAll("'[^']*'", "'...'")
                .replaceAll(" ?\\(code -?\\d+\\)", "");
        int newline = message.indexOf('\n');
        message = newline >= 0 ? message.substring(0, newline) : message;
        return "malformed JSON body: " + (message.length() > 160 ? message.substring(0, 160) + "..." : message)
                + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                        + e.getLocation().getColumnNr() + ")");
    }

    static String withEvent(String eventId, String message) {
        return eventId == null || message.startsWith("event ") ? message : "event " + eventId + ": " + message;
    }

    private static String oneLine(String message) {
        return message == null ? "" : message.replace('\n', ' ').replace('\r', ' ');
    }
}
