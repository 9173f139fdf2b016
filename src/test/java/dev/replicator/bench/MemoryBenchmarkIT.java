package dev.replicator.bench;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import dev.replicator.testing.TestDatabases;

/**
 * Peak memory of the packaged application under the worst load the defaults let in: {@code -Dbench.clients} (12)
 * clients each posting a batch as large as {@code quarkus.http.limits.max-body-size} allows (plain Debezium
 * envelopes without schema, about 270 bytes per change), for {@code -Dbench.rounds} (5) rounds, retrying a 503 after
 * its Retry-After as a broker would. The JVM runs as the container's run-java runs it with a 512 MiB limit:
 * {@code -Xmx256m -XX:+UseParallelGC -XX:+ExitOnOutOfMemoryError} ({@code -Dbench.java-options} to change). Prints
 * the peak RSS (VmHWM) and the answers by status. Runs only when asked:
 * {@code ./mvnw verify -Dbench -Dit.test=MemoryBenchmarkIT -Dtest=NoSuchTest -Dsurefire.failIfNoSpecifiedTests=false}
 * ({@code -Dbench.app-args="-Dreplicator.admission.max-bytes-in-flight=64M"} to try other settings).
 */
@EnabledIfSystemProperty(named = "bench", matches = ".*")
class MemoryBenchmarkIT {

    static final String DB = "bench_memory";
    static final int CLIENTS = Integer.getInteger("bench.clients", 12);
    static final int ROUNDS = Integer.getInteger("bench.rounds", 5);
    /** The default of quarkus.http.limits.max-body-size. */
    static final long BODY_LIMIT = Long.getLong("bench.body-bytes", 8L * 1024 * 1024);
    static final String JAVA_OPTIONS = System.getProperty("bench.java-options",
            "-Xmx256m -XX:+UseParallelGC -XX:+ExitOnOutOfMemoryError");

