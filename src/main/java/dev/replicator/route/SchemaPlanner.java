package dev.replicator.route;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import javax.sql.DataSource;

import dev.replicator.convert.TargetColumn;
import dev.replicator.decode.RowChange;
import dev.replicator.decode.TableId;
import dev.replicator.schema.CatalogShape;
import dev.replicator.schema.ColumnSpec;
import dev.replicator.schema.EventShape;
import dev.replicator.schema.SchemaChange;
import dev.replicator.schema.SourceShape;
import dev.replicator.schema.TypeWidth;

/**
 * With {@code replicator.schema.evolution=add}: the target table a change needs when the target lacks the table or
 * some of its columns, with the additions pending in it ({@link TargetTable#pending()}) for the transaction that
 * writes the change to make. Types are worked out here, before any write: a probe makes the columns in a temporary
 * table of a rolled-back transaction and reads them back as the target's catalog describes them, so a change is
 * routed exactly as it will be once the additions exist, and a type the target cannot make is refused (422) before
 * anything is written. A plan is kept until its additions are committed, so the changes routed meanwhile share it.
 */
public class SchemaPlanner {

    private static final String PROBE = "replicator_schema_probe";

    private final DataSource target;
    private final DataSource source;
    private final Map<TableId, TargetTable> planned = new ConcurrentHashMap<>();

    /** @param source the source database, for events without a schema and what Debezium does not send; may be null */
    public SchemaPlanner(DataSource target, DataSource source) {
        this.target = target;
        this.source = source;
    }

    /** Where a pushed change's shape comes from: its Debezium schema when it has one, else the source's catalog. */
    public SourceShape shapeOf(RowChange change) {
        CatalogShape catalog = source == null ? null : new CatalogShape(source, change.table());
        boolean schemas = change.row().values().stream().anyMatch(v -> v.schema() != null);
        if (schemas) {
            return new EventShape(change.row(), catalog);
        }
        return catalog;
    }

    /** The table a change of a table the target lacks is written to: created with the source's columns and key. */
    public TargetTable create(String eventId, TableId table, TableId sourceTable, Set<String> excluded,
            Collection<String> needed, SourceShape shape) throws SQLException {
        TargetTable known = planned.get(table);
        if (known != null && known.columns().keySet().containsAll(needed)) {
            return known;
        }
        if (shape == null) {
            throw refused(eventId, "target table " + Names.forMessage(table) + " does not exist, and without a "
                    + "source database its columns cannot be known");
        }
        List<ColumnSpec> columns = new ArrayList<>();
        for (ColumnSpec column : shape.columns()) {
            if (!excluded.contains(column.name())) {
                columns.add(column);
            }
        }
        List<String> key = shape.key();
        if (columns.isEmpty()) {
            throw refused(eventId, "target table " + Names.forMessage(table) + " does not exist, and "
                    + shape.origin() + " does not give the columns of " + Names.forMessage(sourceTable));
        }
        if (key.isEmpty()) {
            throw refused(eventId, "target table " + Names.forMessage(table) + " does not exist, and source table "
                    + Names.forMessage(sourceTable) + " has no primary key to create it with");
        }
        for (String name : key) {
            if (columns.stream().noneMatch(c -> c.name().equals(name))) {
                throw refused(eventId, "target table " + Names.forMessage(table) + " cannot be created: key column "
                        + quoted(name) + " is excluded or unknown");
            }
        }
        List<SchemaChange> pending = new ArrayList<>(typesOf(columns));
        pending.add(new SchemaChange.CreateTable(table, columns, key));
        Map<String, TargetColumn> probed = probe(eventId, "create table " + Names.forMessage(table), columns,
                pending);
        TargetTable plan = new TargetTable(table, probed, key, false, pending);
        planned.put(table, plan);
        return plan;
    }

