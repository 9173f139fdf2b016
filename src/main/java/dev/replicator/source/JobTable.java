package dev.replicator.source;

import dev.replicator.decode.TableId;
import dev.replicator.route.TargetTable;

/**
 * A mapped table as both databases describe it: where it is read (source) and where it is written (target), with
 * the columns that are copied and compared (source columns minus exclusions and minus columns the target
 * generates itself), the same key on both sides.
 *
 * @param sourceId the source table's name, as events name it
 * @param source   the source side, columns in source order
 * @param target   the target side, same key and columns
 * @param written  the target table as the router writes it (exclusions applied)
 */
public record JobTable(TableId sourceId, KeyedTable source, KeyedTable target, TargetTable written) {

    /** The name row positions and checkpoints are recorded under (the target table's). */
    public String targetName() {
        return target.id().toString();
    }
}
