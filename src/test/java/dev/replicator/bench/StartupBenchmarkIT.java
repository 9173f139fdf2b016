package dev.replicator.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import dev.replicator.testing.PackagedApp;
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
            int port = PackagedApp.freePort();
            String options = System.getProperty("bench.java-options", "");
            List<String> jvmOptions = options.isBlank() ? List.of() : List.of(options.trim().split("\\s+"));
            String url = TestDatabases.jdbcUrl(TestDatabases.target(), "bench_startup");
            Map<String, String> properties = Map.of("quarkus.http.port", Integer.toString(port),
                    "quarkus.datasource.target.jdbc.url", url, "quarkus.datasource.target.username", "postgres",
                    "quarkus.datasource.source.jdbc.url", url, "quarkus.datasource.source.username", "postgres",
                    "replicator.allow-all-tables", "true", "quarkus.log.level", "WARN");
            long start = System.nanoTime();
            Path log = Path.of("target/bench-startup-" + run + ".log");
            try (PackagedApp app = PackagedApp.start(jvmOptions, properties, Map.of(), log)) {
                int n = 0;
                while (post(client, port, n) != 204) {
                    Thread.sleep(5);
                    if (System.nanoTime() - start > 60_000_000_000L) {
                        throw new IllegalStateException("no answer within 60 s, see " + log);
                    }
                }
                firstEventMillis.add((System.nanoTime() - start) / 1e6);
                rssAfterFirst.add(app.rssKb());
                for (n = 1; n <= 2000; n++) {
                    post(client, port, n);
                }
                rssAfterLoad.add(app.rssKb());
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
}
