package dev.replicator.apply;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import javax.sql.DataSource;

import org.jboss.logging.Logger;

/**
 * Forgets the positions of rows deleted longer ago than the retention. A change older than a forgotten delete that
 * arrives after that would bring the row back, so the retention must exceed the longest redelivery delay.
 */
public final class TombstonePruning {

    private static final Logger LOG = Logger.getLogger(TombstonePruning.class);
    private static final long INTERVAL_MILLIS = 10 * 60 * 1000;

    private final DataSource target;
    private final Sql sql;
    private final Duration retention;
    private final AtomicLong nextPrune = new AtomicLong();

    public TombstonePruning(DataSource target, Sql sql, Duration retention) {
        this.target = target;
        this.sql = sql;
        this.retention = retention;
    }

    /** How long a change may be late: the longest redelivery delay the fence is kept for. */
    Duration retention() {
        return retention;
    }

    /** Prunes now; returns how many positions were removed. */
    public int prune() throws SQLException {
        try (Connection connection = target.getConnection();
                PreparedStatement prune = connection.prepareStatement(sql.pruneTombstones())) {
            connection.setAutoCommit(true);
            prune.setString(1, retention.toSeconds() + " seconds");
            return prune.executeUpdate();
        }
    }

    /** Prunes at most every few minutes, piggybacking on writes: a function that scales to zero has no timer. */
    void pruneIfDue() {
        long now = System.currentTimeMillis();
        long due = nextPrune.get();
        if (now < due || !nextPrune.compareAndSet(due, now + INTERVAL_MILLIS)) {
            return;
        }
        try {
            LOG.debugf("pruned %d tombstones", prune());
        } catch (SQLException e) {
            LOG.warnf("pruning tombstones failed: %s", TargetTransactions.withoutValues(e));
        }
    }
}
