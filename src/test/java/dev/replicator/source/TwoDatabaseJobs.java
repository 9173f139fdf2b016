package dev.replicator.source;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import javax.sql.DataSource;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import dev.replicator.apply.CopySql;
import dev.replicator.apply.CopyWriter;
import dev.replicator.apply.ChangeOutcome;
import dev.replicator.apply.RefreshWriter;
import dev.replicator.apply.SchemaApplier;
import dev.replicator.apply.Sql;
import dev.replicator.apply.TargetSchema;
import dev.replicator.apply.TargetTransactions;
import dev.replicator.apply.TargetWriter;
import dev.replicator.apply.TombstonePruning;
import dev.replicator.convert.ConversionOptions;
import dev.replicator.convert.ValueConverter;
import dev.replicator.decode.FieldValue;
import dev.replicator.decode.Operation;
import dev.replicator.decode.Position;
import dev.replicator.decode.RowChange;
import dev.replicator.decode.TableId;
import dev.replicator.decode.ValueEncoding;
import dev.replicator.observe.ReplicationMetrics;
import dev.replicator.route.SchemaPlanner;
import dev.replicator.route.TableMappings;
import dev.replicator.route.TableRouter;
import dev.replicator.route.TargetCatalog;
import dev.replicator.route.TargetChange;
import dev.replicator.route.TargetTable;
import dev.replicator.source.backfill.Backfill;
import dev.replicator.source.backfill.BackfillCheckpoints;
import dev.replicator.source.rowref.RowRefresher;
import dev.replicator.source.verify.Verifier;
import dev.replicator.testing.TestDatabases;

/**
 * The source-side jobs over a fresh source database and a fresh target database on two PostgreSQL servers, built
 * from plain objects the way {@code wiring/} builds them, without Quarkus. {@link #streamed} plays the change stream:
 * a change routed and written like a decoded Debezium event.
 */
public final class TwoDatabaseJobs {

    public static final String SCHEMA = "replicator";

    public final DataSource source;
    public final DataSource target;
    public final TargetCatalog targetCatalog;
    public final TableRouter router;
    public final Sql sql = new Sql(SCHEMA);
    public final TargetWriter writer;
    public final JobTables tables;
    public final RowReader reader;
    public final ReplicationMetrics metrics = new ReplicationMetrics(new SimpleMeterRegistry());
    public final RowRefresher refresher;

    /**
     * @param database   the name of both databases, dropped and created afresh
     * @param schema     DDL run on both sides
     * @param replicated the source tables listed in the mappings ({@code schema.table}, mapped to their namesakes)
     */
    public TwoDatabaseJobs(String database, String schema, List<String> replicated) {
        this(database, schema, schema, replicated, false);
    }

    /**
     * @param targetSchema DDL run on the target (the source runs {@code schema})
     * @param evolve       {@code replicator.schema.evolution=add}: jobs create the tables and columns the target lacks
     */
    public TwoDatabaseJobs(String database, String schema, String targetSchema, List<String> replicated,
            boolean evolve) {
        source = TestDatabases.freshDatabase(TestDatabases.source(), database);
        target = TestDatabases.freshDatabase(TestDatabases.target(), database);
        TestDatabases.execute(source, schema);
        if (!targetSchema.isBlank()) {
            TestDatabases.execute(target, targetSchema);
        }
        Map<String, Optional<String>> targets = new LinkedHashMap<>();
        replicated.forEach(table -> targets.put(table, Optional.empty()));
        TableMappings mappings = TableMappings.of(targets, Map.of(), false, SCHEMA);
        targetCatalog = new TargetCatalog(target);
        router = new TableRouter(mappings, targetCatalog, new ValueConverter(ConversionOptions.DEFAULTS));
        SchemaPlanner planner = new SchemaPlanner(target, source);
        writer = new TargetWriter(new TargetTransactions(target, new TargetSchema(target, sql, SCHEMA),
                targetCatalog::invalidate), sql, new TombstonePruning(target, sql, Duration.ofDays(7)),
                new SchemaApplier(change -> {
                    targetCatalog.invalidateAll();
                    planner.made(change);
                }));
        tables = new JobTables(mappings, new UpstreamCatalog(new TargetCatalog(source)), targetCatalog, source,
                SCHEMA, evolve ? new SchemaFollower(planner, targetCatalog, writer, source) : null);
        reader = new RowReader(source, router);
        refresher = new RowRefresher(tables, reader, new RefreshWriter(sql, writer), router, metrics);
    }

    public Backfill backfill(Duration budget) {
        return backfill(budget, reader);
    }

    /** A backfill that reads the source through the given reader (one that pauses between read and write, say). */
    public Backfill backfill(Duration budget, RowReader through) {
        return new Backfill(tables, through, new CopyWriter(writer.transactions(), new CopySql(SCHEMA)), checkpoints(),
                metrics, budget);
    }

    public BackfillCheckpoints checkpoints() {
        return new BackfillCheckpoints(target, sql, new TargetSchema(target, sql, SCHEMA));
    }

    public Verifier verifier(Duration budget) {
        return new Verifier(tables, reader, target, refresher, metrics, budget);
    }

    /**
     * A change from the stream, at a position every snapshot read ranks below (commit LSN above 0), with the row's
     * values as PostgreSQL text (null: SQL NULL) in the native format, written through the fenced writer as the
     * pipeline writes it.
     */
    public ChangeOutcome streamed(String table, Operation op, long lsn, Map<String, String> row) {
        return writer.write(List.of(routed(table, op, lsn, row))).get(0);
    }

    /** A change of the row (values as PostgreSQL text) at the position, routed to its target table. */
    private TargetChange routed(String table, Operation op, long lsn, Map<String, String> row) {
        TableId id = TableId.parse(table);
        Map<String, FieldValue> values = new LinkedHashMap<>();
        try {
            TargetTable written = targetCatalog.find(id).orElseThrow();
            row.forEach((name, text) -> values.put(name, RowReader.value(text, written.column(name))));
            return router.route(new RowChange("stream-" + lsn, id, op, new Position(lsn, lsn), values, null, null,
                    ValueEncoding.NATIVE));
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A change pulled from the source's slot, as {@link #streamed} gives it, written as pull writes it: plainly, with
     * no position of its own, unless a backfill of its table is underway.
     */
    public ChangeOutcome pulled(String table, Operation op, long lsn, Map<String, String> row) {
        return writer.writePulled(List.of(routed(table, op, lsn, row))).get(0);
    }

    /** The rows of a query on one side as COPY text. */
    public static String rows(DataSource db, String select) {
        return TestDatabases.copy(db, select);
    }

    /** The first row of a query, column label to text (null: SQL NULL). */
    public static Map<String, String> row(DataSource db, String select) {
        try (Connection connection = db.getConnection(); Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery(select)) {
            if (!rs.next()) {
                throw new IllegalStateException("no row: " + select);
            }
            Map<String, String> row = new LinkedHashMap<>();
            for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                row.put(rs.getMetaData().getColumnLabel(i), rs.getString(i));
            }
            return row;
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }
}
