package dev.replicator.observe;

import java.sql.SQLException;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import dev.replicator.apply.TargetTransactions;
import dev.replicator.decode.TableId;
import dev.replicator.route.TableMappings;
import dev.replicator.route.TargetCatalog;

/** Not ready while a configured target table is missing: every change for it would be rejected. */
@Readiness
@ApplicationScoped
public class MappedTablesCheck implements HealthCheck {

    @Inject
    TableMappings mappings;

    @Inject
    TargetCatalog catalog;

    @Override
    public HealthCheckResponse call() {
        List<TableId> targets = mappings.configured().values().stream().map(TableMappings.Mapping::target).toList();
        try {
            List<TableId> missing = catalog.missing(targets);
            return HealthCheckResponse.named("replicated tables")
                    .status(missing.isEmpty())
                    .withData("tables", targets.size())
                    .withData("missing", missing.isEmpty() ? "none" : missing.toString())
                    .build();
        } catch (SQLException e) {
            return HealthCheckResponse.named("replicated tables").down()
                    .withData("error", TargetTransactions.withoutValues(e)).build();
        }
    }
}
