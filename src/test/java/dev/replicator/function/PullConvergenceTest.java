package dev.replicator.function;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;

/** {@link PullConvergence}, the slot streamed over the replication protocol ({@code replicator.pull.read=stream}). */
@QuarkusTest
@QuarkusTestResource(value = PullConvergence.Databases.class, restrictToAnnotatedClass = true, initArgs = {
        @ResourceArg(name = "database", value = PullConvergenceTest.DB),
        @ResourceArg(name = "read", value = "stream") })
class PullConvergenceTest extends PullConvergence {

    static final String DB = "pull_conv";

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
