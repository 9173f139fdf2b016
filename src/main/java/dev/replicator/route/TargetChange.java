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
 * @param kept        columns of the row the change leaves as they are although they may have changed: the unavailable
 *                    ones, and for a native upsert the writable columns it leaves out. Their positions are kept, so
 *                    that an older change that carries them still writes them (see {@code Sql.LAGGING}).
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
        long sourceMillis,
        Set<String> kept) {

    public TargetChange {
        kept = kept == null ? Set.of() : kept;
    }

    /** A change that keeps no column but its unavailable ones. */
    public TargetChange(String eventId, TargetTable table, Operation op, Position position, List<String> key,
            Map<String, String> values, Set<String> unavailable, List<String> newKey, String sourceTable,
            long sourceMillis) {
        this(eventId, table, op, position, key, values, unavailable, newKey, sourceTable, sourceMillis, unavailable);
    }

    /** The same change moving its row to another key. */
    public TargetChange movingTo(List<String> newKey) {
        return new TargetChange(eventId, table, op, position, key, values, unavailable, newKey, sourceTable,
                sourceMillis, kept);
    }

    /**
     * A delete that moves its row to the key it already has: the source's key changed in columns the target's key
     * does not have. The row stays; the create at the same position, which follows, writes it.
     */
    public boolean movesToItsOwnKey() {
        return op == Operation.DELETE && newKey != null && newKey.equals(key);
    }

    /** A stable, comparable identity of the row within its table (used to lock rows in one order). */
    public String rowIdentity() {
        return String.join("\u0000", key);
    }
}
