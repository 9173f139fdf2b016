package dev.replicator.route;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import dev.replicator.decode.TableId;

/**
 * Which source tables are replicated and where to: the configured renames and column exclusions, and whether
 * unmapped tables may be written under their own name.
 */
public final class TableMappings {

    /** Where one source table goes. */
    public record Mapping(TableId target, Set<String> excludedColumns) {
    }

    private final Map<TableId, Mapping> mappings;
    private final boolean allowAllTables;

    public TableMappings(Map<TableId, Mapping> mappings, boolean allowAllTables) {
        this.mappings = Map.copyOf(mappings);
        this.allowAllTables = allowAllTables;
    }

    /** Builds the mappings from configuration text: source name to optional target name and excluded columns. */
    public static TableMappings of(Map<String, Optional<String>> targets, Map<String, List<String>> excluded,
            boolean allowAllTables) {
        Map<TableId, Mapping> mappings = new HashMap<>();
        targets.forEach((source, target) -> {
            TableId sourceId = TableId.parse(source);
            TableId targetId = target.map(TableId::parse).orElse(sourceId);
            mappings.put(sourceId, new Mapping(targetId, Set.copyOf(excluded.getOrDefault(source, List.of()))));
        });
        return new TableMappings(mappings, allowAllTables);
    }

    /** The mapping for a source table, or empty when the table is not replicated. */
    public Optional<Mapping> lookup(TableId source) {
        Mapping mapping = mappings.get(source);
        if (mapping != null) {
            return Optional.of(mapping);
        }
        return allowAllTables ? Optional.of(new Mapping(source, Set.of())) : Optional.empty();
    }

    public Map<TableId, Mapping> configured() {
        return mappings;
    }

    public boolean allowAllTables() {
        return allowAllTables;
    }
}
