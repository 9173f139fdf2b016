package dev.replicator.source.pull;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;

import javax.sql.DataSource;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import dev.replicator.apply.SchemaApplier;
import dev.replicator.apply.Sql;
import dev.replicator.apply.TargetSchema;
import dev.replicator.apply.TargetTransactions;
import dev.replicator.apply.TombstonePruning;
import dev.replicator.apply.TargetWriter;
import dev.replicator.convert.ConversionOptions;
import dev.replicator.convert.ValueConverter;
import dev.replicator.observe.ReplicationMetrics;
import dev.replicator.route.SchemaPlanner;
import dev.replicator.route.TableMappings;
import dev.replicator.route.TableRouter;
import dev.replicator.route.TargetCatalog;
import dev.replicator.testing.LogicalSource;
import dev.replicator.testing.TestDatabases;

/** A source database on a logical-WAL server, a target database, and a pull job wired between them as in the app. */
final class PullHarness {

    final DataSource source;
    final DataSource target;
    final SlotSettings settings;
    final TargetCatalog catalog;
    final TableRouter router;
    final TargetWriter writer;
    final ReplicationMetrics metrics = new ReplicationMetrics(new SimpleMeterRegistry());

    PullHarness(String name) {
        this(name, LogicalSource.server(), TestDatabases.target(), 100_000, 5000);
    }

    PullHarness(String name, EmbeddedPostgres sourceServer, EmbeddedPostgres targetServer, int peekChanges,
            int groupChanges) {
        this(name, sourceServer, targetServer, peekChanges, groupChanges, false, true);
    }

    /**
     * @param evolve {@code replicator.schema.evolution=add}: tables and columns the target lacks are added
     * @param stream {@code replicator.pull.read=stream}; false: peek
     */
    PullHarness(String name, EmbeddedPostgres sourceServer, EmbeddedPostgres targetServer, int peekChanges,
            int groupChanges, boolean evolve, boolean stream) {
        dropSlotsOf(sourceServer, name);
        this.source = TestDatabases.freshDatabase(sourceServer, name);
        this.target = TestDatabases.freshDatabase(targetServer, name);
        this.settings = new SlotSettings(name, "pub_" + name, true, peekChanges, groupChanges, stream);
        this.catalog = new TargetCatalog(target);
        SchemaPlanner planner = new SchemaPlanner(target, source);
        this.router = new TableRouter(new TableMappings(Map.of(), true), catalog,
                new ValueConverter(ConversionOptions.DEFAULTS), evolve ? planner : null);
        Sql sql = new Sql("replicator");
        this.writer = new TargetWriter(new TargetTransactions(target, new TargetSchema(target, sql, "replicator"),
                catalog::invalidate), sql, new TombstonePruning(target, sql, Duration.ofDays(7)),
                new SchemaApplier(change -> {
                    metrics.schemaChanged(change.kind(), change.object());
                    catalog.invalidateAll();
                    planner.made(change);
                }));
    }

    /** A harness whose pulls add the tables and columns the target lacks. */
    static PullHarness evolving(String name) {
        return new PullHarness(name, LogicalSource.server(), TestDatabases.target(), 100_000, 5000, true, true);
    }

    PullJob job() {
        return job(new LogicalSlot(source, settings));
    }

    PullJob job(LogicalSlot slot) {
        return job(slot, writer, true);
    }

    PullJob job(LogicalSlot slot, TargetWriter writer, boolean applyTruncate) {
        return new PullJob(slot, settings, router, writer, target, metrics, Duration.ofSeconds(60), applyTruncate);
    }

    PullReport pull() {
        return job().run("test-pull", PullRequest.DRAIN);
    }

    /** Creates the publication and the slot, as the first pull with create=true does. */
    void createSlot() throws SQLException {
        new LogicalSlot(source, settings).ensure("test");
    }

    void both(String sql) {
        TestDatabases.execute(source, sql);
        TestDatabases.execute(target, sql);
    }

    long confirmedLsn() throws SQLException {
        return new LogicalSlot(source, settings).standing().confirmedLsn();
    }

    /** Slots keep their database from being dropped: remove those of an earlier run first. */
    private static void dropSlotsOf(EmbeddedPostgres server, String database) {
        try (Connection connection = server.getPostgresDatabase().getConnection();
                PreparedStatement drop = connection.prepareStatement("SELECT pg_drop_replication_slot(slot_name)"
                        + " FROM pg_replication_slots WHERE database = ? OR slot_name LIKE ?")) {
            drop.setString(1, database);
            drop.setString(2, database + "%");
            drop.execute();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    static long count(DataSource ds, String sql) {
        try (Connection connection = ds.getConnection(); Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
