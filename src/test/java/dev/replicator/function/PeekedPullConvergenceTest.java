package dev.replicator.function;

import java.util.Map;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;

/** {@link PullConvergence} with the slot peeked through the SQL interface ({@code replicator.pull.read=peek}). */
@QuarkusTest
@QuarkusTestResource(value = PeekedPullConvergenceTest.Databases.class, restrictToAnnotatedClass = true)
class PeekedPullConvergenceTest extends PullConvergence {

    static final String DB = "pull_conv_peek";

    public static class Databases implements QuarkusTestResourceLifecycleManager {
        @Override
        public Map<String, String> start() {
            return databases(DB, "peek");
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

    /** Every session of the app on the source: a peek, a confirmation, or a pooled connection the next one takes. */
    @Override
    String pullSessions() {
        return "SELECT pid FROM pg_stat_activity WHERE datname = '" + DB + "' AND application_name = 'replicator'";
    }
}
