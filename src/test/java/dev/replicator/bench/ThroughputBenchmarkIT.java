package dev.replicator.bench;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import dev.replicator.testing.TestDatabases;

/**
 * Throughput of the packaged application against what plain JDBC can write into the same PostgreSQL: the same
 * mixed inserts, updates and deletes over three tables, as the limit (batched multi-row statements), as
 * single-event requests from C concurrent clients, and as batch requests. Prints changes/s, the ratio to the limit,
 * request latency percentiles and the function's peak RSS. Runs only when asked:
 * {@code ./mvnw verify -Dbench -Dit.test=ThroughputBenchmarkIT -Dtest=NoSuchTest -Dsurefire.failIfNoSpecifiedTests=false}
 * ({@code -Dbench.changes=N} for another size).
 */
@EnabledIfSystemProperty(named = "bench", matches = ".*")
class ThroughputBenchmarkIT {

    static final int CHANGES = Integer.getInteger("bench.changes", 20_000);
    static final String DB = "bench_throughput";

    record Change(int table, String op, int id, long position, String name, int qty) {
    }

    @Test
    void throughput() throws Exception {
        DataSource target = TestDatabases.freshDatabase(TestDatabases.target(), DB);
        List<Change> changes = history();
        List<String> rows = new ArrayList<>();

        reset(target);
        long start = System.nanoTime();
        limit(target, changes);
        double limitRate = CHANGES / ((System.nanoTime() - start) / 1e9);
        rows.add(String.format("| plain JDBC, batched multi-row statements | %,.0f | 100%% | | | |", limitRate));

        for (int clients : new int[] { 1, 8, 32, 64 }) {
            rows.add(run(target, changes, clients, 1, limitRate));
        }
        for (int batch : new int[] { 100, 1000 }) {
            rows.add(run(target, changes, 4, batch, limitRate));
        }
        System.out.printf("%nthroughput benchmark: %,d changes (inserts, updates, deletes over 3 tables), %d cores, %s%n",
                CHANGES, Runtime.getRuntime().availableProcessors(), Runtime.version());
        System.out.println("| writer | changes/s | of limit | p50 ms | p99 ms | peak RSS MiB |");
        System.out.println("| --- | --- | --- | --- | --- | --- |");
        rows.forEach(System.out::println);
        System.out.println();
    }

    /** A deterministic mix: 50% inserts of new rows, 35% updates, 15% deletes, over three tables. */
    static List<Change> history() {
        Random random = new Random(7);
        List<List<Integer>> live = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        int[] next = { 1, 1, 1 };
        List<Change> changes = new ArrayList<>(CHANGES);
        for (long position = 1; changes.size() < CHANGES; position++) {
            int table = random.nextInt(3);
            List<Integer> ids = live.get(table);
            int roll = random.nextInt(100);
            if (ids.isEmpty() || roll < 50) {
                int id = next[table]++;
                ids.add(id);
                changes.add(new Change(table, "upsert", id, position, "n" + random.nextInt(1_000_000), random.nextInt(100)));
            } else if (roll < 85) {
                int id = ids.get(random.nextInt(ids.size()));
                changes.add(new Change(table, "upsert", id, position, "u" + random.nextInt(1_000_000), random.nextInt(100)));
            } else {
                int id = ids.remove(random.nextInt(ids.size()));
                changes.add(new Change(table, "delete", id, position, null, 0));
            }
        }
        return changes;
    }

    static void reset(DataSource target) {
        TestDatabases.execute(target, """
                DROP SCHEMA IF EXISTS replicator CASCADE;
                DROP TABLE IF EXISTS t0, t1, t2;
                CREATE TABLE t0 (id int PRIMARY KEY, name text, qty int, updated_at timestamptz);
                CREATE TABLE t1 (id int PRIMARY KEY, name text, qty int, updated_at timestamptz);
                CREATE TABLE t2 (id int PRIMARY KEY, name text, qty int, updated_at timestamptz);
                """);
    }

    /** The best plain JDBC: per chunk of 1000, the last change per key, one multi-row upsert and one delete per table. */
    static void limit(DataSource target, List<Change> changes) throws SQLException {
        try (Connection connection = target.getConnection()) {
            connection.setAutoCommit(false);
            for (int from = 0; from < changes.size(); from += 1000) {
                List<Change> chunk = changes.subList(from, Math.min(changes.size(), from + 1000));
                for (int table = 0; table < 3; table++) {
                    java.util.Map<Integer, Change> last = new java.util.LinkedHashMap<>();
                    for (Change c : chunk) {
                        if (c.table() == table) {
                            last.remove(c.id());
                            last.put(c.id(), c);
                        }
                    }
                    List<Change> upserts = last.values().stream().filter(c -> c.op().equals("upsert")).toList();
                    List<Change> deletes = last.values().stream().filter(c -> c.op().equals("delete")).toList();
                    if (!upserts.isEmpty()) {
                        try (PreparedStatement upsert = connection.prepareStatement("INSERT INTO t" + table
                                + " (id, name, qty, updated_at) SELECT * FROM unnest(?::int[], ?::text[], ?::int[],"
                                + " ?::timestamptz[]) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,"
                                + " qty = EXCLUDED.qty, updated_at = EXCLUDED.updated_at")) {
                            upsert.setArray(1, connection.createArrayOf("int4", upserts.stream().map(Change::id).toArray()));
                            upsert.setArray(2, connection.createArrayOf("text", upserts.stream().map(Change::name).toArray()));
                            upsert.setArray(3, connection.createArrayOf("int4", upserts.stream().map(Change::qty).toArray()));
                            upsert.setArray(4, connection.createArrayOf("text",
                                    upserts.stream().map(c -> "2024-01-01 00:00:00+00").toArray()));
                            upsert.executeUpdate();
                        }
                    }
                    if (!deletes.isEmpty()) {
                        try (PreparedStatement delete = connection.prepareStatement("DELETE FROM t" + table
                                + " WHERE id = ANY (?::int[])")) {
                            delete.setArray(1, connection.createArrayOf("int4", deletes.stream().map(Change::id).toArray()));
                            delete.executeUpdate();
                        }
                    }
                }
                connection.commit();
            }
        }
    }

