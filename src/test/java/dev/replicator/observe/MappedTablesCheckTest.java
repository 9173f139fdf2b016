package dev.replicator.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import javax.sql.DataSource;

import org.eclipse.microprofile.health.HealthCheckResponse;
import org.junit.jupiter.api.Test;

import dev.replicator.route.TableMappings;
import dev.replicator.route.TargetCatalog;
import dev.replicator.testing.TestDatabases;

class MappedTablesCheckTest {

    @Test
    void notReadyWhileAMappedTargetTableIsMissing() {
        DataSource target = TestDatabases.freshDatabase(TestDatabases.target(), "readiness_test");
        TestDatabases.execute(target, "CREATE TABLE public.present (id int PRIMARY KEY)");
        MappedTablesCheck check = new MappedTablesCheck();
        check.catalog = new TargetCatalog(target);
        check.mappings = TableMappings.of(Map.of("public.present", Optional.empty(), "public.later",
                Optional.of("copy.later")), Map.of("public.present", List.of()), false);

        HealthCheckResponse down = check.call();
        assertEquals(HealthCheckResponse.Status.DOWN, down.getStatus());
        assertEquals("[copy.later]", down.getData().orElseThrow().get("missing"));

        TestDatabases.execute(target, "CREATE SCHEMA copy; CREATE TABLE copy.later (id int PRIMARY KEY)");
        assertEquals(HealthCheckResponse.Status.UP, check.call().getStatus());
    }
}
