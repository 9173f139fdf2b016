package dev.replicator.source;

import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.agroal.api.AgroalDataSource;
import io.quarkus.agroal.DataSource;

import dev.replicator.apply.RefreshWriter;
import dev.replicator.apply.Sql;
import dev.replicator.apply.TargetWriter;
import dev.replicator.config.ReplicatorConfig;
import dev.replicator.observe.ReplicationMetrics;
import dev.replicator.route.TableMappings;
import dev.replicator.route.TableRouter;
import dev.replicator.route.TargetCatalog;

/** Builds the source-side parts from the configuration and both datasources. */
public class SourceBeans {

    @Produces
    @Singleton
    SourceTables sourceTables(TableMappings mappings, TargetCatalog targetCatalog,
            @DataSource("source") AgroalDataSource source, ReplicatorConfig config) {
        return new SourceTables(mappings, new SourceCatalog(new TargetCatalog(source)), targetCatalog, source,
                config.ordering().schema());
    }

    @Produces
    @Singleton
    SourceReader sourceReader(@DataSource("source") AgroalDataSource source, TableRouter router) {
        return new SourceReader(source, router);
    }

    @Produces
    @Singleton
    RowRefresher rowRefresher(SourceTables tables, SourceReader reader, @DataSource("target") AgroalDataSource target,
            Sql sql, TargetWriter writer, TableRouter router, ReplicationMetrics metrics) {
        return new RowRefresher(tables, reader, new RefreshWriter(target, sql, writer), router, metrics);
    }

    @Produces
    @Singleton
    Backfill backfill(SourceTables tables, SourceReader reader, TargetWriter writer,
            @DataSource("target") AgroalDataSource target, Sql sql, ReplicationMetrics metrics,
            ReplicatorConfig config) {
        return new Backfill(tables, reader, writer, new BackfillCheckpoints(target, sql, config.ordering().schema()),
                metrics, config.backfill().timeBudget());
    }

    @Produces
    @Singleton
    Verifier verifier(SourceTables tables, SourceReader reader, @DataSource("target") AgroalDataSource target,
            RowRefresher refresher, ReplicationMetrics metrics, ReplicatorConfig config) {
        return new Verifier(tables, reader, target, refresher, metrics, config.verify().timeBudget());
    }

    @Produces
    @Singleton
    SourceJobs sourceJobs(Backfill backfill, Verifier verifier, RowRefresher refresher, ObjectMapper mapper,
            ReplicatorConfig config) {
        return new SourceJobs(backfill, verifier, refresher, mapper, config);
    }
}
