package dev.replicator.route;

import dev.replicator.convert.TargetColumn;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.replicator.decode.TableId;

/**
 * A target table as its catalog describes it: columns in table order and the primary key.
 *
 * @param id             schema and name
 * @param columns        columns by name, in table order
 * @param primaryKey     primary-key column names in index order; never empty (tables without one are refused)
 * @param identityAlways true when a column is {@code GENERATED ALWAYS AS IDENTITY}, so inserts must override it
 */
public record TargetTable(TableId id, Map<String, TargetColumn> columns, List<String> primaryKey, boolean identityAlways) {

    public TargetTable {
        columns = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(columns));
        primaryKey = List.copyOf(primaryKey);
    }

    public TargetColumn column(String name) {
        return columns.get(name);
    }

    public List<TargetColumn> keyColumns() {
        return primaryKey.stream().map(columns::get).toList();
    }
}
