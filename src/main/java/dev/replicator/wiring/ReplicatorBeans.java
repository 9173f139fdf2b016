package dev.replicator.wiring;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import io.agroal.api.AgroalDataSource;
import io.quarkus.agroal.DataSource;

import org.jboss.logging.Logger;

import dev.replicator.apply.GroupCommit;
import dev.replicator.apply.SchemaApplier;
import dev.replicator.apply.RejectedEvents;
import dev.replicator.apply.Sql;
import dev.replicator.apply.TargetSchema;
import dev.replicator.apply.TargetTransactions;
import dev.replicator.apply.TargetWriter;
import dev.replicator.apply.TombstonePruning;
import dev.replicator.config.ReplicatorConfig;
import dev.replicator.convert.ValueConverter;
import dev.replicator.observe.ReplicationMetrics;
import dev.replicator.route.SchemaPlanner;
import dev.replicator.route.TableMappings;
import dev.replicator.route.TableRouter;
import dev.replicator.route.TargetCatalog;
import dev.replicator.schema.SchemaChange;

/** Builds the plain-Java parts of the pipeline from the configuration and the target datasource. */
public class ReplicatorBeans {

    private static final Logger SCHEMA_LOG = Logger.getLogger("dev.replicator.schema");

    @Produces
    @Singleton
    TableMappings tableMappings(ReplicatorConfig config) {
        Map<String, Optional<String>> targets = new HashMap<>();
        Map<String, List<String>> excluded = new HashMap<>();
        config.tables().forEach((source, mapping) -> {
            targets.put(source, mapping.target());
            excluded.put(source, mapping.excludeColumns().orElse(List.of()));
        });
        return TableMappings.of(targets, excluded, config.allowAllTables(), config.ordering().schema());
    }

    @Produces
    @Singleton
    TargetCatalog targetCatalog(@DataSource("target") AgroalDataSource target) {
        return new TargetCatalog(target);
    }

    @Produces
    @Singleton
    ValueConverter valueConverter(ReplicatorConfig config) {
        return new ValueConverter(config.debezium().conversionOptions());
    }

    @Produces
    @Singleton
    TableRouter tableRouter(TableMappings mappings, TargetCatalog catalog, ValueConverter converter,
            SchemaPlanner planner, ReplicatorConfig config) {
        return new TableRouter(mappings, catalog, converter, config.schema().adds() ? planner : null);
    }

    @Produces
    @Singleton
    SchemaPlanner schemaPlanner(@DataSource("target") AgroalDataSource target,
            @DataSource("source") AgroalDataSource source) {
        return new SchemaPlanner(target, source);
    }

    @Produces
    @Singleton
    Sql sql(ReplicatorConfig config) {
        return new Sql(config.ordering().schema());
    }

    @Produces
    @Singleton
    TargetSchema targetSchema(@DataSource("target") AgroalDataSource target, Sql sql, ReplicatorConfig config) {
        return new TargetSchema(target, sql, config.ordering().schema());
    }

    @Produces
    @Singleton
    RejectedEvents rejectedEvents(@DataSource("target") AgroalDataSource target, Sql sql, TargetSchema schema) {
        return new RejectedEvents(target, sql, schema);
    }

    @Produces
    @Singleton
    TargetWriter targetWriter(@DataSource("target") AgroalDataSource target, Sql sql, TargetSchema schema,
            TargetCatalog catalog, ReplicatorConfig config, SchemaPlanner planner, ReplicationMetrics metrics) {
        java.util.function.Consumer<SchemaChange> settled = change -> {
            if (change.table() != null) {
                catalog.invalidate(change.table());
            }
            planner.made(change);
        };
        SchemaApplier additions = new SchemaApplier(change -> {
            // names only, never a value
            SCHEMA_LOG.infof("%s", change.describe());
            metrics.schemaChanged(change.kind(), change.object());
            settled.accept(change);
        }, settled);
        return new TargetWriter(new TargetTransactions(target, schema, catalog::invalidate), sql,
                new TombstonePruning(target, sql, config.ordering().tombstoneRetention()), additions);
    }

    @Produces
    @Singleton
    GroupCommit groupCommit(TargetWriter writer, ReplicatorConfig config, ReplicationMetrics metrics) {
        ReplicatorConfig.GroupCommit settings = config.groupCommit();
        GroupCommit groupCommit = new GroupCommit(writer, new GroupCommit.Settings(settings.writers(),
                settings.maxChanges(), settings.maxWait(), settings.maxWaitCpuBound(), settings.maxChangesInFlight()),
                metrics.groupListener());
        metrics.inFlight(groupCommit::inFlight);
        metrics.cpuWait(groupCommit::cpuWaitShare);
        return groupCommit;
    }

    void closeGroupCommit(@Disposes GroupCommit groupCommit) {
        groupCommit.close();
    }
}
