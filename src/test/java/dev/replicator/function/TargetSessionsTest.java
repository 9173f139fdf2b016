package dev.replicator.function;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.ResultSet;

import javax.sql.DataSource;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

import dev.replicator.testing.PostgresResource;

/** The app's own target sessions, as its configuration sets them up. */
@QuarkusTest
@QuarkusTestResource(PostgresResource.class)
class TargetSessionsTest {

    @Inject
    @io.quarkus.agroal.DataSource("target")
    DataSource appTarget;

    /** The multi-row statements bind arrays: planned once per connection, not again on every call. */
    @Test
    void planTheirStatementsOnce() throws Exception {
        try (Connection connection = appTarget.getConnection();
                ResultSet rs = connection.createStatement().executeQuery("SHOW plan_cache_mode")) {
            rs.next();
            assertEquals("force_generic_plan", rs.getString(1));
        }
    }
}
