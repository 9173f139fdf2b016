package dev.replicator.function;

import io.quarkus.test.junit.QuarkusIntegrationTest;

/** Backfill, verify/repair and key-only events against the packaged application. */
@QuarkusIntegrationTest
class SourceJobsIT extends SourceJobsTest {
}
