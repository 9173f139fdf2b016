package dev.replicator.function;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;

import dev.replicator.testing.PackagedApp;
import dev.replicator.testing.TestDatabases;

/**
 * Two instances of the packaged application on one target, one in UTC and one in New York (as two regions, or one
 * redeployed with another {@code TZ}), with a {@code timestamptz} in the primary key: they fence each other, and a
 * backfill run by the one outside UTC neither brings back a row the stream deleted nor overwrites one it updated.
 */
class RowIdentityIT {

    private static final String DATABASE = "row_identity_it";
    private static final String KEY_1 = "2024-03-10 06:30:00+00";
    private static final String KEY_2 = "2024-03-10 07:30:00+00";
    private static final String KEY_3 = "2024-03-10 08:30:00+00";

    private final HttpClient client = HttpClient.newHttpClient();

    @Test
    void instancesInDifferentTimeZonesFenceEachOther() throws Exception {
        DataSource target = databases();
        try (Instance utc = new Instance("UTC"); Instance newYork = new Instance("America/New_York")) {
            assertEquals(204, utc.change(upsert(KEY_1, "new", 20)));
            assertEquals(204, newYork.change(upsert(KEY_1, "old", 10)));
            assertEquals(KEY_1 + "\tnew\n", TestDatabases.copy(target, "SELECT * FROM stamps"),
                    "an older upsert sent to the other instance is stale");

            assertEquals(204, newYork.change(delete(KEY_1, 30)));
            assertEquals(204, utc.change(upsert(KEY_1, "older", 25)));
            assertEquals("", TestDatabases.copy(target, "SELECT * FROM stamps"),
                    "an older upsert does not bring back a row a newer delete removed");
        }
    }

    @Test
    void aBackfillOutsideUtcLeavesWhatTheStreamWroteAndDeleted() throws Exception {
        DataSource target = databases();
        try (Instance newYork = new Instance("America/New_York")) {
            assertEquals(204, newYork.change(upsert(KEY_2, "streamed", 40)));
            assertEquals(204, newYork.change(delete(KEY_3, 41)));
            assertEquals(200, newYork.post("/backfill", "{\"tables\": [\"public.stamps\"]}"));
            assertEquals(KEY_1 + "\tsource\n" + KEY_2 + "\tstreamed\n", TestDatabases.copy(target,
                    "SELECT * FROM stamps ORDER BY k"), "the copy leaves what the stream wrote and deleted");
        }
    }

    /** A fresh target with the table, and a source whose table holds three rows; returns the target. */
    private static DataSource databases() {
        DataSource source = TestDatabases.freshDatabase(TestDatabases.source(), DATABASE);
        DataSource target = TestDatabases.freshDatabase(TestDatabases.target(), DATABASE);
        String table = "CREATE TABLE stamps (k timestamptz PRIMARY KEY, v text)";
        TestDatabases.execute(source, table + "; INSERT INTO stamps VALUES ('" + KEY_1 + "', 'source'), ('" + KEY_2
                + "', 'source'), ('" + KEY_3 + "', 'source')");
        TestDatabases.execute(target, table);
        return target;
    }

    private static String upsert(String key, String value, long position) {
        return "{\"table\":\"public.stamps\",\"op\":\"upsert\",\"position\":" + position + ",\"after\":{\"k\":\"" + key
                + "\",\"v\":\"" + value + "\"}}";
    }

    private static String delete(String key, long position) {
        return "{\"table\":\"public.stamps\",\"op\":\"delete\",\"position\":" + position + ",\"key\":{\"k\":\"" + key
                + "\"}}";
    }

    /** The packaged application in a time zone of its own, on the test's source and target. */
    private final class Instance implements AutoCloseable {
        private final PackagedApp app;
        private final int port;

        Instance(String zone) throws Exception {
            port = PackagedApp.freePort();
            Map<String, String> env = Map.of("PORT", Integer.toString(port), "TZ", zone,
                    "QUARKUS_DATASOURCE_TARGET_JDBC_URL", TestDatabases.jdbcUrl(TestDatabases.target(), DATABASE),
                    "QUARKUS_DATASOURCE_TARGET_USERNAME", "postgres",
                    "QUARKUS_DATASOURCE_SOURCE_JDBC_URL", TestDatabases.jdbcUrl(TestDatabases.source(), DATABASE),
                    "QUARKUS_DATASOURCE_SOURCE_USERNAME", "postgres", "REPLICATOR_ALLOW_ALL_TABLES", "true");
            Path log = Files.createDirectories(Path.of("target")).resolve("row-identity-it-" + zone.replace('/', '-')
                    + ".log");
            app = PackagedApp.start(List.of("-Duser.timezone=" + zone), Map.of(), env, log);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            int status = -1;
            while (status != 200 && System.nanoTime() < deadline && app.isAlive()) {
                try {
                    status = client.send(HttpRequest.newBuilder(uri("/q/health/ready")).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode();
                } catch (IOException notYetListening) {
                    Thread.sleep(100);
                }
            }
            assertEquals(200, status, "not ready in " + zone + "; see " + log);
        }

        int change(String data) throws Exception {
            return client.send(HttpRequest.newBuilder(uri("/")).header("Content-Type", "application/json")
                    .header("ce-specversion", "1.0").header("ce-id", "e-" + System.nanoTime())
                    .header("ce-source", "/it").header("ce-type", "replicator.change.v1")
                    .POST(HttpRequest.BodyPublishers.ofString(data)).build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        }

        int post(String path, String body) throws Exception {
            return client.send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        }

        private URI uri(String path) {
            return URI.create("http://localhost:" + port + path);
        }

        @Override
        public void close() throws InterruptedException {
            app.close();
        }
    }
}