    @Test
    void peakMemoryUnderConcurrentMaximumBatches() throws Exception {
        DataSource target = TestDatabases.freshDatabase(TestDatabases.target(), DB);
        TestDatabases.execute(target, "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int,"
                + " updated_at timestamptz)");
        int port = ThroughputBenchmarkIT.freePort();
        Process process = start(port);
        long pid = process.pid();
        AtomicLong peakRss = new AtomicLong();
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger busy = new AtomicInteger();
        AtomicInteger other = new AtomicInteger();
        List<String> others = new java.util.concurrent.CopyOnWriteArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS + 1);
        try (LeanHttp http = new LeanHttp(port)) {
            ThroughputBenchmarkIT.waitUntilReady(http);
            long idleRss = ThroughputBenchmarkIT.rssKb(pid);
            Future<?> sampler = pool.submit(() -> {
                while (!Thread.currentThread().isInterrupted() && process.isAlive()) {
                    peakRss.accumulateAndGet(ThroughputBenchmarkIT.rssKb(pid), Math::max);
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            int[] changes = new int[1];
            long[] bytes = new long[1];
            long started = System.nanoTime();
            for (int round = 0; round < ROUNDS; round++) {
                List<Future<?>> clients = new ArrayList<>();
                for (int client = 0; client < CLIENTS; client++) {
                    int c = client;
                    int r = round;
                    clients.add(pool.submit(() -> {
                        String body = batch(c, r, changes);
                        bytes[0] = body.length();
                        byte[] request = LeanHttp.post("/", Map.of("Content-Type", "application/json"), body);
                        body = null;
                        while (true) {
                            LeanHttp.Response response = http.send(request);
                            if (response.status() == 200) {
                                ok.incrementAndGet();
                                return null;
                            }
                            if (response.status() != 503) {
                                other.incrementAndGet();
                                others.add(response.status() + " " + response.body());
                                return null;
                            }
                            busy.incrementAndGet();
                            Thread.sleep(1000); // Retry-After: 1
                        }
                    }));
                }
                for (Future<?> client : clients) {
                    client.get();
                }
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            sampler.cancel(true);
            long hwm = status(pid, "VmHWM:");
            long rssAfter = status(pid, "VmRSS:");
            String rows = TestDatabases.copy(target, "SELECT count(*) FROM items");
            System.out.printf("%nmemory benchmark (%s; %s; JVM options '%s'; app args '%s')%n", Runtime.version(),
                    "embedded PostgreSQL", JAVA_OPTIONS, System.getProperty("bench.app-args", ""));
            System.out.printf("  %d clients x %d rounds, each a batch of %,d changes in %,d bytes%n", CLIENTS, ROUNDS,
                    changes[0], bytes[0]);
            System.out.printf("  answers: %d x 200, %d x 503 (retried after 1 s), %d other%s%n", ok.get(), busy.get(),
                    other.get(), others.isEmpty() ? "" : ": " + others.get(0));
            System.out.printf("  RSS MiB: idle %d, peak sampled %d, VmHWM %d, after %d; %.1f s, %s rows; process %s%n%n",
                    idleRss / 1024, peakRss.get() / 1024, hwm / 1024, rssAfter / 1024, seconds, rows.trim(),
                    process.isAlive() ? "alive" : "EXITED (" + process.exitValue() + ")");
        } finally {
            pool.shutdownNow();
            process.destroy();
            process.waitFor();
        }
    }

    /**
     * A batch of plain Debezium envelopes (schemas off) as large as the body limit allows: client c's own rows,
     * positions growing with the round so every round writes.
     */
    static String batch(int client, int round, int[] count) {
        StringBuilder body = new StringBuilder((int) BODY_LIMIT).append('[');
        long limit = BODY_LIMIT - 1024;
        int n = 0;
        while (body.length() < limit) {
            long lsn = 1_000_000_000L * (round + 1) + 100_000L * client + n;
            long id = 1_000_000L * client + n;
            if (n > 0) {
                body.append(',');
            }
            body.append("{\"before\":null,\"after\":{\"id\":").append(id).append(",\"name\":\"item ").append(id)
                    .append(" of client ").append(client).append("\",\"qty\":").append(n % 1000)
                    .append(",\"updated_at\":\"2026-11-27T01:02:03.").append(100000 + n % 900000)
                    .append("Z\"},\"source\":{\"version\":\"3.6.0.Final\",\"connector\":\"postgresql\",\"name\":\"app\",")
                    .append("\"ts_ms\":1795487030337,\"snapshot\":\"false\",\"db\":\"app\",\"sequence\":\"[\\\"")
                    .append(lsn).append("\\\",\\\"").append(lsn).append("\\\"]\",\"schema\":\"public\",")
                    .append("\"table\":\"items\",\"txId\":751,\"lsn\":").append(lsn)
                    .append("},\"op\":\"c\",\"ts_ms\":1795487030900}");
            n++;
        }
        count[0] = n;
        return body.append(']').toString();
    }

    static Process start(int port) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString()));
        command.addAll(List.of(JAVA_OPTIONS.trim().split("\\s+")));
        String appArgs = System.getProperty("bench.app-args", "").trim();
        if (!appArgs.isEmpty()) {
            command.addAll(List.of(appArgs.split("\\s+")));
        }
        String url = TestDatabases.jdbcUrl(TestDatabases.target(), DB);
        command.addAll(List.of("-Dquarkus.http.port=" + port, "-Dquarkus.datasource.target.jdbc.url=" + url,
                "-Dquarkus.datasource.target.username=postgres", "-Dquarkus.datasource.source.jdbc.url=" + url,
                "-Dquarkus.datasource.source.username=postgres", "-Dreplicator.allow-all-tables=true",
                "-Dquarkus.log.level=WARN", "-jar", "quarkus-run.jar"));
        return new ProcessBuilder(command).directory(new File("target/quarkus-app")).redirectErrorStream(true)
                .redirectOutput(new File("target/bench-memory.log")).start();
    }

    private static long status(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return 0;
    }
}
