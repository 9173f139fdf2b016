package dev.replicator.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import io.agroal.api.AgroalDataSource;
import io.agroal.api.configuration.supplier.AgroalDataSourceConfigurationSupplier;
import io.agroal.api.security.NamePrincipal;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import dev.replicator.apply.Sql;
import dev.replicator.apply.TargetSchema;
import dev.replicator.apply.TargetWriter;
import dev.replicator.convert.ConversionOptions;
import dev.replicator.convert.ValueConverter;
import dev.replicator.observe.ReplicationMetrics;
import dev.replicator.route.TableMappings;
import dev.replicator.route.TableRouter;
import dev.replicator.route.TargetCatalog;
import dev.replicator.source.pull.LogicalSlot;
import dev.replicator.source.pull.PullJob;
import dev.replicator.source.pull.PullReport;
import dev.replicator.source.pull.PullRequest;
import dev.replicator.source.pull.SlotSettings;
import dev.replicator.testing.LogicalSource;
import dev.replicator.testing.PackagedApp;
import dev.replicator.testing.TestDatabases;

/**
 * PostgreSQL's own logical replication (publication/subscription) against replicator's pull, on the same committed
 * workload between two embedded PostgreSQL servers: {@code bench.rows} rows inserted, all updated, 10% deleted, in
 * transactions of {@code bench.tx} rows, then a marker row. Each path starts once the workload is committed and is
 * timed until the marker lands; then the target must equal the source. Pull is driven through the wired classes
 * (PullJob, as the function calls it), not over HTTP. Prints changes/s; not a timed test.
 * <p>
 * {@code ./mvnw -B -ntp -o verify -Dbench -Dit.test=PullBenchmarkIT -Dtest=NoSuchTest
 * -Dsurefire.failIfNoSpecifiedTests=false} ({@code -Dbench.rows=100000 -Dbench.tx=1000} by default: 210,000 changes;
 * {@code -Dbench.open-tx} holds a writing transaction open on the source meanwhile). It also prints how much
 * replicator's own tables grew.
 */
@EnabledIfSystemProperty(named = "bench", matches = ".*")
class PullBenchmarkIT {

    static final int ROWS = Integer.getInteger("bench.rows", 100_000);
    static final int TX = Integer.getInteger("bench.tx", 1000);
    /** Rounds of both paths; the ratio is the last one's, when the pull's code is compiled as a running JVM has it. */
    static final int ROUNDS = Integer.getInteger("bench.rounds", 3);
    /** Hold a writing transaction open on the source while the workload commits, from after the slot exists. */
    static final boolean OPEN_TX = Boolean.getBoolean("bench.open-tx");
    static final String TABLE = "CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, qty int,"
            + " price numeric(12,2), note text, updated timestamptz);"
            + " CREATE TABLE marker (id int PRIMARY KEY, at timestamptz); CREATE TABLE held (id int PRIMARY KEY)";

    /**
     * Both paths {@code bench.rounds} times (3), alternating on fresh databases: the first round shows pull in a JVM that
     * has not compiled it yet (as the first pull after a cold start); the JIT still compiles the pull's code during the
     * second; the last is the steady state of a function that keeps running, which the ratio is taken from.
     */
    @Test
    void pullAgainstPostgresLogicalReplication() throws Exception {
        long changes = ROWS * 2L + ROWS / 10 + 1;
        StringBuilder table = new StringBuilder("| round | path | changes | seconds | changes/s |\n"
                + "| --- | --- | --- | --- | --- |\n");
        double ratio = 0;
        for (int round = 1; round <= ROUNDS; round++) {
            double nativeSeconds = subscription();
            Pulled pulled = pull();
            assertEquals(changes, pulled.read(), "every change read once");
            table.append(String.format("| %d | PostgreSQL logical replication (subscription) | %,d | %.2f | %,.0f |%n",
                    round, changes, nativeSeconds, changes / nativeSeconds));
            table.append(String.format("| %d | replicator pull (%d pulls, peek %d, group %d) | %,d | %.2f | %,.0f |%n",
                    round, pulled.pulls(), PEEK, GROUP, changes, pulled.seconds(), changes / pulled.seconds()));
            System.out.printf("round %d: replicator's own tables grew by %,d bytes (%,.0f per million changes),"
                    + " %,d row positions left%n", round, pulled.ownBytes(), pulled.ownBytes() * 1e6 / changes,
                    pulled.rowPositions());
            ratio = nativeSeconds / pulled.seconds();
        }
        System.out.printf("%n%s%npull / PostgreSQL, round %d: %.0f%%%s%n%n", table, ROUNDS, 100 * ratio,
                OPEN_TX ? " (a writing transaction held open on the source throughout)" : "");
    }

