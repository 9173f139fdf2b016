package dev.replicator.function;

import io.quarkus.test.junit.QuarkusIntegrationTest;

/** Convergence under shuffled, duplicated, concurrent delivery, against the packaged application. */
@QuarkusIntegrationTest
class ConvergenceIT extends ConvergenceTest {
}