    /** The table with the columns a change needs and the target lacks added, nullable. */
    public TargetTable add(String eventId, TargetTable current, Collection<String> missing, SourceShape shape)
            throws SQLException {
        TargetTable base = planned.getOrDefault(current.id(), current);
        List<String> still = missing.stream().filter(name -> base.column(name) == null).toList();
        if (still.isEmpty()) {
            return base;
        }
        List<ColumnSpec> columns = new ArrayList<>();
        for (String name : still) {
            ColumnSpec column = shape == null ? null : shape.column(name);
            if (column == null) {
                throw new dev.replicator.decode.BadEventException(eventId, "column " + quoted(name)
                        + " does not exist in target table " + current.id() + ", and "
                        + (shape == null ? "without a source database" : shape.origin())
                        + " does not give its type");
            }
            columns.add(column);
        }
        List<SchemaChange> pending = new ArrayList<>(base.pending());
        for (SchemaChange type : typesOf(columns)) {
            if (!pending.contains(type)) {
                pending.add(type);
            }
        }
        for (ColumnSpec column : columns) {
            pending.add(new SchemaChange.AddColumn(current.id(), column));
        }
        Map<String, TargetColumn> all = new LinkedHashMap<>(base.columns());
        all.putAll(probe(eventId, "add " + columns.size() + " column(s) to " + Names.forMessage(current.id()),
                columns, pending));
        TargetTable plan = new TargetTable(current.id(), all, base.primaryKey(), base.identityAlways(), pending);
        planned.put(current.id(), plan);
        return plan;
    }

    /**
     * Whether the target's columns can take what the source's columns now are: the same type or a wider one. A column
     * whose type the source changed to one the target cannot take is refused (422), naming it; nothing is narrowed.
     *
     * @param sourceTypes column name to the source's type as {@code format_type} prints it
     */
    public void checkTypes(String eventId, TargetTable table, Map<String, String> sourceTypes) {
        for (Map.Entry<String, String> entry : sourceTypes.entrySet()) {
            TargetColumn column = table.column(entry.getKey());
            if (column != null && !column.generated() && !TypeWidth.takes(column.sqlType(), entry.getValue())) {
                throw refused(eventId, "column " + quoted(entry.getKey()) + " of " + table.id() + " is "
                        + column.sqlType() + " in the target, and its source column is now " + entry.getValue()
                        + ", which the target's type cannot hold; replicator never narrows or converts a column: "
                        + "change the target column by hand, then pull again");
            }
        }
    }

    /** The plan for a table whose additions are not yet known to be committed, or null. */
    public TargetTable planned(TableId table) {
        return planned.get(table);
    }

    /** An addition is committed: the target's catalog has it now, so the plan is no longer needed. */
    public void made(SchemaChange change) {
        if (change.table() != null) {
            planned.remove(change.table());
        }
    }

    /** The types the target would need for the columns, without repeats, innermost first. */
    private static List<SchemaChange> typesOf(List<ColumnSpec> columns) {
        List<SchemaChange> types = new ArrayList<>();
        for (ColumnSpec column : columns) {
            for (SchemaChange.CreateType type : column.needs()) {
                if (!types.contains(type)) {
                    types.add(type);
                }
            }
        }
        return types;
    }

    /**
     * The columns as the target's catalog would describe them: made, with the types they need, in a temporary table of
     * a transaction that is rolled back. Nothing of the real table is touched or locked.
     */
    private Map<String, TargetColumn> probe(String eventId, String what, List<ColumnSpec> columns,
            List<SchemaChange> pending) throws SQLException {
        List<String> definitions = new ArrayList<>();
        for (ColumnSpec column : columns) {
            definitions.add(TableId.quote(column.name()) + " " + column.sqlType());
        }
        try (Connection connection = target.getConnection()) {
            boolean autoCommit = connection.getAutoCommit();
            connection.setAutoCommit(false);
            try (Statement statement = connection.createStatement()) {
                for (SchemaChange change : pending) {
                    if (change instanceof SchemaChange.CreateType type && !type.done(connection)) {
                        for (String ddl : type.statements()) {
                            statement.execute(ddl);
                        }
                    }
                }
                statement.execute("CREATE TEMPORARY TABLE " + PROBE + " (" + String.join(", ", definitions) + ")");
                return TargetCatalog.load(connection, new TableId("pg_temp", PROBE)).orElseThrow().columns();
            } catch (SQLException e) {
                if (transient_(e)) {
                    throw e;
                }
                throw refused(eventId, "cannot " + what + " in the target: " + e.getMessage());
            } finally {
                connection.rollback();
                connection.setAutoCommit(autoCommit);
            }
        }
    }

    /** A lost connection or an overloaded server: answered as the catalog being unreadable (503), not refused. */
    private static boolean transient_(SQLException e) {
        String state = e.getSQLState();
        return state == null || state.startsWith("08") || state.startsWith("53") || state.startsWith("57")
                || state.startsWith("40");
    }

    private static RefusedSchemaChangeException refused(String eventId, String problem) {
        return new RefusedSchemaChangeException(eventId, problem);
    }

    private static String quoted(String name) {
        return '"' + Names.forMessage(name) + '"';
    }
}