    /**
     * The first pull of a fresh JVM: the packaged app started as a pod scaled from zero starts it, then one POST /pull
     * drains the committed workload. {@code -Dbench.java-options=-XX:AOTCache=app.aot} runs it with an AOT cache
     * in target/quarkus-app, trained on pulls as the JVM image trains it ({@code src/main/docker/train-aot.sh}, JDK 25).
     * Compared with PostgreSQL's subscription on the same workload, measured just before.
     */
    @Test
    void firstPullOfAFreshPackagedJvm() throws Exception {
        long changes = ROWS * 2L + ROWS / 10 + 1;
        double nativeSeconds = subscription();
        EmbeddedPostgres sourceServer = LogicalSource.server();
        EmbeddedPostgres targetServer = TestDatabases.target();
        DataSource source = fresh(sourceServer, "bench_cold_src");
        DataSource target = TestDatabases.freshDatabase(targetServer, "bench_cold_dst");
        TestDatabases.execute(source, TABLE);
        TestDatabases.execute(target, TABLE);
        new LogicalSlot(source, new SlotSettings("bench_cold", "bench_cold_pub", true, PEEK, GROUP)).ensure("bench");
        workload(source);
        String options = System.getProperty("bench.java-options", "");
        int port = PackagedApp.freePort();
        Map<String, String> properties = Map.ofEntries(Map.entry("quarkus.http.port", Integer.toString(port)),
                Map.entry("quarkus.datasource.source.jdbc.url", TestDatabases.jdbcUrl(sourceServer, "bench_cold_src")),
                Map.entry("quarkus.datasource.source.username", "postgres"),
                Map.entry("quarkus.datasource.target.jdbc.url", TestDatabases.jdbcUrl(targetServer, "bench_cold_dst")),
                Map.entry("quarkus.datasource.target.username", "postgres"),
                Map.entry("replicator.allow-all-tables", "true"), Map.entry("replicator.pull.slot", "bench_cold"),
                Map.entry("replicator.pull.publication", "bench_cold_pub"),
                Map.entry("replicator.pull.time-budget", "PT240S"), Map.entry("quarkus.log.level", "WARN"));
        HttpClient client = HttpClient.newHttpClient();
        long started = System.nanoTime();
        double readySeconds;
        double pullSeconds;
        int pulls = 0;
        Path log = Path.of("target/bench-cold-pull.log");
        List<String> jvmOptions = options.isBlank() ? List.of() : List.of(options.trim().split("\\s+"));
        try (PackagedApp app = PackagedApp.start(jvmOptions, properties, Map.of(), log)) {
            while (get(client, port, "/q/health/ready") != 200) {
                if (!app.isAlive()) {
                    throw new IllegalStateException("the app stopped, see " + log);
                }
                Thread.sleep(5);
                if (System.nanoTime() - started > 60_000_000_000L) {
                    throw new IllegalStateException("not ready within 60 s, see " + log);
                }
            }
            long start = System.nanoTime();
            readySeconds = (start - started) / 1e9;
            String answer;
            do {
                answer = post(client, port, "/pull", "{}");
                pulls++;
            } while (!answer.contains("\"done\":true"));
            waitForMarker(target);
            pullSeconds = (System.nanoTime() - start) / 1e9;
        }
        assertSame(source, target);
        System.out.printf("%n| path | changes | seconds | changes/s |%n| --- | --- | --- | --- |%n"
                + "| PostgreSQL logical replication (subscription) | %,d | %.2f | %,.0f |%n"
                + "| first pull of a fresh packaged JVM (%d POST /pull, ready after %.2f s; JVM options '%s', %s) | %,d"
                + " | %.2f | %,.0f |%n%nfirst pull / PostgreSQL: %.0f%%%n%n", changes, nativeSeconds,
                changes / nativeSeconds, pulls, readySeconds, options, Runtime.version(), changes, pullSeconds,
                changes / pullSeconds, 100 * nativeSeconds / pullSeconds);
    }

