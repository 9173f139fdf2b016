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
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import dev.replicator.testing.TestDatabases;

/**
 * Prints how long the packaged application takes from process start to its first replicated change, and its
 * resident memory then and after 2,000 more changes. Runs only when asked:
 * {@code ./mvnw verify -Dbench -Dit.test=StartupBenchmarkIT} (add {@code -Dbench.java-options=...} to compare JVM
 * options, e.g. {@code -XX:SharedArchiveFile=app-cds.jsa} after packaging with
 * {@code -Dquarkus.package.jar.aot.enabled=true}; the process runs in {@code target/quarkus-app}).
 */
@EnabledIfSystemProperty(named = "bench", matches = ".*")
class StartupBenchmarkIT {

    static final int RUNS = 5;

    @Test
    void startupAndMemory() throws Exception {
        DataSource target = TestDatabases.freshDatabase(TestDatabases.target(), "bench_startup");
        TestDatabases.execute(target, "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2))");
        List<Double> firstEventMillis = new ArrayList<>();
        List<Long> rssAfterFirst = new ArrayList<>();
        List<Long> rssAfterLoad = new ArrayList<>();
        HttpClient client = HttpClient.newHttpClient();
        for (int run = 0; run < RUNS; run++) {
            TestDatabases.execute(target, "DROP SCHEMA IF EXISTS replicator CASCADE; TRUNCATE items");
            int port = freePort();
            List<String> command = new ArrayList<>(List.of(javaBinary()));
            String options = System.getProperty("bench.java-options", "");
            if (!options.isBlank()) {
                command.addAll(List.of(options.trim().split("\\s+")));
            }
            command.addAll(List.of("-Dquarkus.http.port=" + port,
                    "-Dquarkus.datasource.target.jdbc.url=" + TestDatabases.jdbcUrl(TestDatabases.target(), "bench_startup"),
                    "-Dquarkus.datasource.target.username=postgres",
                    "-Dquarkus.datasource.source.jdbc.url=" + TestDatabases.jdbcUrl(TestDatabases.target(), "bench_startup"),
                    "-Dquarkus.datasource.source.username=postgres",
                    "-Dreplicator.allow-all-tables=true", "-Dquarkus.log.level=WARN",
                    "-jar", "quarkus-run.jar"));
            long start = System.nanoTime();
            // from the application's folder, as the container runs it (an AppCDS archive records relative paths)
            Process process = new ProcessBuilder(command).directory(new File("target/quarkus-app"))
                    .redirectErrorStream(true).redirectOutput(new File("target/bench-startup-" + run + ".log")).start();
            try {
                int n = 0;
                while (post(client, port, n) != 204) {
                    Thread.sleep(5);
                    if (System.nanoTime() - start > 60_000_000_000L) {
                        throw new IllegalStateException("no answer within 60 s, see target/bench-startup-" + run + ".log");
                    }
                }
                firstEventMillis.add((System.nanoTime() - start) / 1e6);
                rssAfterFirst.add(rssKb(process.pid()));
                for (n = 1; n <= 2000; n++) {
                    post(client, port, n);
                }
                rssAfterLoad.add(rssKb(process.pid()));
            } finally {
                process.destroy();
                process.waitFor();
            }
        }
        Collections.sort(firstEventMillis);
        Collections.sort(rssAfterFirst);
        Collections.sort(rssAfterLoad);
        System.out.printf("%nstartup benchmark (%d runs, JVM options: '%s', %s)%n", RUNS,
                System.getProperty("bench.java-options", ""), Runtime.version());
        System.out.printf("  process start -> first change committed: median %.0f ms (min %.0f, max %.0f)%n",
                firstEventMillis.get(RUNS / 2), firstEventMillis.get(0), firstEventMillis.get(RUNS - 1));
        System.out.printf("  RSS after first change: median %d MiB; after 2,000 more: median %d MiB%n%n",
                rssAfterFirst.get(RUNS / 2) / 1024, rssAfterLoad.get(RUNS / 2) / 1024);
    }

    private static int post(HttpClient client, int port, int n) {
        String body = "{\"table\":\"public.items\",\"op\":\"upsert\",\"position\":" + (n + 1)
                + ",\"after\":{\"id\":" + (n % 100) + ",\"name\":\"item " + n + "\",\"price\":\"" + n + ".50\"}}";
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/"))
                .header("Content-Type", "application/json").header("ce-id", "b-" + n).header("ce-specversion", "1.0")
                .header("ce-source", "/bench").header("ce-type", "replicator.change.v1")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        try {
            return client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static long rssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return -1;
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
