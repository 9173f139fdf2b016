package dev.replicator.testing;

import java.util.Map;

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
        return TestDatabases.start(Map.of("max_connections", "100", "wal_level", "logical",
                // logical decoding reads only flushed WAL: a commit must be readable once it returns
                "synchronous_commit", "on", "max_replication_slots", "100", "max_wal_senders", "100"));
    }
}
