package dev.replicator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

import dev.replicator.decode.Operation;
import dev.replicator.decode.Position;
import dev.replicator.route.TargetChange;
import dev.replicator.route.TargetTable;

/** The write order by indexes (used by the writer) is the documented write order, change for change. */
class BatchOrderTest {

    static final TargetTable A = SqlTest.table("public", "a", false, List.of("id"), SqlTest.column("id", "integer"));
    static final TargetTable B = SqlTest.table("other", "b", false, List.of("id"), SqlTest.column("id", "integer"));

    /** The documented write order, spelled out as a plain comparator. */
    static final Comparator<TargetChange> WRITE_ORDER = Comparator
            .comparing((TargetChange c) -> c.table().id().toString())
            .thenComparing(c -> c.op() == Operation.TRUNCATE ? 0 : 1)
            .thenComparing(c -> c.newKey() != null ? String.join("\u0000", c.newKey()) : c.rowIdentity())
            .thenComparing(TargetChange::position, Comparator.nullsFirst(Comparator.naturalOrder()))
            .thenComparing(c -> c.op() == Operation.DELETE ? 0 : 1);

    @Test
    void indexOrderMatchesTheWriteOrder() {
        Random random = new Random(3);
        for (int round = 0; round < 200; round++) {
            List<TargetChange> changes = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                TargetTable table = random.nextBoolean() ? A : B;
                Operation op = Operation.values()[random.nextInt(Operation.values().length)];
                Position position = random.nextInt(8) == 0 ? null : new Position(random.nextInt(4), random.nextInt(4));
                List<String> key = op == Operation.TRUNCATE ? List.of() : List.of(String.valueOf(random.nextInt(6)));
                List<String> newKey = op == Operation.DELETE && random.nextInt(4) == 0
                        ? List.of(String.valueOf(random.nextInt(6))) : null;
                changes.add(new TargetChange("e" + i, table, op, position, key, Map.of(), Set.of(), newKey,
                        table.id().toString(), -1));
            }
            List<TargetChange> paired = BatchOrder.pairKeyMoves(changes);
            List<TargetChange> byIndex = BatchOrder.order(paired).stream().map(paired::get).toList();
            List<TargetChange> expected = new ArrayList<>(paired);
            expected.sort(WRITE_ORDER);
            assertEquals(expected, byIndex, "round " + round);
        }
    }
}
