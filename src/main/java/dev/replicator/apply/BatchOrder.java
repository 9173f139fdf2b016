package dev.replicator.apply;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.replicator.decode.Operation;
import dev.replicator.decode.Position;
import dev.replicator.decode.TableId;
import dev.replicator.route.TargetChange;

/**
 * Puts the changes of one request in the order they are written. Rows are locked in one stable order (table, key,
 * position) so that concurrent requests cannot deadlock; changes of one row stay in history order. A delete that
 * moves a row to a new key is written just before the create of that key, so the create finds the moved row.
 */
final class BatchOrder {

    private BatchOrder() {
    }

    /**
     * The write order as indexes into the given (already paired) changes, so that outcomes can be reported in the
     * caller's order. Stable: equal changes keep their relative order. A table with an unpositioned change keeps its
     * changes in the order given: nothing else tells which of two changes of a row came first, or whether a change
     * came before or after a truncate.
     */
    static List<Integer> order(List<TargetChange> paired) {
        Set<TableId> unpositioned = new HashSet<>();
        for (TargetChange c : paired) {
            if (c.position() == null) {
                unpositioned.add(c.table().id());
            }
        }
        // the comparison strings are built once per change, not once per comparison
        List<SortKey> keys = new ArrayList<>(paired.size());
        for (int i = 0; i < paired.size(); i++) {
            TargetChange c = paired.get(i);
            String table = c.table().id().toString();
            keys.add(unpositioned.contains(c.table().id()) ? new SortKey(i, table, 0, "", null, 0)
                    : new SortKey(i, table, c.op() == Operation.TRUNCATE ? 0 : 1, lockKey(c), c.position(),
                            c.op() == Operation.DELETE ? 0 : 1));
        }
        keys.sort(SortKey.ORDER);
        List<Integer> indexes = new ArrayList<>(keys.size());
        keys.forEach(key -> indexes.add(key.index()));
        return indexes;
    }

    /**
     * The order of two changes of one row in its history: by position, and at one position a delete before an upsert.
     * Both at one position are the two halves of a key change whose target key stayed the same (the source's key
     * moved, the target's did not): the row stays, with the upsert's values. Positions record the same order.
     */
    static int compareHistory(TargetChange a, TargetChange b) {
        int c = a.position().compareTo(b.position());
        return c != 0 ? c : Boolean.compare(a.op() != Operation.DELETE, b.op() != Operation.DELETE);
    }

    /**
     * The write order: table, truncates first, lock key (the new key for a moving delete), position (none first),
     * and the moving delete before the create it pairs with. Its parts are computed ahead and compared without
     * boxing (large batches sort often).
     */
    private record SortKey(int index, String table, int truncateFirst, String lockKey, Position position,
            int deleteFirst) {
        static final Comparator<SortKey> ORDER = (a, b) -> {
            int c = a.table.compareTo(b.table);
            if (c == 0) {
                c = Integer.compare(a.truncateFirst, b.truncateFirst);
            }
            if (c == 0) {
                c = a.lockKey.compareTo(b.lockKey);
            }
            if (c == 0) {
                c = a.position == null ? (b.position == null ? 0 : -1)
                        : b.position == null ? 1 : a.position.compareTo(b.position);
            }
            return c != 0 ? c : Integer.compare(a.deleteFirst, b.deleteFirst);
        };
    }

    private static String lockKey(TargetChange change) {
        return change.newKey() != null ? String.join("\u0000", change.newKey()) : change.rowIdentity();
    }

    /**
     * Without Debezium's new-key header (batched requests carry no per-event headers), a key change shows as a delete
     * and a create of one table at the same position: mark the delete as a move to the create's key. When both have
     * the same target key (the source's key changed in columns the target's key does not have), the delete becomes a
     * move to its own key, which the writer leaves to the create: the row stays.
     */
    static List<TargetChange> pairKeyMoves(List<TargetChange> changes) {
        Map<String, TargetChange> creates = new HashMap<>();
        for (TargetChange change : changes) {
            if (change.op().isUpsert() && change.position() != null) {
                creates.put(slot(change.table().id().toString(), change.position()), change);
            }
        }
        if (creates.isEmpty()) {
            return changes;
        }
        List<TargetChange> result = new ArrayList<>(changes.size());
        for (TargetChange change : changes) {
            TargetChange create = change.op() == Operation.DELETE && change.newKey() == null && change.position() != null
                    ? creates.get(slot(change.table().id().toString(), change.position()))
                    : null;
            if (create != null) {
                change = change.movingTo(create.key());
            }
            result.add(change);
        }
        return result;
    }

    private static String slot(String table, Position position) {
        return table + "@" + position;
    }
}
