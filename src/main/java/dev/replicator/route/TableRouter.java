package dev.replicator.route;

import dev.replicator.convert.TargetColumn;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

import dev.replicator.convert.ConversionException;
import dev.replicator.convert.ValueConverter;
import dev.replicator.decode.BadEventException;
import dev.replicator.decode.FieldValue;
import dev.replicator.decode.Operation;
import dev.replicator.decode.RowChange;
import dev.replicator.decode.TableId;
import dev.replicator.decode.ValueEncoding;
import dev.replicator.schema.SourceShape;

/**
 * Decides where a decoded change goes and what it writes: applies the table mapping, checks every table and column
 * name against the target's catalog (names from events are never trusted), picks the key from the target's primary
 * key and turns values into PostgreSQL text input.
 */
public class TableRouter {

    private final TableMappings mappings;
    private final TargetCatalog catalog;
    private final ValueConverter converter;
    private final SchemaPlanner planner;

    public TableRouter(TableMappings mappings, TargetCatalog catalog, ValueConverter converter) {
        this(mappings, catalog, converter, null);
    }

    /** @param planner adds what the target lacks ({@code replicator.schema.evolution=add}); null refuses it (400) */
    public TableRouter(TableMappings mappings, TargetCatalog catalog, ValueConverter converter, SchemaPlanner planner) {
        this.mappings = mappings;
        this.catalog = catalog;
        this.converter = converter;
        this.planner = planner;
    }

    /** Whether tables and columns the target lacks are added ({@code replicator.schema.evolution=add}). */
    public boolean evolves() {
        return planner != null;
    }

    public TargetChange route(RowChange change) throws SQLException {
        return route(change, null);
    }

    /**
     * The target table a source table's changes go to, or empty when they are not written (not replicated, or in a
     * reserved schema): what {@link #route} would pick, without a change and without asking the target.
     */
    public Optional<TableId> targetOf(TableId source) {
        try {
            return Optional.of(mappings.resolve(null, source).target());
        } catch (BadEventException e) {
            return Optional.empty();
        }
    }

    /**
     * With schema evolution on: whether the target table of a replicated source table can take its columns' types as
     * the source has them now ({@link SchemaPlanner#checkTypes}); refused (422) naming a column it cannot.
     */
    public void checkTypes(String eventId, TableId source, Map<String, String> sourceTypes) throws SQLException {
        Optional<TableMappings.Mapping> mapping = mappings.lookup(source);
        if (planner == null || mapping.isEmpty()) {
            return;
        }
        catalog.invalidate(mapping.get().target());
        Optional<TargetTable> table = catalog.find(mapping.get().target());
        if (table.isPresent()) {
            Map<String, String> compared = new LinkedHashMap<>(sourceTypes);
            compared.keySet().removeAll(mapping.get().excludedColumns());
            planner.checkTypes(eventId, table.get(), compared);
        }
    }

    /**
     * Routes a change whose source table's shape is known (a pulled Relation message): with schema evolution on, it
     * gives the types of columns and tables the target lacks.
     */
    public TargetChange route(RowChange change, SourceShape shape) throws SQLException {
        TableMappings.Mapping mapping = mappings.resolve(change.eventId(), change.table());
        TargetTable table = tableFor(change, mapping, shape);
        if (change.op() == Operation.TRUNCATE) {
            return new TargetChange(change.eventId(), table, change.op(), change.position(), List.of(), Map.of(),
                    Set.of(), null, change.table().toString(), millis(change));
        }
        table = withColumnsOf(change, mapping, table, shape);
        if (change.op() == Operation.DELETE) {
            // a delete's before image is often the key plus type-default fillers: only the key means anything
            List<String> key = keyOf(change, table, change.row(), Map.of());
            List<String> newKey = change.newKey() == null ? null : keyOf(change, table, change.newKey(), Map.of());
            return new TargetChange(change.eventId(), table, change.op(), change.position(), key, Map.of(), Set.of(),
                    newKey, change.table().toString(), millis(change));
        }

        Map<String, String> values = new LinkedHashMap<>();
        Set<String> unavailable = new HashSet<>();
        for (Map.Entry<String, FieldValue> field : change.row().entrySet()) {
            String name = field.getKey();
            TargetColumn column = table.column(name);
            if (column == null || column.generated()) {
                // excluded by the mapping, or computed by the target itself
                continue;
            }
            if (field.getValue().unavailable()) {
                unavailable.add(name);
            } else {
                values.put(name, convert(change, field.getValue(), column));
            }
        }
        List<String> key = keyOf(change, table, change.row(), values);
        return new TargetChange(change.eventId(), table, change.op(), change.position(), key, values,
                Set.copyOf(unavailable), null, change.table().toString(), millis(change),
                kept(change, table, values, unavailable));
    }

