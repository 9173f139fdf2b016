package dev.replicator.function;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;

/** {@link PullConvergence} with the slot peeked through the SQL interface ({@code replicator.pull.read=peek}). */
@QuarkusTest
@QuarkusTestResource(value = PullConvergence.Databases.class, restrictToAnnotatedClass = true, initArgs = {
        @ResourceArg(name = "database", value = PeekedPullConvergenceTest.DB),
        @ResourceArg(name = "read", value = "peek") })
class PeekedPullConvergenceTest extends PullConvergence {

    static final String DB = "pull_conv_peek";

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
