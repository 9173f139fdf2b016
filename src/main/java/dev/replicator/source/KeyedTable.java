package dev.replicator.source;

import java.util.List;

import dev.replicator.decode.TableId;
import dev.replicator.convert.TargetColumn;

/**
 * One side's view of a table for reading and comparing: its name, its primary-key columns (with their types, for
 * casting bound key values) and the columns read, in a fixed order that is the same on both sides.
 */
public record KeyedTable(TableId id, List<TargetColumn> key, List<String> columns) {

    public KeyedTable {
        key = List.copyOf(key);
        columns = List.copyOf(columns);
    }

    public List<String> keyNames() {
        return key.stream().map(TargetColumn::name).toList();
    }
}
