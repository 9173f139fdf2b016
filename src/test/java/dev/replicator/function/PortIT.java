package dev.replicator.function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

import org.junit.jupiter.api.Test;

import dev.replicator.testing.PackagedApp;
import dev.replicator.testing.TestDatabases;

/**
 * Cloud Run and Knative tell the container which port to listen on through {@code PORT}: the packaged application,
 * started without any port setting of its own, listens there.
 */
class PortIT {

    @Test
    void listensOnThePortTheEnvironmentNames() throws Exception {
        int port = PackagedApp.freePort();
        String url = TestDatabases.jdbcUrl(TestDatabases.target(), "postgres");
        Map<String, String> env = Map.of("PORT", Integer.toString(port),
                "QUARKUS_DATASOURCE_TARGET_JDBC_URL", url, "QUARKUS_DATASOURCE_TARGET_USERNAME", "postgres",
                "QUARKUS_DATASOURCE_SOURCE_JDBC_URL", url, "QUARKUS_DATASOURCE_SOURCE_USERNAME", "postgres",
                "REPLICATOR_ALLOW_ALL_TABLES", "true");
        Path log = Files.createDirectories(Path.of("target")).resolve("port-it.log");
        try (PackagedApp app = PackagedApp.start(List.of(), Map.of(), env, log)) {
            HttpClient client = HttpClient.newHttpClient();
            HttpRequest live = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/q/health/live"))
                    .timeout(Duration.ofSeconds(5)).build();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            int status = -1;
            while (status != 200 && System.nanoTime() < deadline && app.isAlive()) {
                try {
                    status = client.send(live, HttpResponse.BodyHandlers.discarding()).statusCode();
                } catch (IOException notYetListening) {
                    Thread.sleep(100);
                }
            }
            assertEquals(200, status, "no answer on PORT " + port + "; see " + log);
            // the start-up line may reach the log file a moment after the first answer
            String listening = "Listening on: http://0.0.0.0:" + port;
            long lineDeadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!Files.readString(log).contains(listening) && System.nanoTime() < lineDeadline) {
                Thread.sleep(50);
            }
            assertTrue(Files.readString(log).contains(listening), "the start-up line names another port; see " + log);
        }
    }
}