    /**
     * The columns a change leaves as they are: what Debezium and pgoutput did not send (their rows are whole
     * otherwise), and every writable column a native upsert leaves out (it says nothing of the others).
     */
    private static Set<String> kept(RowChange change, TargetTable table, Map<String, String> values,
            Set<String> unavailable) {
        if (change.encoding() != ValueEncoding.NATIVE) {
            return Set.copyOf(unavailable);
        }
        Set<String> kept = new HashSet<>();
        for (TargetColumn column : table.columns().values()) {
            if (!column.generated() && !values.containsKey(column.name())) {
                kept.add(column.name());
            }
        }
        return Set.copyOf(kept);
    }

    /**
     * Where the change goes. With schema evolution on, a table the target lacks is planned (created with the source's
     * columns and key when the change is written); a plan not yet committed is used as it is.
     */
    private TargetTable tableFor(RowChange change, TableMappings.Mapping mapping, SourceShape shape)
            throws SQLException {
        if (planner != null) {
            Optional<TargetTable> cached = catalog.find(mapping.target());
            List<String> needed = change.row().keySet().stream()
                    .filter(name -> !mapping.excludedColumns().contains(name)).toList();
            TargetTable plan = cached.isEmpty() ? planner.planned(mapping.target()) : null;
            if (plan != null && plan.columns().keySet().containsAll(needed)) {
                // created by a plan not yet committed: the changes routed meanwhile share it
                return plan;
            }
            if (cached.isEmpty()) {
                catalog.invalidate(mapping.target());
                cached = catalog.find(mapping.target());
            }
            if (cached.isEmpty()) {
                return planner.create(change.eventId(), mapping.target(), change.table(), mapping.excludedColumns(),
                        needed, shape != null ? shape : planner.shapeOf(change));
            }
        }
        return existingTable(change, mapping.target());
    }

    private TargetTable existingTable(RowChange change, TableId target) throws SQLException {
        Optional<TargetTable> table = catalog.find(target);
        if (table.isEmpty()) {
            // the table may have been created since we looked
            catalog.invalidate(target);
            table = catalog.find(target);
        }
        TargetTable found = table.orElseThrow(() -> new BadEventException(change.eventId(),
                "target table " + Names.forMessage(target) + " does not exist (source table "
                        + Names.forMessage(change.table()) + ")"));
        if (found.primaryKey().isEmpty()) {
            throw new BadEventException(change.eventId(), "target table " + target + " has no primary key");
        }
        return found;
    }

    /**
     * Every column of the event must exist in the target (after exclusions); a miss re-reads the catalog once. With
     * schema evolution on, the columns still missing are planned (added when the change is written).
     */
    private TargetTable withColumnsOf(RowChange change, TableMappings.Mapping mapping, TargetTable table,
            SourceShape shape) throws SQLException {
        TargetTable current = table;
        List<String> missing = missingColumns(change, mapping, current);
        TargetTable plan = planner == null || missing.isEmpty() ? null : planner.planned(table.id());
        if (plan != null && missingColumns(change, mapping, plan).isEmpty()) {
            // planned and not yet committed (or just committed): the changes routed meanwhile share the plan
            current = plan;
            missing = List.of();
        }
        if (!missing.isEmpty() && current.pending().isEmpty()) {
            catalog.invalidate(table.id());
            current = planner != null ? tableFor(change, mapping, shape) : existingTable(change, table.id());
            missing = missingColumns(change, mapping, current);
        }
        if (!missing.isEmpty()) {
            if (planner == null) {
                throw new BadEventException(change.eventId(), "column " + quoteForMessage(missing.get(0))
                        + " does not exist in target table " + table.id());
            }
            current = planner.add(change.eventId(), current, missing,
                    shape != null ? shape : planner.shapeOf(change));
        }
        if (mapping.excludedColumns().isEmpty()) {
            return current;
        }
        Map<String, TargetColumn> kept = new LinkedHashMap<>(current.columns());
        kept.keySet().removeAll(mapping.excludedColumns());
        for (String key : current.primaryKey()) {
            if (!kept.containsKey(key)) {
                throw new BadEventException(change.eventId(),
                        "key column " + key + " of " + current.id() + " is excluded by replicator.tables");
            }
        }
        return new TargetTable(current.id(), kept, current.primaryKey(), current.identityAlways(), current.pending());
    }

