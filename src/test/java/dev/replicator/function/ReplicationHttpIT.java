package dev.replicator.function;

import io.quarkus.test.junit.QuarkusIntegrationTest;

/** The HTTP contract against the packaged application (the jar, or the native binary with -Dnative). */
@QuarkusIntegrationTest
class ReplicationHttpIT extends ReplicationHttpTest {
}
