package dev.replicator.source;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import javax.sql.DataSource;

import dev.replicator.apply.TargetWriter;
import dev.replicator.decode.TableId;
import dev.replicator.route.SchemaPlanner;
import dev.replicator.route.TableMappings;
import dev.replicator.route.TargetCatalog;
import dev.replicator.route.TargetTable;
import dev.replicator.schema.CatalogShape;

/**
 * With {@code replicator.schema.evolution=add}, gives a backfill, verify or rowref the target table its source table
 * has now: creates it, or adds the columns it lacks, from the source's catalog, in a target transaction of its own
 * before any row is read (these jobs copy rows, not changes, so nothing waits on the addition but them).
 */
public final class SchemaFollower {

    private final SchemaPlanner planner;
    private final TargetCatalog targetCatalog;
    private final TargetWriter writer;
    private final DataSource source;

    public SchemaFollower(SchemaPlanner planner, TargetCatalog targetCatalog, TargetWriter writer, DataSource source) {
        this.planner = planner;
        this.targetCatalog = targetCatalog;
        this.writer = writer;
        this.source = source;
    }

    /** Makes the target table have every column of the source table the mapping writes. */
    void follow(String eventId, TableId sourceId, TableMappings.Mapping mapping, TargetTable sourceTable)
            throws SQLException {
        List<String> columns = new ArrayList<>(sourceTable.columns().keySet());
        columns.removeAll(mapping.excludedColumns());
        targetCatalog.invalidate(mapping.target());
        Optional<TargetTable> target = targetCatalog.find(mapping.target());
        TargetTable plan;
        if (target.isEmpty()) {
            plan = planner.create(eventId, mapping.target(), sourceId, mapping.excludedColumns(), columns,
                    new CatalogShape(source, sourceId));
        } else {
            List<String> missing = columns.stream().filter(name -> target.get().column(name) == null).toList();
            if (missing.isEmpty()) {
                return;
            }
            plan = planner.add(eventId, target.get(), missing, new CatalogShape(source, sourceId));
        }
        writer.makeSchema(plan.pending());
        targetCatalog.invalidate(mapping.target());
    }
}
