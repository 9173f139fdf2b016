package dev.replicator.wiring;

import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import io.agroal.api.AgroalDataSource;
import io.quarkus.agroal.DataSource;

import dev.replicator.apply.TargetWriter;
import dev.replicator.config.ReplicatorConfig;
import dev.replicator.observe.ReplicationMetrics;
import dev.replicator.route.TableRouter;
import dev.replicator.source.pull.LogicalSlot;
import dev.replicator.source.pull.PullJob;
import dev.replicator.source.pull.SlotSettings;

/** Builds the pull job from replicator.pull.* and both datasources: the slot is read on the source's. */
public class PullBeans {

    @Produces
    @Singleton
    PullJob pullJob(@DataSource("source") AgroalDataSource source, @DataSource("target") AgroalDataSource target,
            TableRouter router, TargetWriter writer, ReplicationMetrics metrics, ReplicatorConfig config) {
        ReplicatorConfig.Pull pull = config.pull();
        SlotSettings settings = new SlotSettings(pull.slot(), pull.publication(), pull.create(), pull.peekChanges(),
                pull.groupChanges(), "stream".equals(pull.read()));
        return new PullJob(new LogicalSlot(source, settings), settings, router, writer, target, metrics,
                pull.timeBudget(), config.applyTruncate());
    }
}
