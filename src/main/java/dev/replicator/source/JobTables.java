package dev.replicator.source;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

import javax.sql.DataSource;

import org.jboss.logging.Logger;

import dev.replicator.apply.TargetTransactions;
import dev.replicator.decode.BadEventException;
import dev.replicator.decode.TableId;
import dev.replicator.route.Names;
import dev.replicator.route.TableMappings;
import dev.replicator.route.TargetCatalog;
import dev.replicator.convert.TargetColumn;
import dev.replicator.route.TargetTable;

/**
 * Resolves the tables a request names into {@link JobTable}s: each must be replicated (listed in
 * {@code replicator.tables}, or any table under {@code allow-all-tables}), exist in source and target, and have the
 * same primary key on both sides. Names are checked against both catalogs, never trusted.
 */
public class JobTables {

    private static final Logger LOG = Logger.getLogger(JobTables.class);

    /** Source tables that could be replicated under allow-all-tables: ordinary tables outside system schemas. */
    private static final String USER_TABLES_SQL = """
            SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
            ORDER BY 1, 2""";

    private final TableMappings mappings;
    private final UpstreamCatalog sourceCatalog;
    private final TargetCatalog targetCatalog;
    private final DataSource sourceDb;
    private final String ownSchema;
    private final SchemaFollower follower;

    public JobTables(TableMappings mappings, UpstreamCatalog sourceCatalog, TargetCatalog targetCatalog,
            DataSource sourceDb, String ownSchema) {
        this(mappings, sourceCatalog, targetCatalog, sourceDb, ownSchema, null);
    }

    /** @param follower adds what the target lacks ({@code replicator.schema.evolution=add}); null leaves it (400) */
    public JobTables(TableMappings mappings, UpstreamCatalog sourceCatalog, TargetCatalog targetCatalog,
            DataSource sourceDb, String ownSchema, SchemaFollower follower) {
        this.mappings = mappings;
        this.sourceCatalog = sourceCatalog;
        this.targetCatalog = targetCatalog;
        this.sourceDb = sourceDb;
        this.ownSchema = ownSchema;
        this.follower = follower;
    }

    /**
     * The named tables, or every replicated table when {@code names} is empty. A named table that cannot be read
     * and written is a 400; of all tables, those are left out with a warning (a table without a primary key, say,
     * is not replicated anyway), so that one of them does not stop a scheduled verify of the others.
     */
    public List<JobTable> resolve(String eventId, List<String> names) {
        List<JobTable> tables = new ArrayList<>();
        if (!names.isEmpty()) {
            names.forEach(name -> tables.add(resolve(eventId, parse(eventId, name))));
            return tables;
        }
        for (TableId id : allReplicated(eventId)) {
            try {
                tables.add(resolve(eventId, id));
            } catch (BadEventException e) {
                LOG.warnf("event %s: table %s left out: %s", eventId, id, e.getMessage());
            }
        }
        return tables;
    }

    public JobTable resolve(String eventId, TableId id) {
        TableMappings.Mapping mapping = mappings.resolve(eventId, id);
        TargetTable source;
        try {
            source = sourceCatalog.find(id).orElseThrow(() -> new BadEventException(eventId,
                    "source table " + id + " does not exist"));
        } catch (SQLException e) {
            throw RowReader.unavailable(eventId, e);
        }
        try {
            if (follower != null) {
                follower.follow(eventId, id, mapping, source);
            }
            targetCatalog.invalidate(mapping.target());
            TargetTable target = targetCatalog.find(mapping.target()).orElseThrow(() -> new BadEventException(
                    eventId, "target table " + mapping.target() + " does not exist (source table " + id + ")"));
            if (source.primaryKey().isEmpty() || !source.primaryKey().equals(target.primaryKey())) {
                throw new BadEventException(eventId, "table " + id + " needs the same primary key in source "
                        + source.primaryKey() + " and target " + target.primaryKey());
            }
            List<String> columns = new ArrayList<>();
            for (TargetColumn column : source.columns().values()) {
                String name = column.name();
                if (mapping.excludedColumns().contains(name)) {
                    if (source.primaryKey().contains(name)) {
                        throw new BadEventException(eventId, "key column " + name + " of " + id
                                + " is excluded by replicator.tables");
                    }
                    continue;
                }
                TargetColumn written = target.column(name);
                if (written == null) {
                    throw new BadEventException(eventId, "column \"" + name + "\" of source table " + id
                            + " does not exist in target table " + target.id());
                }
                if (written.generated() && source.primaryKey().contains(name)) {
                    throw new BadEventException(eventId, "key column " + name + " of " + target.id()
                            + " is generated by the target, so rows cannot be copied by key");
                }
                if (!written.generated()) {
                    columns.add(name);
                }
            }
            TargetTable writtenTable = withColumns(target, columns);
            return new JobTable(id, new KeyedTable(id, source.keyColumns(), columns),
                    new KeyedTable(target.id(), target.keyColumns(), columns), writtenTable);
        } catch (SQLException e) {
            throw unavailable(eventId, e);
        }
    }

    /** Configured tables, and under allow-all-tables every source table that has a namesake in the target. */
    private List<TableId> allReplicated(String eventId) {
        TreeSet<String> names = new TreeSet<>();
        mappings.configured().keySet().forEach(id -> names.add(id.toString()));
        if (mappings.allowAllTables()) {
            List<TableId> candidates = new ArrayList<>();
            try (Connection connection = sourceDb.getConnection();
                    PreparedStatement statement = connection.prepareStatement(USER_TABLES_SQL);
                    ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    if (!rs.getString(1).equals(ownSchema)) {
                        candidates.add(new TableId(rs.getString(1), rs.getString(2)));
                    }
                }
            } catch (SQLException e) {
                throw RowReader.unavailable(eventId, e);
            }
            try {
                // with schema evolution, tables the target lacks are created by the job
                List<TableId> missing = follower != null ? List.of() : targetCatalog.missing(candidates);
                candidates.stream().filter(c -> !missing.contains(c)).forEach(c -> names.add(c.toString()));
            } catch (SQLException e) {
                throw unavailable(eventId, e);
            }
        }
        if (names.isEmpty()) {
            throw new BadEventException(eventId, "no table is replicated");
        }
        return names.stream().map(TableId::parse).toList();
    }

    private static TargetTable withColumns(TargetTable target, List<String> columns) {
        java.util.Map<String, TargetColumn> kept = new java.util.LinkedHashMap<>();
        target.columns().forEach((name, column) -> {
            if (columns.contains(name) || column.generated()) {
                kept.put(name, column);
            }
        });
        return new TargetTable(target.id(), kept, target.primaryKey(), target.identityAlways());
    }

    public static TableId parse(String eventId, String name) {
        if (name == null || name.isBlank() || name.chars().filter(c -> c == '.').count() > 1) {
            throw new BadEventException(eventId, "table names must be schema.table, got '"
                    + (name == null ? "null" : Names.forMessage(name)) + "'");
        }
        try {
            return TableId.parse(name);
        } catch (IllegalArgumentException e) {
            throw new BadEventException(eventId, "table names must be schema.table, got '" + Names.forMessage(name)
                    + "'");
        }
    }

    static RuntimeException unavailable(String eventId, SQLException e) {
        return TargetTransactions.answer(eventId, "target", "reading its catalog", e);
    }

    static String shorten(String text) {
        return text == null ? "null" : text.length() > 100 ? text.substring(0, 100) + "..." : text;
    }
}