    private static int get(HttpClient client, int port, String path) {
        try {
            return client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static String post(HttpClient client, int port, String path, String body) throws Exception {
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port
                + path)).header("Content-Type", "application/json").timeout(Duration.ofMinutes(15))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return response.body();
    }

    static final int PEEK = Integer.getInteger("bench.peek", 100_000);
    static final int GROUP = Integer.getInteger("bench.group", 5000);

    record Pulled(int pulls, long read, double seconds, long ownBytes, long rowPositions) {
    }

    /** PostgreSQL's own: a disabled subscription holds its slot while the workload commits; seconds to the marker. */
    private static double subscription() throws Exception {
        EmbeddedPostgres sourceServer = LogicalSource.server();
        EmbeddedPostgres targetServer = TestDatabases.target();
        DataSource source = fresh(sourceServer, "bench_native_src");
        DataSource subscriber = TestDatabases.freshDatabase(targetServer, "bench_native_dst");
        TestDatabases.execute(source, TABLE + "; CREATE PUBLICATION bench_pub FOR ALL TABLES");
        TestDatabases.execute(subscriber, TABLE);
        TestDatabases.execute(subscriber, "CREATE SUBSCRIPTION bench_sub CONNECTION 'host=localhost port="
                + sourceServer.getPort() + " dbname=bench_native_src user=postgres' PUBLICATION bench_pub"
                + " WITH (copy_data = false, enabled = false, slot_name = 'bench_sub')");
        double seconds;
        try (AutoCloseable held = holdOpen(source)) {
            workload(source);
            long start = System.nanoTime();
            TestDatabases.execute(subscriber, "ALTER SUBSCRIPTION bench_sub ENABLE");
            waitForMarker(subscriber);
            seconds = (System.nanoTime() - start) / 1e9;
        }
        assertSame(source, subscriber);
        TestDatabases.execute(subscriber, "ALTER SUBSCRIPTION bench_sub DISABLE");
        TestDatabases.execute(subscriber, "ALTER SUBSCRIPTION bench_sub SET (slot_name = NONE)");
        TestDatabases.execute(subscriber, "DROP SUBSCRIPTION bench_sub");
        return seconds;
    }

    /**
     * Replicator's pull: its slot is created before the workload, then one pull after another until done; through
     * connection pools, as the app's datasources are.
     */
    private static Pulled pull() throws Exception {
        EmbeddedPostgres sourceServer = LogicalSource.server();
        EmbeddedPostgres targetServer = TestDatabases.target();
        fresh(sourceServer, "bench_pull_src");
        TestDatabases.freshDatabase(targetServer, "bench_pull_dst");
        try (AgroalDataSource pullSource = pooled(sourceServer, "bench_pull_src");
                AgroalDataSource target = pooled(targetServer, "bench_pull_dst")) {
            TestDatabases.execute(pullSource, TABLE);
            TestDatabases.execute(target, TABLE);
            SlotSettings settings = new SlotSettings("bench_pull", "bench_pull_pub", true, PEEK, GROUP);
            PullJob job = pullJob(pullSource, target, settings);
            new LogicalSlot(pullSource, settings).ensure("bench");
            new TargetSchema(target, new Sql("replicator"), "replicator").ensure();
            long ownBefore = ownBytes(target);
            int pulls = 0;
            long read = 0;
            double seconds;
            try (AutoCloseable held = holdOpen(pullSource)) {
                workload(pullSource);
                long start = System.nanoTime();
                PullReport report;
                do {
                    report = job.run("bench-" + pulls++, PullRequest.DRAIN);
                    read += report.applied() + report.stale() + report.superseded();
                } while (!report.done());
                waitForMarker(target);
                seconds = (System.nanoTime() - start) / 1e9;
            }
            assertSame(pullSource, target);
            return new Pulled(pulls, read, seconds, ownBytes(target) - ownBefore,
                    Long.parseLong(TestDatabases.copy(target, "SELECT count(*) FROM replicator.row_position").trim()));
        }
    }

