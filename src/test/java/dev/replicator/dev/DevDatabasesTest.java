package dev.replicator.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;

import org.junit.jupiter.api.Test;

import dev.replicator.testing.TestDatabases;

/** What {@code ./mvnw quarkus:dev} starts before the application: two servers with the demo table, data kept. */
class DevDatabasesTest {

    @Test
    void startsSourceAndTargetWithTheDemoTableAndKeepsTheData() throws IOException, SQLException {
        DevDatabases dev = new DevDatabases();
        dev.sourcePort = freePort();
        dev.targetPort = freePort();
        dev.start(null);
        try {
            for (int port : new int[] { dev.sourcePort, dev.targetPort }) {
                org.postgresql.ds.PGSimpleDataSource ds = new org.postgresql.ds.PGSimpleDataSource();
                ds.setUrl("jdbc:postgresql://localhost:" + port + "/postgres");
                ds.setUser("postgres");
                assertEquals("", TestDatabases.copy(ds, "SELECT * FROM public.customers WHERE false"));
            }
        } finally {
            dev.stop(null);
        }
        assertEquals(true, Files.isDirectory(Path.of("target", "dev-postgres", "target", "base")),
                "the target's data stays under target/dev-postgres for the next start");
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