    static String event(Change c) {
        String data = c.op().equals("delete")
                ? "{\"table\":\"public.t" + c.table() + "\",\"op\":\"delete\",\"position\":" + c.position()
                        + ",\"key\":{\"id\":" + c.id() + "}}"
                : "{\"table\":\"public.t" + c.table() + "\",\"op\":\"upsert\",\"position\":" + c.position()
                        + ",\"after\":{\"id\":" + c.id() + ",\"name\":\"" + c.name() + "\",\"qty\":" + c.qty()
                        + ",\"updated_at\":\"2024-01-01 00:00:00+00\"}}";
        return "{\"specversion\":\"1.0\",\"id\":\"b-" + c.position() + "\",\"source\":\"/bench\","
                + "\"type\":\"replicator.change.v1\",\"datacontenttype\":\"application/json\",\"data\":" + data + "}";
    }

    /** Starts the packaged application, posts every change, and returns the result row. */
    static String run(DataSource target, List<Change> changes, int clients, int batch, double limitRate)
            throws Exception {
        reset(target);
        int port = freePort();
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dquarkus.http.port=" + port,
                "-Dquarkus.datasource.target.jdbc.url=" + TestDatabases.jdbcUrl(TestDatabases.target(), DB),
                "-Dquarkus.datasource.target.username=postgres",
                "-Dquarkus.datasource.source.jdbc.url=" + TestDatabases.jdbcUrl(TestDatabases.target(), DB),
                "-Dquarkus.datasource.source.username=postgres",
                "-Dreplicator.allow-all-tables=true", "-Dquarkus.log.level=WARN", "-jar", "quarkus-run.jar");
        Process process = new ProcessBuilder(command).directory(new File("target/quarkus-app")).redirectErrorStream(true)
                .redirectOutput(new File("target/bench-throughput.log")).start();
        AtomicLong peakRss = new AtomicLong();
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try {
            waitUntilReady(http, port);
            List<String> bodies = new ArrayList<>();
            for (int from = 0; from < changes.size(); from += batch) {
                List<Change> group = changes.subList(from, Math.min(changes.size(), from + batch));
                bodies.add(batch == 1 ? event(group.get(0))
                        : "[" + String.join(",", group.stream().map(ThroughputBenchmarkIT::event).toList()) + "]");
            }
            ConcurrentLinkedQueue<String> queue = new ConcurrentLinkedQueue<>(bodies);
            List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
            ExecutorService pool = Executors.newFixedThreadPool(clients + 1);
            Future<?> sampler = pool.submit(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    peakRss.accumulateAndGet(rssKb(process.pid()), Math::max);
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            long start = System.nanoTime();
            List<Future<?>> senders = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                senders.add(pool.submit(() -> {
                    String body;
                    while ((body = queue.poll()) != null) {
                        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/"))
                                .header("Content-Type", "application/cloudevents+json")
                                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
                        long sent = System.nanoTime();
                        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                        latencies.add(System.nanoTime() - sent);
                        if (response.statusCode() / 100 != 2) {
                            throw new IllegalStateException(response.statusCode() + " " + response.body());
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> sender : senders) {
                sender.get();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            sampler.cancel(true);
            pool.shutdownNow();
            Collections.sort(latencies);
            double rate = changes.size() / seconds;
            String writer = batch == 1 ? "replicator, single events, " + clients + " clients"
                    : "replicator, batches of " + batch + ", " + clients + " clients";
            return String.format("| %s | %,.0f | %.0f%% | %.1f | %.1f | %d |", writer, rate, 100 * rate / limitRate,
                    latencies.get(latencies.size() / 2) / 1e6, latencies.get((int) (latencies.size() * 0.99)) / 1e6,
                    peakRss.get() / 1024);
        } finally {
            process.destroy();
            process.waitFor();
        }
    }

    static void waitUntilReady(HttpClient http, int port) throws Exception {
        for (int i = 0; i < 600; i++) {
            try {
                HttpResponse<Void> response = http.send(HttpRequest.newBuilder(
                        URI.create("http://localhost:" + port + "/q/health/ready")).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("the application did not become ready; see target/bench-throughput.log");
    }

    static long rssKb(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // the process is gone
        }
        return 0;
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