    /**
     * A pool like the app's (Agroal, as Quarkus configures it), so that connections are reused between writes, and
     * with the SQL the app runs on every new target connection ({@code new-connection-sql}).
     */
    private static AgroalDataSource pooled(EmbeddedPostgres server, String database) throws SQLException {
        return AgroalDataSource.from(new AgroalDataSourceConfigurationSupplier()
                .connectionPoolConfiguration(pool -> pool.maxSize(8)
                        .connectionFactoryConfiguration(factory -> factory
                                .jdbcUrl(TestDatabases.jdbcUrl(server, database))
                                .initialSql("SET plan_cache_mode = force_generic_plan")
                                .principal(new NamePrincipal("postgres")))));
    }

    private static PullJob pullJob(DataSource source, DataSource target, SlotSettings settings) {
        TargetCatalog catalog = new TargetCatalog(target);
        TableRouter router = new TableRouter(new TableMappings(Map.of(), true), catalog,
                new ValueConverter(ConversionOptions.DEFAULTS));
        TargetWriter writer = new TargetWriter(target, new Sql("replicator"), "replicator", catalog::invalidate);
        return new PullJob(new LogicalSlot(source, settings), settings, router, writer, target,
                new ReplicationMetrics(new SimpleMeterRegistry()), Duration.ofSeconds(240), true);
    }

    /** Rows inserted, all updated, 10% deleted, in transactions of TX rows; the marker last. */
    private static void workload(DataSource source) {
        for (int from = 1; from <= ROWS; from += TX) {
            TestDatabases.execute(source, "INSERT INTO items SELECT g, 'item ' || g, g % 100, g * 0.25,"
                    + " md5(g::text), now() FROM generate_series(" + from + ", " + Math.min(ROWS, from + TX - 1) + ") g");
        }
        for (int from = 1; from <= ROWS; from += TX) {
            TestDatabases.execute(source, "UPDATE items SET qty = qty + 1, note = note || 'x', updated = now()"
                    + " WHERE id BETWEEN " + from + " AND " + (from + TX - 1));
        }
        for (int from = 1; from <= ROWS; from += TX) {
            TestDatabases.execute(source, "DELETE FROM items WHERE id % 10 = 0 AND id BETWEEN " + from + " AND "
                    + (from + TX - 1));
        }
        TestDatabases.execute(source, "INSERT INTO marker VALUES (1, now())");
    }

    /**
     * With {@code bench.open-tx}, a source session that has written and not committed until it is closed (then rolled
     * back); else nothing.
     */
    private static AutoCloseable holdOpen(DataSource source) throws SQLException {
        if (!OPEN_TX) {
            return () -> {
            };
        }
        Connection connection = source.getConnection();
        connection.setAutoCommit(false);
        try (var insert = connection.createStatement()) {
            insert.execute("INSERT INTO held VALUES (1)");
        }
        return () -> {
            try (connection) {
                connection.rollback();
            }
        };
    }

    /** Bytes of replicator's own tables in the target: heap, indexes and TOAST. */
    private static long ownBytes(DataSource target) {
        return Long.parseLong(TestDatabases.copy(target, "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)"
                + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'replicator'"
                + " AND c.relkind = 'r'").trim());
    }

    private static void waitForMarker(DataSource target) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (System.nanoTime() < deadline) {
            try (Connection connection = target.getConnection();
                    PreparedStatement query = connection.prepareStatement("SELECT count(*) FROM marker");
                    ResultSet rs = query.executeQuery()) {
                rs.next();
                if (rs.getLong(1) == 1) {
                    return;
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the marker did not land within 10 minutes");
    }

    private static void assertSame(DataSource source, DataSource target) {
        for (String table : new String[] { "items", "marker" }) {
            String select = "SELECT * FROM " + table + " ORDER BY id";
            String expected = TestDatabases.copy(source, select);
            assertTrue(expected.length() > 0);
            assertEquals(expected, TestDatabases.copy(target, select), table + " differs");
        }
    }

    private static DataSource fresh(EmbeddedPostgres server, String name) {
        try (Connection connection = server.getPostgresDatabase().getConnection();
                PreparedStatement drop = connection.prepareStatement(
                        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE ?")) {
            drop.setString(1, name.replace("_src", "") + "%");
            drop.execute();
            connection.createStatement().execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                    + " WHERE slot_name IN ('bench_sub', 'bench_pull')");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return TestDatabases.freshDatabase(server, name);
    }
}
