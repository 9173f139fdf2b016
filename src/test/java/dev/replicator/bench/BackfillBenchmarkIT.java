package dev.replicator.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import dev.replicator.testing.PackagedApp;
import dev.replicator.testing.TestDatabases;

/**
 * The initial load against PostgreSQL's own: the same six-column table of {@code -Dbench.rows} rows (1,000,000 by
 * default) copied from one embedded PostgreSQL server to another, by {@code CREATE SUBSCRIPTION ... WITH (copy_data =
 * true)} and by replicator's backfill, driven as users drive it: plain HTTP posts to {@code /backfill} of the packaged
 * application, each answer posted again while it is a continuation. Each is run {@code -Dbench.runs} times (3),
 * alternating, and the median is printed, with the bytes replicator's own tables grew by (the most of any run);
 * also a backfill whose chunks are all staged, because the stream has already written a row of the table. Then
 * 100,000 streamed changes of distinct rows (batches of 1,000) show what the stream costs in replicator's tables.
 * Runs only when asked:
 * {@code ./mvnw -B -ntp verify -Dbench -Dit.test=BackfillBenchmarkIT -Dtest=NoSuchTest
 * -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@EnabledIfSystemProperty(named = "bench", matches = ".*")
class BackfillBenchmarkIT {

    static final int ROWS = Integer.getInteger("bench.rows", 1_000_000);
    static final int RUNS = Integer.getInteger("bench.runs", 3);
    static final int STREAMED = Integer.getInteger("bench.streamed", 100_000);
    static final String DB = "bench_backfill";
    static final String TABLE_DDL = "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty bigint,"
            + " at timestamptz, doc jsonb, amount numeric)";

    @Test
    void backfillAgainstCopyData() throws Exception {
        try (EmbeddedPostgres sourceServer = EmbeddedPostgres.builder().setServerConfig("timezone", "UTC")
                .setServerConfig("wal_level", "logical").setServerConfig("max_wal_senders", "10")
                .setServerConfig("max_replication_slots", "10").start();
                EmbeddedPostgres targetServer = EmbeddedPostgres.builder().setServerConfig("timezone", "UTC")
                        .start()) {
            DataSource source = TestDatabases.freshDatabase(sourceServer, DB);
            DataSource target = TestDatabases.freshDatabase(targetServer, DB);
            TestDatabases.execute(source, TABLE_DDL);
            TestDatabases.execute(target, TABLE_DDL);
            TestDatabases.execute(source, "INSERT INTO items SELECT g, 'item name ' || g, g * 7,"
                    + " timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second',"
                    + " jsonb_build_object('g', g, 'tags', jsonb_build_array('a', 'b'), 'ok', g % 2 = 0),"
                    + " g * 1.25 FROM generate_series(1, " + ROWS + ") g");
            TestDatabases.execute(source, "VACUUM ANALYZE items");
            TestDatabases.execute(source, "CREATE PUBLICATION bench FOR TABLE items");

            int port = PackagedApp.freePort();
            Map<String, String> properties = Map.of("quarkus.http.port", Integer.toString(port),
                    "quarkus.datasource.target.jdbc.url", TestDatabases.jdbcUrl(targetServer, DB),
                    "quarkus.datasource.target.username", "postgres",
                    "quarkus.datasource.source.jdbc.url", TestDatabases.jdbcUrl(sourceServer, DB),
                    "quarkus.datasource.source.username", "postgres", "replicator.allow-all-tables", "true",
                    "quarkus.log.level", "WARN",
                    // the progress lines a backfill logs every few seconds per table, and its last one
                    "quarkus.log.category.\"dev.replicator.source.backfill\".level", "INFO");
            List<Double> copyData = new ArrayList<>();
            List<Double> backfill = new ArrayList<>();
            List<Double> staged = new ArrayList<>();
            List<Long> grown = new ArrayList<>();
            HttpClient client = HttpClient.newHttpClient();
            Path log = Path.of("target/bench-backfill.log");
            try (PackagedApp app = PackagedApp.start(List.of(), properties, Map.of(), log)) {
                waitUntilReady(client, port);
                for (int run = 0; run < RUNS; run++) {
                    copyData.add(copyData(target, sourceServer.getPort()));
                    TestDatabases.execute(target, "TRUNCATE items; DELETE FROM replicator.backfill_progress");
                    long before = ownBytes(target);
                    backfill.add(backfill(client, port));
                    grown.add(ownBytes(target) - before);
                    assertCopied(source, target);
                    // the stream runs already: one row of the table has a position, so every chunk is staged
                    TestDatabases.execute(target, "TRUNCATE items; DELETE FROM replicator.backfill_progress");
                    streamOne(client, port);
                    staged.add(backfill(client, port));
                    assertCopied(source, target);
                    TestDatabases.execute(target, "TRUNCATE items; DELETE FROM replicator.row_position");
                }
                long streamedBytes = streamed(client, port, target);

                double copyDataRate = median(copyData);
                double backfillRate = median(backfill);
                double stagedRate = median(staged);
                long grownBytes = Collections.max(grown);
                System.out.printf("%ninitial load of %,d six-column rows between two embedded PostgreSQL servers,"
                        + " median of %d runs (%d cores, %s)%n", ROWS, RUNS,
                        Runtime.getRuntime().availableProcessors(), Runtime.version());
                System.out.println("| copy | rows/s | replicator's own tables grew by |");
                System.out.println("| --- | --- | --- |");
                System.out.printf("| PostgreSQL copy_data | %,.0f | - |%n", copyDataRate);
                System.out.printf("| replicator backfill over HTTP, default chunks | %,.0f (%.0f%%) | %,d bytes"
                        + " (%,.0f bytes per million rows) |%n", backfillRate, 100 * backfillRate / copyDataRate,
                        grownBytes, grownBytes * 1e6 / ROWS);
                System.out.printf("| replicator backfill, staged (the stream has written a row of the table)"
                        + " | %,.0f (%.0f%%) | - |%n", stagedRate, 100 * stagedRate / copyDataRate);
                System.out.printf("| %,d streamed changes of distinct rows | - | %,d bytes (%,.0f bytes per million"
                        + " changes) |%n", STREAMED, streamedBytes, streamedBytes * 1e6 / STREAMED);
                printProgress(log);
                System.out.println("copy_data runs (rows/s): " + copyData + "; backfill runs: " + backfill
                        + "; staged runs: " + staged + "; own tables grew per backfill (bytes, largest shown above): "
                        + grown);
                System.out.println();
            }
        }
    }

    /**
     * The progress lines the backfills logged, each backfill's in turn; fails unless each one's last line says 100%.
     */
    static void printProgress(Path log) throws IOException {
        Map<String, List<String>> byEvent = new java.util.LinkedHashMap<>();
        for (String line : java.nio.file.Files.readAllLines(log)) {
            int at = line.indexOf("backfill ");
            int of = line.indexOf(" of public.items: ");
            if (at >= 0 && of > at) {
                byEvent.computeIfAbsent(line.substring(at + 9, of), k -> new ArrayList<>())
                        .add(line.substring(line.indexOf(' ', line.indexOf(' ') + 1) + 1).trim());
            }
        }
        System.out.println("backfill progress lines (logged at INFO every 5 s per table, and when a table is done):");
        byEvent.forEach((event, lines) -> {
            lines.forEach(System.out::println);
            String lastLine = lines.get(lines.size() - 1);
            if (!lastLine.contains("(100.0%)") || !lastLine.endsWith("done")) {
                throw new IllegalStateException("the last progress line of a backfill does not say 100%: " + lastLine);
            }
        });
    }

    /** Rows/s of PostgreSQL's own initial copy: from CREATE SUBSCRIPTION until the table is ready. */
    static double copyData(DataSource target, int sourcePort) throws Exception {
        TestDatabases.execute(target, "TRUNCATE items");
        long start = System.nanoTime();
        TestDatabases.execute(target, "CREATE SUBSCRIPTION bench CONNECTION 'host=localhost port=" + sourcePort
                + " dbname=" + DB + " user=postgres' PUBLICATION bench WITH (copy_data = true)");
        while (!"r".equals(query(target, "SELECT string_agg(srsubstate::text, '') FROM pg_subscription_rel"))) {
            Thread.sleep(5);
            if (System.nanoTime() - start > 600_000_000_000L) {
                throw new IllegalStateException("the subscription did not get ready in 10 minutes");
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        TestDatabases.execute(target, "DROP SUBSCRIPTION bench");
        long copied = Long.parseLong(query(target, "SELECT count(*) FROM items"));
        if (copied != ROWS) {
            throw new IllegalStateException("copy_data copied " + copied + " rows");
        }
        return ROWS / seconds;
    }

    /** Rows/s of replicator's backfill, posted as plain HTTP until the answer is no longer a continuation. */
    static double backfill(HttpClient client, int port) throws Exception {
        String body = "{\"tables\": [\"public.items\"]}";
        long start = System.nanoTime();
        for (int call = 0;; call++) {
            HttpResponse<String> answer = client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port
                    + "/backfill")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            if (answer.statusCode() != 200) {
                throw new IllegalStateException("backfill answered " + answer.statusCode() + ": " + answer.body());
            }
            if (!"replicator.backfill.v1".equals(answer.headers().firstValue("ce-type").orElse(""))) {
                break;
            }
            body = answer.body();
            if (call > 10_000) {
                throw new IllegalStateException("backfill does not finish");
            }
        }
        return ROWS / ((System.nanoTime() - start) / 1e9);
    }

    /** One streamed change of the first row, as it is in the source: the table now has a position row. */
    static void streamOne(HttpClient client, int port) throws Exception {
        HttpResponse<String> answer = client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/"))
                .header("Content-Type", "application/json").header("ce-specversion", "1.0").header("ce-id", "one")
                .header("ce-source", "/bench").header("ce-type", "replicator.change.v1")
                .POST(HttpRequest.BodyPublishers.ofString("{\"table\":\"public.items\",\"op\":\"upsert\","
                        + "\"position\":[1,0],\"after\":{\"id\":1,\"name\":\"item name 1\",\"qty\":7,"
                        + "\"at\":\"2024-01-01 00:00:01+00\",\"doc\":{\"g\":1,\"ok\":false,\"tags\":[\"a\",\"b\"]},"
                        + "\"amount\":\"1.25\"}}")).build(), HttpResponse.BodyHandlers.ofString());
        if (answer.statusCode() != 204) {
            throw new IllegalStateException("the streamed change was answered " + answer.statusCode());
        }
    }

    /** Bytes replicator's own tables grow by for streamed changes of distinct rows, posted in batches. */
    static long streamed(HttpClient client, int port, DataSource target) throws Exception {
        TestDatabases.execute(target, "TRUNCATE items, replicator.row_position, replicator.table_position");
        long before = ownBytes(target);
        int batch = 1000;
        for (int from = 1; from <= STREAMED; from += batch) {
            StringBuilder events = new StringBuilder("[");
            for (int id = from; id < from + batch && id <= STREAMED; id++) {
                events.append(id == from ? "" : ",").append("{\"specversion\":\"1.0\",\"id\":\"s-").append(id)
                        .append("\",\"source\":\"/bench\",\"type\":\"replicator.change.v1\",")
                        .append("\"datacontenttype\":\"application/json\",\"data\":{\"table\":\"public.items\",")
                        .append("\"op\":\"upsert\",\"position\":[").append(id).append(",0],\"after\":{\"id\":")
                        .append(id).append(",\"name\":\"streamed ").append(id).append("\",\"qty\":").append(id)
                        .append(",\"at\":\"2024-01-01 00:00:00+00\",\"doc\":{\"g\":").append(id)
                        .append("},\"amount\":\"1.5\"}}}");
            }
            events.append("]");
            HttpResponse<String> answer = client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port
                    + "/")).header("Content-Type", "application/cloudevents-batch+json")
                    .POST(HttpRequest.BodyPublishers.ofString(events.toString())).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (answer.statusCode() / 100 != 2) {
                throw new IllegalStateException("a batch was answered " + answer.statusCode() + ": " + answer.body());
            }
        }
        return ownBytes(target) - before;
    }

    /** The size of replicator's own tables, indexes and TOAST included. */
    static long ownBytes(DataSource target) throws SQLException {
        return Long.parseLong(query(target, "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'replicator' AND c.relkind = 'r'"));
    }

    static void assertCopied(DataSource source, DataSource target) throws SQLException {
        String checksum = "SELECT count(*) || ' ' || sum(hashtext(t::text)::bigint) FROM items t";
        String expected = query(source, checksum);
        String actual = query(target, checksum);
        if (!expected.equals(actual)) {
            throw new IllegalStateException("the backfill's copy differs from the source: " + actual + " vs "
                    + expected);
        }
    }

    static String query(DataSource db, String select) throws SQLException {
        try (Connection connection = db.getConnection(); Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery(select)) {
            rs.next();
            return rs.getString(1);
        }
    }

    static void waitUntilReady(HttpClient client, int port) throws Exception {
        long start = System.nanoTime();
        while (true) {
            try {
                HttpResponse<Void> answer = client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port
                        + "/q/health/ready")).GET().build(), HttpResponse.BodyHandlers.discarding());
                if (answer.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            if (System.nanoTime() - start > 60_000_000_000L) {
                throw new IllegalStateException("the application did not get ready in 60 s");
            }
            Thread.sleep(50);
        }
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }
}
