package dev.replicator.dev;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.quarkus.arc.profile.IfBuildProfile;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * Dev mode only ({@code ./mvnw quarkus:dev}): starts two local PostgreSQL servers, source and target, with data under
 * {@code target/dev-postgres/}, creates a demo table in both and prints a request that replicates a row.
 */
@Singleton
@IfBuildProfile("dev")
public class DevDatabases {

    private static final Logger LOG = Logger.getLogger(DevDatabases.class);
    private static final String DEMO_TABLE = """
            CREATE TABLE IF NOT EXISTS public.customers (
              id bigint PRIMARY KEY, name text NOT NULL, email text, balance numeric(12,2),
              tags text[], updated_at timestamptz)""";

    @ConfigProperty(name = "replicator.dev.source-port", defaultValue = "55432")
    int sourcePort;

    @ConfigProperty(name = "replicator.dev.target-port", defaultValue = "55433")
    int targetPort;

    private EmbeddedPostgres source;
    private EmbeddedPostgres target;

    void start(@Observes @Priority(0) StartupEvent event) throws IOException, SQLException {
        source = start("source", sourcePort);
        target = start("target", targetPort);
        LOG.infof("""

                Dev databases: source on port %d, target on port %d (user postgres, database postgres).
                Replicate a row:
                  curl -i localhost:8080/ -H 'Content-Type: application/json' -H 'ce-specversion: 1.0' \\
                    -H 'ce-id: demo-1' -H 'ce-source: /demo' -H 'ce-type: replicator.change.v1' \\
                    -d '{"table":"public.customers","op":"upsert","position":1,"after":{"id":1,"name":"Ada","tags":["math"]}}'
                Then look:  psql -h localhost -p %d -U postgres -c 'select * from customers'
                """, sourcePort, targetPort, targetPort);
    }

    private static EmbeddedPostgres start(String name, int port) throws IOException, SQLException {
        Path data = Path.of("target", "dev-postgres", name);
        Files.createDirectories(data);
        EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                .setPort(port)
                .setDataDirectory(data)
                .setCleanDataDirectory(false)
                .start();
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
                Statement statement = connection.createStatement()) {
            statement.execute(DEMO_TABLE);
        }
        return postgres;
    }

    void stop(@Observes ShutdownEvent event) throws IOException {
        if (source != null) {
            source.close();
        }
        if (target != null) {
            target.close();
        }
    }
}
