package dev.replicator.source.pull;

import com.fasterxml.jackson.databind.JsonNode;

import dev.replicator.decode.BadEventException;

/**
 * What to pull.
 *
 * @param maxChanges stop after about this many changes (at a transaction's end); 0: as many as the time budget allows
 */
public record PullRequest(long maxChanges) {

    public static final PullRequest DRAIN = new PullRequest(0);

    /** {@code {"maxChanges": 100000}}, the field optional; an empty body or none at all drains the slot. */
    public static PullRequest of(String eventId, JsonNode data) {
        if (data == null || data.isNull() || data.isMissingNode()) {
            return DRAIN;
        }
        if (!data.isObject()) {
            throw new BadEventException(eventId, "replicator.pull.v1 data must be a JSON object, got "
                    + data.getNodeType());
        }
        JsonNode max = data.get("maxChanges");
        if (max == null || max.isNull()) {
            return DRAIN;
        }
        if (!max.isIntegralNumber() || !max.canConvertToLong() || max.asLong() < 0) {
            throw new BadEventException(eventId, "\"maxChanges\" must be a whole number, 0 or more");
        }
        return new PullRequest(max.asLong());
    }
}
