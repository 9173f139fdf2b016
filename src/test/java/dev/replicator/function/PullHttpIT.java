package dev.replicator.function;

import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * The pull through the packaged application (the jar, or the native binary with -Dnative). With
 * {@code -Dquarkus.package.jar.aot.enabled=true} it is also part of the training run of the JVM's AOT cache, so a
 * cache built from this suite has seen a pull.
 */
@QuarkusIntegrationTest
class PullHttpIT extends PullHttpTest {
}
