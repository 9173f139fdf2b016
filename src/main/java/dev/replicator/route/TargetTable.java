package dev.replicator.route;

import dev.replicator.convert.TargetColumn;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.replicator.decode.TableId;
import dev.replicator.schema.SchemaChange;

/**
 * A target table as its catalog describes it: columns in table order and the primary key.
 *
 * @param id             schema and name
 * @param columns        columns by name, in table order
 * @param primaryKey     primary-key column names in index order; never empty (tables without one are refused)
 * @param identityAlways true when a column is {@code GENERATED ALWAYS AS IDENTITY}, so inserts must override it
 * @param pending        additions to the target's schema this description counts on and the target may not have yet
 *                       ({@code replicator.schema.evolution=add}): made in the transaction that writes the change
 */
public record TargetTable(TableId id, Map<String, TargetColumn> columns, List<String> primaryKey, boolean identityAlways,
        List<SchemaChange> pending) {

    public TargetTable {
        columns = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(columns));
        primaryKey = List.copyOf(primaryKey);
        pending = pending == null ? List.of() : List.copyOf(pending);
    }

    /** A table as the target has it. */
    public TargetTable(TableId id, Map<String, TargetColumn> columns, List<String> primaryKey, boolean identityAlways) {
        this(id, columns, primaryKey, identityAlways, List.of());
    }

    public TargetColumn column(String name) {
        return columns.get(name);
    }

    public List<TargetColumn> keyColumns() {
        return primaryKey.stream().map(columns::get).toList();
    }
}