    private static List<String> missingColumns(RowChange change, TableMappings.Mapping mapping, TargetTable table) {
        List<String> missing = new ArrayList<>();
        for (String name : change.row().keySet()) {
            if (!mapping.excludedColumns().contains(name) && table.column(name) == null) {
                missing.add(name);
            }
        }
        return missing;
    }

    private List<String> keyOf(RowChange change, TargetTable table, Map<String, FieldValue> row,
            Map<String, String> converted) {
        List<String> key = new ArrayList<>(table.primaryKey().size());
        for (String name : table.primaryKey()) {
            FieldValue value = row.get(name);
            if (value == null || value.isNull() || value.unavailable()) {
                throw new BadEventException(change.eventId(), "key column " + name + " of " + table.id()
                        + (value == null ? " is missing from the event" : " has no value in the event"));
            }
            key.add(converted.containsKey(name) ? converted.get(name) : convert(change, value, table.column(name)));
        }
        return key;
    }

    private String convert(RowChange change, FieldValue value, TargetColumn column) {
        if (value.json() != null && beyondNumeric(value.json(), 0)) {
            // 1e999999999 is a short request but a billion digits written out: refuse before any conversion does that
            throw new RefusedValueException(change.eventId(), "event " + change.eventId() + ": column "
                    + quoteForMessage(column.name()) + " (" + column.sqlType() + ") of "
                    + Names.forMessage(change.table()) + " holds a number beyond the range of any PostgreSQL type");
        }
        String text;
        try {
            text = converter.toText(value, column, change.encoding());
        } catch (ConversionException e) {
            throw new BadEventException(change.eventId(), e.getMessage());
        } catch (IllegalArgumentException | ArithmeticException | java.time.DateTimeException e) {
            // a value the converter could not read; its message may quote the value, so it is left out
            throw new BadEventException(change.eventId(), "column " + quoteForMessage(column.name()) + " ("
                    + column.sqlType() + "): the value cannot be read as this type");
        }
        if (text != null && hasLoneSurrogate(text)) {
            // the driver would send it as '?': refuse rather than store something else
            throw new RefusedValueException(change.eventId(), "event " + change.eventId() + ": column "
                    + quoteForMessage(column.name()) + " (" + column.sqlType() + ") of " + Names.forMessage(change.table())
                    + " holds text that is not valid Unicode (a lone UTF-16 surrogate)");
        }
        return text;
    }

    /** PostgreSQL's numeric holds at most 131072 digits before the decimal point and 16383 after. */
    static boolean beyondNumeric(JsonNode json, int depth) {
        if (json.isBigDecimal()) {
            java.math.BigDecimal number = json.decimalValue();
            return number.scale() > 16383 || (long) number.precision() - number.scale() > 131072;
        }
        if (json.isBigInteger()) {
            return json.bigIntegerValue().bitLength() > 435_000; // about 131072 decimal digits
        }
        if ((json.isArray() || json.isObject()) && depth < 100) {
            for (JsonNode element : json) {
                if (beyondNumeric(element, depth + 1)) {
                    return true;
                }
            }
        }
        return false;
    }

    static boolean hasLoneSurrogate(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    private static long millis(RowChange change) {
        return change.sourceTime() == null ? -1 : change.sourceTime().toEpochMilli();
    }

    /** Column names come from events: keep error messages short and printable. */
    private static String quoteForMessage(String name) {
        return '"' + Names.forMessage(name) + '"';
    }
}
