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
 * single-event requests (binary-mode CloudEvents) from C concurrent clients, and as batch requests. Prints changes/s,
 * the ratio to the limit, request latency percentiles and the function's peak RSS. Both the limit and the function
 * are measured warm (the same work done once before). Runs only when asked:
 * {@code ./mvnw verify -Dbench -Dit.test=ThroughputBenchmarkIT -Dtest=NoSuchTest -Dsurefire.failIfNoSpecifiedTests=false}
 * ({@code -Dbench.changes=N} for another size; {@code -Dbench.soak=PT5M} adds the memory soak, see {@link #soak}).
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
        limit(target, changes); // once to warm up, so the limit is not held back by a cold JIT
        reset(target);
        long start = System.nanoTime();
        limit(target, changes);
        double limitRate = CHANGES / ((System.nanoTime() - start) / 1e9);
        rows.add(String.format("| plain JDBC, batched multi-row statements | %,.0f | 100%% | | | | |", limitRate));

        for (int clients : new int[] { 1, 8, 32, 64 }) {
            rows.add(run(target, changes, clients, 1, limitRate));
        }
        for (int batch : new int[] { 100, 1000 }) {
            rows.add(run(target, changes, 4, batch, limitRate));
        }
        System.out.printf("%nthroughput benchmark: %,d changes (inserts, updates, deletes over 3 tables), %d cores, %s%n",
                CHANGES, Runtime.getRuntime().availableProcessors(), Runtime.version());
        System.out.println("| writer | changes/s | of limit | p50 ms | p99 ms | peak RSS MiB | requests per transaction |");
        System.out.println("| --- | --- | --- | --- | --- | --- | --- |");
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

    /** A request as a client sends it: a binary-mode CloudEvent (ce-* headers) or a batch of structured ones. */
    record Payload(String ceId, String body) {
        HttpRequest request(int port) {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/"));
            if (ceId == null) {
                request.header("Content-Type", "application/cloudevents-batch+json");
            } else {
                request.header("Content-Type", "application/json").header("ce-specversion", "1.0")
                        .header("ce-id", ceId).header("ce-source", "/bench").header("ce-type", "replicator.change.v1");
            }
            return request.POST(HttpRequest.BodyPublishers.ofString(body)).build();
        }
    }

    static Payload single(Change c) {
        return new Payload("b-" + c.position(), data(c));
    }

    static Payload batch(List<Change> changes) {
        return new Payload(null, "[" + String.join(",", changes.stream().map(ThroughputBenchmarkIT::event).toList()) + "]");
    }

    static String data(Change c) {
        return c.op().equals("delete")
                ? "{\"table\":\"public.t" + c.table() + "\",\"op\":\"delete\",\"position\":" + c.position()
                        + ",\"key\":{\"id\":" + c.id() + "}}"
                : "{\"table\":\"public.t" + c.table() + "\",\"op\":\"upsert\",\"position\":" + c.position()
                        + ",\"after\":{\"id\":" + c.id() + ",\"name\":\"" + c.name() + "\",\"qty\":" + c.qty()
                        + ",\"updated_at\":\"2024-01-01 00:00:00+00\"}}";
    }

    static String event(Change c) {
        String data = data(c);
        return "{\"specversion\":\"1.0\",\"id\":\"b-" + c.position() + "\",\"source\":\"/bench\","
                + "\"type\":\"replicator.change.v1\",\"datacontenttype\":\"application/json\",\"data\":" + data + "}";
    }

    /**
     * Starts the packaged application, posts every change once to warm it up, empties the tables, posts every change
     * again while measuring, and returns the result row.
     */
    static String run(DataSource target, List<Change> changes, int clients, int batch, double limitRate)
            throws Exception {
        reset(target);
        int port = freePort();
        Process process = start(port, "c" + clients + "-b" + batch);
        AtomicLong peakRss = new AtomicLong();
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try {
            waitUntilReady(http, port);
            List<Payload> payloads = new ArrayList<>();
            for (int from = 0; from < changes.size(); from += batch) {
                List<Change> group = changes.subList(from, Math.min(changes.size(), from + batch));
                payloads.add(batch == 1 ? single(group.get(0)) : batch(group));
            }
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
            // the same workload once to warm the function up (JIT, pools), as a long-running instance is
            post(pool, http, port, payloads, clients, Collections.synchronizedList(new ArrayList<>()));
            TestDatabases.execute(target, "TRUNCATE t0, t1, t2, replicator.row_position, replicator.table_position");
            List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
            long start = System.nanoTime();
            post(pool, http, port, payloads, clients, latencies);
            double seconds = (System.nanoTime() - start) / 1e9;
            double requestsPerTransaction = metric(http, port, "replicator_group_requests_sum")
                    / metric(http, port, "replicator_group_requests_count"); // over both passes
            sampler.cancel(true);
            pool.shutdownNow();
            Collections.sort(latencies);
            double rate = changes.size() / seconds;
            String writer = batch == 1 ? "replicator, single events, " + clients + " clients"
                    : "replicator, batches of " + batch + ", " + clients + " clients";
            return String.format("| %s | %,.0f | %.0f%% | %.1f | %.1f | %d | %.1f |", writer, rate,
                    100 * rate / limitRate, latencies.get(latencies.size() / 2) / 1e6,
                    latencies.get((int) (latencies.size() * 0.99)) / 1e6, peakRss.get() / 1024, requestsPerTransaction);
        } finally {
            process.destroy();
            process.waitFor();
        }
    }

    /** Posts the payloads from the given number of concurrent clients, recording each request's latency. */
    static void post(ExecutorService pool, HttpClient http, int port, List<Payload> payloads, int clients,
            List<Long> latencies) throws Exception {
        ConcurrentLinkedQueue<Payload> queue = new ConcurrentLinkedQueue<>(payloads);
        List<Future<?>> senders = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            senders.add(pool.submit(() -> {
                Payload payload;
                while ((payload = queue.poll()) != null) {
                    long sent = System.nanoTime();
                    send(http, payload.request(port));
                    latencies.add(System.nanoTime() - sent);
                }
                return null;
            }));
        }
        for (Future<?> sender : senders) {
            sender.get();
        }
    }

    /**
     * Posts a request as a broker would: a retryable answer (503 when too many changes are in flight, 409) is sent
     * again after a moment; anything else but 2xx ends the run.
     */
    static int send(HttpClient http, HttpRequest request) throws Exception {
        for (int retries = 0;; retries++) {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 == 2) {
                return retries;
            }
            if ((response.statusCode() != 503 && response.statusCode() != 409) || retries >= 100) {
                throw new IllegalStateException(response.statusCode() + " " + response.body());
            }
            Thread.sleep(10);
        }
    }

    /**
     * Single-event requests from 32 clients at full rate for {@code -Dbench.soak} (an ISO duration such as PT5M),
     * printing the function's RSS every 30 s: memory must stay flat. Rows are upserted and deleted over a bounded
     * key space so the tables stop growing.
     */
    @Test
    @EnabledIfSystemProperty(named = "bench.soak", matches = ".+")
    void soak() throws Exception {
        java.time.Duration duration = java.time.Duration.parse(System.getProperty("bench.soak"));
        DataSource target = TestDatabases.freshDatabase(TestDatabases.target(), DB);
        reset(target);
        int port = freePort();
        Process process = start(port, "soak");
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        int clients = 32;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            waitUntilReady(http, port);
            AtomicLong positions = new AtomicLong();
            AtomicLong retried = new AtomicLong();
            long end = System.nanoTime() + duration.toNanos();
            List<Future<?>> senders = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                senders.add(pool.submit(() -> {
                    Random random = new Random();
                    while (System.nanoTime() < end) {
                        long position = positions.incrementAndGet();
                        int id = 1 + random.nextInt(30_000);
                        Change change = random.nextInt(100) < 15
                                ? new Change((int) (position % 3), "delete", id, position, null, 0)
                                : new Change((int) (position % 3), "upsert", id, position, "s" + position, (int) (position % 100));
                        retried.addAndGet(send(http, single(change).request(port)));
                    }
                    return null;
                }));
            }
            System.out.printf("%nsoak: single events, %d clients, %s, %d cores, %s%n", clients, duration,
                    Runtime.getRuntime().availableProcessors(), Runtime.version());
            System.out.println("| elapsed s | changes | changes/s in interval | RSS MiB | retried (503/409) |");
            System.out.println("| --- | --- | --- | --- | --- |");
            long start = System.nanoTime();
            long lastCount = 0;
            long lastTime = start;
            while (System.nanoTime() < end) {
                Thread.sleep(Math.min(30_000, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
                long now = System.nanoTime();
                long count = positions.get();
                System.out.printf("| %.0f | %,d | %,.0f | %d | %d |%n", (now - start) / 1e9, count,
                        (count - lastCount) / ((now - lastTime) / 1e9), rssKb(process.pid()) / 1024, retried.get());
                lastCount = count;
                lastTime = now;
            }
            for (Future<?> sender : senders) {
                sender.get();
            }
            System.out.println();
        } finally {
            pool.shutdownNow();
            process.destroy();
            process.waitFor();
        }
    }

    /** Starts the packaged application; {@code -Dbench.jfr} records a flight recording of each run. */
    static Process start(int port, String run) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        if (System.getProperty("bench.jfr") != null) {
            command.add("-XX:StartFlightRecording=filename=../bench-" + run + ".jfr,settings=profile,"
                    + "jdk.ExecutionSample#period=1ms");
        }
        String appArgs = System.getProperty("bench.app-args", "").trim();
        if (!appArgs.isEmpty()) {
            command.addAll(List.of(appArgs.split("\\s+"))); // e.g. -Dreplicator.group-commit.writers=2
        }
        command.addAll(List.of(
                "-Dquarkus.http.port=" + port,
                "-Dquarkus.datasource.target.jdbc.url=" + TestDatabases.jdbcUrl(TestDatabases.target(), DB),
                "-Dquarkus.datasource.target.username=postgres",
                "-Dquarkus.datasource.source.jdbc.url=" + TestDatabases.jdbcUrl(TestDatabases.target(), DB),
                "-Dquarkus.datasource.source.username=postgres",
                "-Dreplicator.allow-all-tables=true", "-Dquarkus.log.level=WARN", "-jar", "quarkus-run.jar"));
        return new ProcessBuilder(command).directory(new File("target/quarkus-app")).redirectErrorStream(true)
                .redirectOutput(new File("target/bench-throughput.log")).start();
    }

    /** A value from the function's Prometheus endpoint (the first series of that name). */
    static double metric(HttpClient http, int port, String name) throws Exception {
        String text = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return Double.NaN;
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
