package dev.replicator.function;

import io.quarkus.test.junit.QuarkusIntegrationTest;

/** The bad-input cases against the packaged application (the jar, or the native binary with -Dnative). */
@QuarkusIntegrationTest
class BadInputHttpIT extends BadInputHttpTest {
}
