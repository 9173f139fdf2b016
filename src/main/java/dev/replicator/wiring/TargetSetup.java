package dev.replicator.wiring;

import java.sql.SQLException;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import io.quarkus.runtime.StartupEvent;

import dev.replicator.apply.TargetSchema;
import dev.replicator.apply.TargetTransactions;

/** Prepares the target at start-up without making start-up depend on it: a target that is down is retried later. */
@Singleton
public class TargetSetup {

    private static final Logger LOG = Logger.getLogger(TargetSetup.class);

    void onStart(@Observes StartupEvent event, TargetSchema schema) {
        try {
            schema.ensure();
        } catch (SQLException e) {
            LOG.warnf("target not ready at start-up (%s); replicator's tables will be created on the first write",
                    TargetTransactions.withoutValues(e));
        }
    }
}
