package dev.replicator.testing;

import java.io.IOException;
import java.io.UncheckedIOException;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/** A PostgreSQL server whose WAL carries logical decoding (wal_level=logical), started once per JVM. */
public final class LogicalSource {

    private static EmbeddedPostgres server;

    private LogicalSource() {
    }

    public static synchronized EmbeddedPostgres server() {
        if (server == null) {
            server = start();
        }
        return server;
    }

    /** A separate server, for a benchmark that should not share one with tests. */
    public static EmbeddedPostgres start() {
        try {
            EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                    .setServerConfig("timezone", "UTC")
                    .setServerConfig("max_connections", "100")
                    .setServerConfig("wal_level", "logical")
                    // logical decoding reads only flushed WAL: a commit must be readable once it returns
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("max_replication_slots", "20")
                    .setServerConfig("max_wal_senders", "20")
                    .start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    postgres.close();
                } catch (IOException ignored) {
                    // the JVM is exiting
                }
            }));
            return postgres;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
