package dev.replicator.function;

import io.quarkus.test.junit.QuarkusIntegrationTest;

/** Schema evolution through the packaged application (the jar, or the native binary with -Dnative). */
@QuarkusIntegrationTest
class SchemaEvolutionHttpIT extends SchemaEvolutionHttpTest {
}
