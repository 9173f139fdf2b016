package dev.replicator.bench;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
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
 * single-event requests (binary-mode CloudEvents) from C concurrent clients, and as batch requests; and, as the floor
 * of what a single-event request costs here, the same requests to a no-op function ({@code replicator.ping.v1}: the
 * same HTTP stack and ingress, answered without touching a database), {@code -Dbench.floor-clients} (32). Prints
 * single events as a share of that floor, and changes/s,
 * the ratio to the limit, request latency percentiles and the function's peak RSS. Both the limit and the function
 * are measured warm: the same work is repeated first for {@code -Dbench.warmup} (an ISO duration, PT60S by default),
 * so the just-in-time compiler has settled, as in an instance that has been running for a while (on two cores it
 * kept compiling for about 40 s after start; after a 15 s warm-up it still took a third to half of the function's
 * CPU in the measured pass). Runs only when asked:
 * {@code ./mvnw verify -Dbench -Dit.test=ThroughputBenchmarkIT -Dtest=NoSuchTest -Dsurefire.failIfNoSpecifiedTests=false}
 * ({@code -Dbench.changes=N} for another size; {@code -Dbench.soak=PT5M} adds the memory soak, see {@link #soak}).
 */
@EnabledIfSystemProperty(named = "bench", matches = ".*")
class ThroughputBenchmarkIT {

    static final int CHANGES = Integer.getInteger("bench.changes", 20_000);
    static final String DB = "bench_throughput";
    static final java.time.Duration WARMUP = java.time.Duration.parse(System.getProperty("bench.warmup", "PT60S"));

    record Change(int table, String op, int id, long position, String name, int qty) {
    }

    @Test
    void throughput() throws Exception {
        DataSource target = database();
        List<Change> changes = history();
        List<String> rows = new ArrayList<>();

        long warmUntil = System.nanoTime() + WARMUP.toNanos();
        do { // the limit is not held back by a cold JIT either
            reset(target);
            limit(target, changes);
        } while (System.nanoTime() < warmUntil);
        reset(target);
        // the median of five passes: one pass takes a tenth of a second, too short to trust alone
        List<Double> rates = new ArrayList<>();
        Cpu used = new Cpu(0, 0, 0);
        for (int pass = 0; pass < 5; pass++) {
            reset(target);
            Cpu before = Cpu.now(0);
            long start = System.nanoTime();
            limit(target, changes);
            rates.add(CHANGES / ((System.nanoTime() - start) / 1e9));
            used = used.plus(Cpu.now(0).minus(before));
        }
        Collections.sort(rates);
        double limitRate = rates.get(2);
        rows.add(String.format("| plain JDBC, batched multi-row statements | %,.0f | 100%% | | | | | | %.1f | %.1f |",
                limitRate, used.postgres() / (5.0 * CHANGES), used.client() / (5.0 * CHANGES)));
        reset(target);
        fencedLimit(target, changes); // warmed by the limit's passes but for its own statements
        reset(target);
        long fencedStart = System.nanoTime();
        Cpu fencedBefore = Cpu.now(0);
        fencedLimit(target, changes);
        double fencedRate = CHANGES / ((System.nanoTime() - fencedStart) / 1e9);
        Cpu fencedUsed = Cpu.now(0).minus(fencedBefore);
        rows.add(String.format("| plain JDBC with fencing (positions claimed per key first) | %,.0f | %.0f%% | | | | | | %.1f | %.1f |",
                fencedRate, 100 * fencedRate / limitRate, fencedUsed.postgres() / (double) CHANGES,
                fencedUsed.client() / (double) CHANGES));
        java.util.Map<Integer, Double> singles = new java.util.HashMap<>();
        for (int clients : sizes("bench.clients", "1,8,32,64")) {
            rows.add(run(target, changes, clients, 1, limitRate, false, singles));
        }
        java.util.Map<Integer, Double> floors = new java.util.HashMap<>();
        for (int clients : sizes("bench.floor-clients", "32")) {
            rows.add(run(target, changes, clients, 1, limitRate, true, floors));
        }
        for (int batch : sizes("bench.batches", "100,1000")) {
            rows.add(run(target, changes, 4, batch, limitRate, false, new java.util.HashMap<>()));
        }
        System.out.printf("%nthroughput benchmark: %,d changes (inserts, updates, deletes over 3 tables), %d cores, %s%s%n",
                CHANGES, Runtime.getRuntime().availableProcessors(), Runtime.version(),
                System.getProperty("bench.postgres-rtt", "").isBlank() ? ""
                        : ", PostgreSQL round trip " + System.getProperty("bench.postgres-rtt"));
        System.out.println("| writer | changes/s | of limit | p50 ms | p99 ms | peak RSS MiB | requests per transaction"
                + " | CPU µs per change: function | PostgreSQL | client |");
        System.out.println("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        rows.forEach(System.out::println);
        floors.forEach((clients, floor) -> {
            if (singles.containsKey(clients)) {
                System.out.printf("single events at %d clients: %.0f%% of the no-op function's floor%n", clients,
                        100 * singles.get(clients) / floor);
            }
        });
        System.out.println();
    }

    /** A comma-separated list of sizes from a system property ({@code -Dbench.clients=32 -Dbench.batches=} runs one). */
    static int[] sizes(String property, String otherwise) {
        return java.util.Arrays.stream(System.getProperty(property, otherwise).split(",")).map(String::trim)
                .filter(size -> !size.isEmpty()).mapToInt(Integer::parseInt).toArray();
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
                DROP TABLE IF EXISTS fence;
                CREATE TABLE fence (tbl int, id int, position bigint NOT NULL, deleted boolean NOT NULL,
                    PRIMARY KEY (tbl, id));
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
                    write(connection, table, upserts, deletes);
                }
                connection.commit();
            }
        }
    }

    /** One multi-row upsert and one multi-row delete of a table, typed arrays bound. */
    static void write(Connection connection, int table, List<Change> upserts, List<Change> deletes) throws SQLException {
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

    /**
     * The limit with the guarantee replicator gives: per chunk and table, the last change per key first claims the
     * key's position (only if newer than the one recorded, in key order), then the claimed rows are upserted and
     * deleted. What fencing costs PostgreSQL, with nothing else in the way.
     */
    static void fencedLimit(DataSource target, List<Change> changes) throws SQLException {
        try (Connection connection = target.getConnection()) {
            connection.setAutoCommit(false);
            for (int from = 0; from < changes.size(); from += 1000) {
                List<Change> chunk = changes.subList(from, Math.min(changes.size(), from + 1000));
                for (int table = 0; table < 3; table++) {
                    java.util.TreeMap<Integer, Change> last = new java.util.TreeMap<>();
                    for (Change c : chunk) {
                        if (c.table() == table) {
                            last.put(c.id(), c);
                        }
                    }
                    if (last.isEmpty()) {
                        continue;
                    }
                    java.util.Map<Integer, Boolean> claimed = new java.util.HashMap<>();
                    try (PreparedStatement claim = connection.prepareStatement("INSERT INTO fence AS f (tbl, id,"
                            + " position, deleted) SELECT " + table + ", * FROM unnest(?::int[], ?::bigint[], ?::boolean[])"
                            + " ON CONFLICT (tbl, id) DO UPDATE SET position = EXCLUDED.position, deleted = EXCLUDED.deleted"
                            + " WHERE f.position < EXCLUDED.position RETURNING id, deleted")) {
                        claim.setArray(1, connection.createArrayOf("int4", last.keySet().toArray()));
                        claim.setArray(2, connection.createArrayOf("int8", last.values().stream().map(Change::position).toArray()));
                        claim.setArray(3, connection.createArrayOf("bool",
                                last.values().stream().map(c -> c.op().equals("delete")).toArray()));
                        try (var rs = claim.executeQuery()) {
                            while (rs.next()) {
                                claimed.put(rs.getInt(1), rs.getBoolean(2));
                            }
                        }
                    }
                    List<Change> upserts = last.values().stream().filter(c -> Boolean.FALSE.equals(claimed.get(c.id()))).toList();
                    List<Change> deletes = last.values().stream().filter(c -> Boolean.TRUE.equals(claimed.get(c.id()))).toList();
                    write(connection, table, upserts, deletes);
                }
                connection.commit();
            }
        }
    }

    /** A request as a client sends it, as bytes: a binary-mode CloudEvent (ce-* headers) or a batch of structured ones. */
    record Payload(byte[] request) {
    }

    static Payload single(Change c) {
        return new Payload(LeanHttp.post("/", java.util.Map.of("Content-Type", "application/json", "ce-specversion", "1.0",
                "ce-id", "b-" + c.position(), "ce-source", "/bench", "ce-type", "replicator.change.v1"), data(c)));
    }

    /**
     * The floor: the same request through the same HTTP stack and ingress to a function that answers 204 without
     * touching a database.
     */
    static Payload ping(Change c) {
        return new Payload(LeanHttp.post("/", java.util.Map.of("Content-Type", "application/json", "ce-specversion", "1.0",
                "ce-id", "b-" + c.position(), "ce-source", "/bench", "ce-type", "replicator.ping.v1"), data(c)));
    }

    static Payload batch(List<Change> changes) {
        return new Payload(LeanHttp.post("/", java.util.Map.of("Content-Type", "application/cloudevents-batch+json"),
                "[" + String.join(",", changes.stream().map(ThroughputBenchmarkIT::event).toList()) + "]"));
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
     * Starts the packaged application, posts every change (again and again, emptying the tables in between) to warm it
     * up, then posts every change once more while measuring, and returns the result row.
     */
    static String run(DataSource target, List<Change> changes, int clients, int batch, double limitRate,
            boolean noop, java.util.Map<Integer, Double> rates) throws Exception {
        reset(target);
        int port = freePort();
        Process process = start(port, (noop ? "noop-" : "") + "c" + clients + "-b" + batch);
        AtomicLong peakRss = new AtomicLong();
        LeanHttp http = new LeanHttp(port);
        try {
            waitUntilReady(http);
            List<Payload> payloads = new ArrayList<>();
            for (int from = 0; from < changes.size(); from += batch) {
                List<Change> group = changes.subList(from, Math.min(changes.size(), from + batch));
                payloads.add(noop ? ping(group.get(0)) : batch == 1 ? single(group.get(0)) : batch(group));
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
            // the same workload to warm the function up (JIT, pools), as a long-running instance is
            long warmUntil = System.nanoTime() + WARMUP.toNanos();
            do {
                post(pool, http, payloads, clients, Collections.synchronizedList(new ArrayList<>()));
                TestDatabases.execute(target, "TRUNCATE t0, t1, t2, replicator.row_position, replicator.table_position");
            } while (System.nanoTime() < warmUntil);
            List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
            Cpu before = Cpu.now(process.pid());
            java.util.Map<String, Long> threadsBefore = Cpu.threads(process.pid());
            long start = System.nanoTime();
            post(pool, http, payloads, clients, latencies);
            double seconds = (System.nanoTime() - start) / 1e9;
            Cpu used = Cpu.now(process.pid()).minus(before);
            if (System.getProperty("bench.threads") != null) {
                java.util.Map<String, Long> threads = Cpu.threads(process.pid());
                threadsBefore.forEach((name, micros) -> threads.merge(name, -micros, Long::sum));
                System.out.printf("function CPU µs per change by thread, %d clients, batches of %d: %s%n", clients, batch,
                        threads.entrySet().stream().filter(e -> e.getValue() > 0)
                                .sorted(java.util.Map.Entry.<String, Long>comparingByValue().reversed())
                                .map(e -> e.getKey() + " " + String.format("%.1f", e.getValue() / (double) changes.size()))
                                .toList());
            }
            double requestsPerTransaction = noop ? 0 : metric(http, "replicator_group_requests_sum")
                    / metric(http, "replicator_group_requests_count"); // over all passes
            sampler.cancel(true);
            pool.shutdownNow();
            Collections.sort(latencies);
            double rate = changes.size() / seconds;
            rates.put(clients, rate);
            String writer = noop ? "no-op function (replicator.ping.v1, no database), single events, " + clients
                    + " clients" : batch == 1 ? "replicator, single events, " + clients + " clients"
                    : "replicator, batches of " + batch + ", " + clients + " clients";
            return String.format("| %s | %,.0f | %.0f%% | %.1f | %.1f | %d | %.1f | %.1f | %.1f | %.1f |", writer, rate,
                    100 * rate / limitRate, latencies.get(latencies.size() / 2) / 1e6,
                    latencies.get((int) (latencies.size() * 0.99)) / 1e6, peakRss.get() / 1024, requestsPerTransaction,
                    used.function() / (double) changes.size(), used.postgres() / (double) changes.size(),
                    used.client() / (double) changes.size());
        } finally {
            http.close();
            process.destroy();
            process.waitFor();
        }
    }

    /** Posts the payloads from the given number of concurrent clients, recording each request's latency. */
    static void post(ExecutorService pool, LeanHttp http, List<Payload> payloads, int clients,
            List<Long> latencies) throws Exception {
        ConcurrentLinkedQueue<Payload> queue = new ConcurrentLinkedQueue<>(payloads);
        List<Future<?>> senders = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            senders.add(pool.submit(() -> {
                Payload payload;
                while ((payload = queue.poll()) != null) {
                    long sent = System.nanoTime();
                    send(http, payload.request());
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
    static int send(LeanHttp http, byte[] request) throws Exception {
        for (int retries = 0;; retries++) {
            LeanHttp.Response response = http.send(request);
            if (response.status() / 100 == 2) {
                return retries;
            }
            if ((response.status() != 503 && response.status() != 409) || retries >= 100) {
                throw new IllegalStateException(response.status() + " " + response.body());
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
        DataSource target = database();
        reset(target);
        int port = freePort();
        Process process = start(port, "soak");
        LeanHttp http = new LeanHttp(port);
        int clients = 32;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            waitUntilReady(http);
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
                        retried.addAndGet(send(http, single(change).request()));
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
            http.close();
            process.destroy();
            process.waitFor();
        }
    }

    /**
     * How long {@code GET /status} takes while single events from 32 clients keep the function busy (as in
     * {@link #soak}) for {@code -Dbench.status-load} (PT60S): polled every 100 ms, each time followed by
     * {@code /q/health/live} (no database: the floor on this machine under this load); the first quarter warms up and
     * is not counted. Prints the latency percentiles under load, the floor's, and idle, after the load. Run it alone with
     * {@code -Dit.test=ThroughputBenchmarkIT#statusLatencyUnderLoad}.
     */
    @Test
    void statusLatencyUnderLoad() throws Exception {
        java.time.Duration duration = java.time.Duration.parse(System.getProperty("bench.status-load", "PT60S"));
        DataSource target = database();
        reset(target);
        int port = freePort();
        Process process = start(port, "status");
        LeanHttp http = new LeanHttp(port);
        LeanHttp statusHttp = new LeanHttp(port);
        int clients = 32;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            waitUntilReady(http);
            AtomicLong positions = new AtomicLong();
            long start = System.nanoTime();
            long end = start + duration.toNanos();
            long counted = start + duration.toNanos() / 4;
            List<Future<?>> senders = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                senders.add(pool.submit(() -> {
                    Random random = new Random();
                    while (System.nanoTime() < end) {
                        long position = positions.incrementAndGet();
                        int id = 1 + random.nextInt(30_000);
                        send(http, single(new Change((int) (position % 3), "upsert", id, position, "s" + position,
                                (int) (position % 100))).request());
                    }
                    return null;
                }));
            }
            List<Long> loaded = new ArrayList<>();
            List<Long> live = new ArrayList<>(); // the floor: an answer that touches no database, under the same load
            int unanswered = 0;
            long changesAtCount = 0;
            String last = null;
            while (System.nanoTime() < end) {
                long sent = System.nanoTime();
                LeanHttp.Response answer = statusHttp.send(LeanHttp.get("/status"));
                long took = System.nanoTime() - sent;
                if (answer.status() != 200) {
                    throw new IllegalStateException("/status answered " + answer.status() + ": " + answer.body());
                }
                Thread.sleep(50);
                long liveSent = System.nanoTime();
                statusHttp.send(LeanHttp.get("/q/health/live"));
                long liveTook = System.nanoTime() - liveSent;
                if (sent >= counted) {
                    if (loaded.isEmpty()) {
                        changesAtCount = positions.get();
                    }
                    loaded.add(took);
                    live.add(liveTook);
                }
                last = answer.body();
                if (last.contains("\"reachable\":false") && unanswered++ == 0) {
                    System.out.println("a database did not answer /status in time: " + last);
                }
                Thread.sleep(50);
            }
            String pools = http.send(LeanHttp.get("/q/metrics")).body().lines()
                    .filter(l -> l.startsWith("agroal_") && (l.contains("active") || l.contains("awaiting")
                            || l.contains("max_used") || l.contains("blocking_time")))
                    .collect(java.util.stream.Collectors.joining("; "));
            double loadSeconds = (System.nanoTime() - counted) / 1e9;
            long changes = positions.get() - changesAtCount;
            for (Future<?> sender : senders) {
                sender.get();
            }
            List<Long> idle = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                long sent = System.nanoTime();
                statusHttp.send(LeanHttp.get("/status"));
                idle.add(System.nanoTime() - sent);
                Thread.sleep(20);
            }
            System.out.printf("%nGET /status while single events from %d clients load the function (%,.0f changes/s),"
                    + " %d cores, %s%n", clients, changes / loadSeconds, Runtime.getRuntime().availableProcessors(),
                    Runtime.version());
            System.out.println("| when | requests | p50 ms | p90 ms | p99 ms | max ms |");
            System.out.println("| --- | --- | --- | --- | --- | --- |");
            System.out.println(percentiles("under load", loaded));
            System.out.println(percentiles("under load: /q/health/live, which reads no database", live));
            System.out.println(percentiles("idle, after the load", idle));
            System.out.println("status answers where a database did not answer within 2 s: " + unanswered);
            System.out.println("connection pools at the end of the load: " + pools);
            System.out.println("last status under load: " + last);
            System.out.println();
        } finally {
            pool.shutdownNow();
            http.close();
            statusHttp.close();
            process.destroy();
            process.waitFor();
        }
    }

    static String percentiles(String when, List<Long> nanos) {
        List<Long> sorted = new ArrayList<>(nanos);
        Collections.sort(sorted);
        java.util.function.DoubleFunction<Double> at = q -> sorted.get(Math.min(sorted.size() - 1,
                (int) (sorted.size() * q))) / 1e6;
        return String.format("| %s | %d | %.1f | %.1f | %.1f | %.1f |", when, sorted.size(), at.apply(0.5),
                at.apply(0.9), at.apply(0.99), sorted.get(sorted.size() - 1) / 1e6);
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
                "-Dquarkus.datasource.target.jdbc.url=" + jdbcUrl(),
                "-Dquarkus.datasource.target.username=postgres",
                "-Dquarkus.datasource.source.jdbc.url=" + jdbcUrl(),
                "-Dquarkus.datasource.source.username=postgres",
                "-Dreplicator.allow-all-tables=true", "-Dquarkus.log.level=WARN", "-jar", "quarkus-run.jar"));
        return new ProcessBuilder(command).directory(new File("target/quarkus-app")).redirectErrorStream(true)
                .redirectOutput(new File("target/bench-throughput.log")).start();
    }

    /**
     * A fresh benchmark database: on the embedded PostgreSQL, or with {@code -Dbench.postgres=port} on a local server
     * of your own (user postgres, no password), for example one with your production settings. With
     * {@code -Dbench.postgres-rtt=PT0.0005S} the limit and the function reach it through a proxy that adds that round
     * trip time, as a database across a network would.
     */
    static DataSource database() {
        String server = System.getProperty("bench.postgres", "");
        if (!server.isBlank()) {
            org.postgresql.ds.PGSimpleDataSource admin = new org.postgresql.ds.PGSimpleDataSource();
            admin.setURL("jdbc:postgresql://localhost:" + server + "/postgres");
            admin.setUser("postgres");
            TestDatabases.execute(admin, "DROP DATABASE IF EXISTS " + DB + " WITH (FORCE)");
            TestDatabases.execute(admin, "CREATE DATABASE " + DB);
        } else {
            TestDatabases.freshDatabase(TestDatabases.target(), DB);
        }
        org.postgresql.ds.PGSimpleDataSource bench = new org.postgresql.ds.PGSimpleDataSource();
        bench.setURL(jdbcUrl());
        bench.setUser("postgres");
        Cpu.postmaster = postmaster(bench);
        return bench;
    }

    /** The server's postmaster: the parent of a backend. */
    private static long postmaster(DataSource bench) {
        try (java.sql.Connection connection = bench.getConnection();
                java.sql.ResultSet rs = connection.createStatement().executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return Cpu.parent(Cpu.stat(rs.getLong(1)));
        } catch (java.sql.SQLException | RuntimeException e) {
            return 0; // not on this machine: every PostgreSQL process counts
        }
    }

    private static DelayingProxy proxy;

    static synchronized String jdbcUrl() {
        String server = System.getProperty("bench.postgres", "");
        int port = server.isBlank() ? TestDatabases.target().getPort() : Integer.parseInt(server.trim());
        String rtt = System.getProperty("bench.postgres-rtt", "");
        if (!rtt.isBlank()) {
            try {
                if (proxy == null) {
                    proxy = new DelayingProxy(port, java.time.Duration.parse(rtt));
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            port = proxy.port();
        }
        return "jdbc:postgresql://localhost:" + port + "/" + DB;
    }

    /** A value from the function's Prometheus endpoint (the first series of that name). */
    static double metric(LeanHttp http, String name) throws Exception {
        String text = http.send(LeanHttp.get("/q/metrics")).body();
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return Double.NaN;
    }

    static void waitUntilReady(LeanHttp http) throws Exception {
        for (int i = 0; i < 600; i++) {
            try {
                if (http.send(LeanHttp.get("/q/health/ready")).status() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("the application did not become ready; see target/bench-throughput.log");
    }

    /**
     * CPU time in microseconds (user + system) of the function process, of the benchmark's PostgreSQL server (its
     * postmaster and the processes it started; other servers on the machine are left out) and of this benchmark's
     * own process (the clients), read from /proc: where the machine's time goes.
     */
    record Cpu(long function, long postgres, long client) {
        /** The benchmark server's postmaster, or 0 to count every PostgreSQL process. */
        static volatile long postmaster;

        static Cpu now(long functionPid) {
            long postgres = 0;
            File[] processes = new File("/proc").listFiles((dir, name) -> name.chars().allMatch(Character::isDigit));
            for (File process : processes == null ? new File[0] : processes) {
                long pid = Long.parseLong(process.getName());
                String stat = stat(pid);
                if (stat.isEmpty()) {
                    continue; // the process ended while /proc was listed
                }
                boolean ours = postmaster == 0 || pid == postmaster || parent(stat) == postmaster;
                if (ours && stat.contains("(postgres)")) {
                    postgres += micros(stat);
                }
            }
            return new Cpu(functionPid == 0 ? 0 : micros(stat(functionPid)), postgres,
                    micros(stat(ProcessHandle.current().pid())));
        }

        /** CPU time per thread of the process, summed over threads whose names differ only in digits. */
        static java.util.Map<String, Long> threads(long pid) {
            java.util.Map<String, Long> byName = new java.util.HashMap<>();
            File[] tasks = new File("/proc/" + pid + "/task").listFiles();
            for (File task : tasks == null ? new File[0] : tasks) {
                String stat = stat(pid + "/task/" + task.getName());
                if (!stat.isEmpty()) {
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replaceAll("\\d+", "N");
                    byName.merge(name, micros(stat), Long::sum);
                }
            }
            return byName;
        }

        Cpu plus(Cpu other) {
            return new Cpu(function + other.function, postgres + other.postgres, client + other.client);
        }

        Cpu minus(Cpu earlier) {
            return new Cpu(function - earlier.function, postgres - earlier.postgres, client - earlier.client);
        }

        /** The parent's pid from a /proc/PID/stat line: the field after the state, past the command's parentheses. */
        static long parent(String stat) {
            return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]);
        }

        static String stat(long pid) {
            return stat(String.valueOf(pid));
        }

        private static String stat(String pid) {
            try {
                return Files.readString(Path.of("/proc/" + pid + "/stat"));
            } catch (IOException e) {
                return ""; // the process is gone
            }
        }

        /**
         * utime + stime + cutime + cstime (fields 14 to 17) in microseconds, at 100 ticks per second; the children's
         * times count the PostgreSQL backends that have already exited.
         */
        private static long micros(String stat) {
            if (stat.isEmpty()) {
                return 0;
            }
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = 0;
            for (int field = 11; field <= 14; field++) {
                ticks += Long.parseLong(fields[field]);
            }
            return ticks * 10_000;
        }
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
