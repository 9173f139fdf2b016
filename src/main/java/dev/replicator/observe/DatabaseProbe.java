package dev.replicator.observe;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

import javax.sql.DataSource;

import jakarta.enterprise.inject.Instance;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

import io.agroal.api.AgroalDataSource;
import io.quarkus.runtime.Startup;

import dev.replicator.config.ReplicatorConfig;

/**
 * Whether the target and the source answer, for {@code replicator_database_up{database}}, and the WAL the pull slot
 * retains, for {@code replicator_pull_slot_lag_bytes} between pulls (so the alert on a slot that grows while no pull
 * succeeds has a figure that moves). Probed only when metrics are read, at most every {@link #EVERY_NANOS}, on a
 * thread of its own: a scrape never waits for a database, and an idle instance touches none. The source is probed
 * only where it is configured.
 */
@Singleton
@Startup
public class DatabaseProbe {

    private static final Logger LOG = Logger.getLogger(DatabaseProbe.class);

    static final long EVERY_NANOS = 10_000_000_000L;
    /** Seconds a probe waits for a connection to answer. */
    static final int TIMEOUT_SECONDS = 2;

    private final ReplicationMetrics metrics;
    private final String slot;
    private final Map<String, Double> up = new ConcurrentHashMap<>();
    private final Map<String, Instance<AgroalDataSource>> databases;
    private final AtomicBoolean running = new AtomicBoolean();
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "replicator-database-probe");
        t.setDaemon(true);
        return t;
    });
    private volatile long probedAt = System.nanoTime() - EVERY_NANOS;

    public DatabaseProbe(ReplicationMetrics metrics, ReplicatorConfig config,
            @io.quarkus.agroal.DataSource("target") Instance<AgroalDataSource> target,
            @io.quarkus.agroal.DataSource("source") Instance<AgroalDataSource> source) {
        this.metrics = metrics;
        this.slot = config.pull().slot();
        this.databases = sourceConfigured() ? Map.of("target", target, "source", source) : Map.of("target", target);
        for (String database : databases.keySet()) {
            metrics.databaseUp(database, () -> {
                probeIfDue();
                return up.getOrDefault(database, Double.NaN);
            });
        }
    }

    /** The source is optional for change events: without its URL there is nothing to probe. */
    public static boolean sourceConfigured() {
        return ConfigProvider.getConfig().getOptionalValue("quarkus.datasource.source.jdbc.url", String.class)
                .isPresent();
    }

    private void probeIfDue() {
        long now = System.nanoTime();
        if (now - probedAt >= EVERY_NANOS && running.compareAndSet(false, true)) {
            probedAt = now;
            try {
                thread.execute(this::probe);
            } catch (RuntimeException e) {
                running.set(false); // shutting down
            }
        }
    }

    private void probe() {
        try {
            databases.forEach((name, database) -> up.put(name, answers(name, database.get()) ? 1.0 : 0.0));
        } finally {
            running.set(false);
        }
    }

    private boolean answers(String name, DataSource database) {
        try (Connection connection = database.getConnection()) {
            if (!connection.isValid(TIMEOUT_SECONDS)) {
                return false;
            }
            if ("source".equals(name)) {
                slotRetained(connection);
            }
            return true;
        } catch (SQLException | RuntimeException e) {
            LOG.debugf("probe of the %s database failed: %s", name, e.getMessage());
            return false;
        }
    }

    /** The slot's figure where the slot exists; the source answered either way. */
    private void slotRetained(Connection source) {
        try {
            source.setAutoCommit(true);
            Optional<SlotState> state = SlotState.read(source, slot);
            state.ifPresent(s -> metrics.slotRetained(slot, s.lagBytes()));
        } catch (SQLException e) {
            LOG.debugf("reading slot %s failed: %s", slot, e.getMessage());
        }
    }
}
