package dev.replicator.route;

import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.replicator.decode.Operation;
import dev.replicator.decode.Position;

/**
 * A change ready to write: the target table, the key and the column values as PostgreSQL text input.
 *
 * @param eventId     the event it came from, for errors and logs
 * @param table       the target table
 * @param op          what to do
 * @param position    where the change stands in the source history; null if the event had none
 * @param key         primary-key values in key order (text input); empty for truncate
 * @param values      column to value (text input, null = SQL NULL) for upserts, in table order; key columns included
 * @param unavailable columns the source did not send (unchanged TOAST): left as they are in the target
 * @param newKey      for a delete that moves the row to another key: the new key values; otherwise null
 * @param sourceTable the source table's name, for metrics
 * @param sourceMillis source commit time in epoch milliseconds, or -1 if unknown
 */
public record TargetChange(
        String eventId,
        TargetTable table,
        Operation op,
        Position position,
        List<String> key,
        Map<String, String> values,
        Set<String> unavailable,
        List<String> newKey,
        String sourceTable,
        long sourceMillis) {

    /** A stable, comparable identity of the row within its table (used to lock rows in one order). */
    public String rowIdentity() {
        return String.join("\u0000", key);
    }
}
