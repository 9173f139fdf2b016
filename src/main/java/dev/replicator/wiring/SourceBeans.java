package dev.replicator.wiring;

import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.agroal.api.AgroalDataSource;
import io.quarkus.agroal.DataSource;

import dev.replicator.apply.CopySql;
import dev.replicator.apply.CopyWriter;
import dev.replicator.apply.RefreshWriter;
import dev.replicator.apply.Sql;
import dev.replicator.apply.TargetSchema;
import dev.replicator.apply.TargetWriter;
import dev.replicator.config.ReplicatorConfig;
import dev.replicator.source.dispatch.JobHistory;
import dev.replicator.observe.ReplicationMetrics;
import dev.replicator.route.SchemaPlanner;
import dev.replicator.route.TableMappings;
import dev.replicator.route.TableRouter;
import dev.replicator.route.TargetCatalog;
import dev.replicator.source.JobTables;
import dev.replicator.source.SchemaFollower;
import dev.replicator.source.RowReader;
import dev.replicator.source.UpstreamCatalog;
import dev.replicator.source.backfill.Backfill;
import dev.replicator.source.backfill.BackfillCheckpoints;
import dev.replicator.source.dispatch.JobDispatch;
import dev.replicator.source.pull.PullJob;
import dev.replicator.source.rowref.RowRefresher;
import dev.replicator.source.sequences.SequenceSync;
import dev.replicator.source.verify.Verifier;

/** Builds the source-side parts from the configuration and both datasources. */
public class SourceBeans {

    @Produces
    @Singleton
    JobTables jobTables(TableMappings mappings, TargetCatalog targetCatalog,
            @DataSource("source") AgroalDataSource source, ReplicatorConfig config, SchemaPlanner planner,
            TargetWriter writer) {
        SchemaFollower follower = config.schema().adds() ? new SchemaFollower(planner, targetCatalog, writer, source)
                : null;
        return new JobTables(mappings, new UpstreamCatalog(new TargetCatalog(source)), targetCatalog, source,
                config.ordering().schema(), follower);
    }

    @Produces
    @Singleton
    RowReader rowReader(@DataSource("source") AgroalDataSource source, TableRouter router) {
        return new RowReader(source, router);
    }

    @Produces
    @Singleton
    RowRefresher rowRefresher(JobTables tables, RowReader reader, Sql sql, TargetWriter writer, TableRouter router,
            ReplicationMetrics metrics) {
        return new RowRefresher(tables, reader, new RefreshWriter(sql, writer), router, metrics);
    }

    @Produces
    @Singleton
    Backfill backfill(JobTables tables, RowReader reader, @DataSource("target") AgroalDataSource target, Sql sql,
            TargetSchema schema, TargetWriter writer, ReplicationMetrics metrics, ReplicatorConfig config) {
        CopyWriter copies = new CopyWriter(writer.transactions(), new CopySql(config.ordering().schema()));
        return new Backfill(tables, reader, copies, new BackfillCheckpoints(target, sql, schema), metrics,
                config.backfill().timeBudget());
    }

    @Produces
    @Singleton
    Verifier verifier(JobTables tables, RowReader reader, @DataSource("target") AgroalDataSource target,
            RowRefresher refresher, ReplicationMetrics metrics, ReplicatorConfig config) {
        return new Verifier(tables, reader, target, refresher, metrics, config.verify().timeBudget());
    }

    @Produces
    @Singleton
    JobDispatch jobDispatch(Backfill backfill, Verifier verifier, RowRefresher refresher, ObjectMapper mapper,
            ReplicatorConfig config, PullJob pull, SequenceSync sequences, JobHistory history) {
        return new JobDispatch(backfill, verifier, refresher, mapper, config, pull, sequences, history);
    }

    @Produces
    @Singleton
    SequenceSync sequenceSync(@DataSource("source") AgroalDataSource source,
            @DataSource("target") AgroalDataSource target, TableMappings mappings, ReplicationMetrics metrics) {
        return new SequenceSync(source, target, mappings, metrics);
    }
}
