package dev.replicator.function;

import java.util.Map;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;

/** {@link PullConvergence}, the slot streamed over the replication protocol ({@code replicator.pull.read=stream}). */
@QuarkusTest
@QuarkusTestResource(value = PullConvergenceTest.Databases.class, restrictToAnnotatedClass = true)
class PullConvergenceTest extends PullConvergence {

    static final String DB = "pull_conv";

    public static class Databases implements QuarkusTestResourceLifecycleManager {
        @Override
        public Map<String, String> start() {
            return databases(DB, "stream");
        }

        @Override
        public void stop() {
            // the servers live as long as the test JVM
        }
    }

    @Override
    String database() {
        return DB;
    }

    /** The WAL sender that streams the slot. */
    @Override
    String pullSessions() {
        return "SELECT active_pid FROM pg_replication_slots WHERE slot_name = '" + DB + "' AND active_pid IS NOT NULL";
    }
}
