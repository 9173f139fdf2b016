package dev.replicator.route;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import dev.replicator.decode.BadEventException;
import dev.replicator.decode.TableId;

/**
 * Which source tables are replicated and where to: the configured renames and column exclusions, and whether
 * unmapped tables may be written under their own name.
 */
public final class TableMappings {

    /** Where one source table goes. */
    public record Mapping(TableId target, Set<String> excludedColumns) {
    }

    /** replicator's own schema by default ({@code replicator.ordering.schema}). */
    static final String OWN_SCHEMA = "replicator";

    private final Map<TableId, Mapping> mappings;
    private final boolean allowAllTables;
    private final ReservedSchemas reserved;

    public TableMappings(Map<TableId, Mapping> mappings, boolean allowAllTables) {
        this(mappings, allowAllTables, OWN_SCHEMA);
    }

    public TableMappings(Map<TableId, Mapping> mappings, boolean allowAllTables, String ownSchema) {
        this.mappings = Map.copyOf(mappings);
        this.allowAllTables = allowAllTables;
        this.reserved = new ReservedSchemas(ownSchema);
    }

    public static TableMappings of(Map<String, Optional<String>> targets, Map<String, List<String>> excluded,
            boolean allowAllTables) {
        return of(targets, excluded, allowAllTables, OWN_SCHEMA);
    }

    /** Builds the mappings from configuration text: source name to optional target name and excluded columns. */
    public static TableMappings of(Map<String, Optional<String>> targets, Map<String, List<String>> excluded,
            boolean allowAllTables, String ownSchema) {
        Map<TableId, Mapping> mappings = new HashMap<>();
        targets.forEach((source, target) -> {
            TableId sourceId = TableId.parse(source);
            TableId targetId = target.map(TableId::parse).orElse(sourceId);
            mappings.put(sourceId, new Mapping(targetId, Set.copyOf(excluded.getOrDefault(source, List.of()))));
        });
        return new TableMappings(mappings, allowAllTables, ownSchema);
    }

    /**
     * Where a table named by an event or request goes, checked before any SQL runs: the name must be one PostgreSQL
     * can hold, the table replicated, and neither it nor its target in a reserved schema. Otherwise a
     * {@link BadEventException} (400) naming the table and the problem.
     */
    public Mapping resolve(String eventId, TableId source) {
        String bad = Names.problem(source);
        if (bad != null) {
            throw new BadEventException(eventId, "table " + Names.forMessage(source) + " cannot exist: " + bad);
        }
        String off = reserved.reason(source);
        if (off != null) {
            throw new BadEventException(eventId, "table " + Names.forMessage(source) + " is never replicated: " + off);
        }
        Mapping mapping = lookup(source).orElseThrow(() -> new BadEventException(eventId, "table "
                + Names.forMessage(source) + " is not replicated (not listed in replicator.tables)"));
        off = reserved.reason(mapping.target());
        if (off != null) {
            throw new BadEventException(eventId, "table " + Names.forMessage(source) + " maps to "
                    + Names.forMessage(mapping.target()) + ", which is never written: " + off);
        }
        return mapping;
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
