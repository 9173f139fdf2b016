package dev.replicator.source.pull;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import javax.sql.DataSource;

import org.jboss.logging.Logger;

import dev.replicator.apply.ChangeOutcome;
import dev.replicator.apply.RejectedChangeException;
import dev.replicator.apply.TargetTransactions;
import dev.replicator.apply.TargetUnavailableException;
import dev.replicator.apply.TargetWriter;
import dev.replicator.decode.BadEventException;
import dev.replicator.decode.Operation;
import dev.replicator.decode.PgOutputDecoder;
import dev.replicator.decode.PgOutputMessage;
import dev.replicator.decode.RowChange;
import dev.replicator.observe.ReplicationMetrics;
import dev.replicator.route.RefusedValueException;
import dev.replicator.route.TableRouter;
import dev.replicator.route.TargetChange;

/**
 * Drains a logical replication slot of the source into the target: peeks whole transactions in commit order, routes
 * their changes like pushed ones, writes each source transaction (or several small ones together) in one target
 * transaction through the fenced writer, and confirms the slot only up to the end of what the target committed. A
 * pull that dies between the commit and the confirmation reads those transactions again; the fence finds them stale.
 * <p>
 * One pull per slot at a time: a session advisory lock on the target, keyed by the slot's name, turns a second one
 * away as busy (503) instead of letting both apply.
 */
public class PullJob {

    private static final Logger LOG = Logger.getLogger(PullJob.class);

    private final LogicalSlot slot;
    private final SlotSettings settings;
    private final TableRouter router;
    private final TargetWriter writer;
    private final DataSource target;
    private final ReplicationMetrics metrics;
    private final Duration budget;

    public PullJob(LogicalSlot slot, SlotSettings settings, TableRouter router, TargetWriter writer,
            DataSource target, ReplicationMetrics metrics, Duration budget) {
        this.slot = slot;
        this.settings = settings;
        this.router = router;
        this.writer = writer;
        this.target = target;
        this.metrics = metrics;
        this.budget = budget;
    }

    public PullReport run(String eventId, PullRequest request) {
        try (Connection lock = target.getConnection()) {
            lock.setAutoCommit(true);
            if (!advisoryLock(lock, "pg_try_advisory_lock")) {
                throw busy();
            }
            try {
                return pull(eventId, request);
            } finally {
                advisoryLock(lock, "pg_advisory_unlock");
            }
        } catch (SQLException e) {
            throw TargetTransactions.answer(eventId, "target", "locking slot " + settings.slot() + " for a pull", e);
        }
    }

    private boolean advisoryLock(Connection connection, String function) throws SQLException {
        try (PreparedStatement lock = connection.prepareStatement(
                "SELECT " + function + "(hashtextextended('replicator.pull/' || ?, 0))")) {
            lock.setString(1, settings.slot());
            try (ResultSet rs = lock.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    private TargetUnavailableException busy() {
        return new TargetUnavailableException("another pull of slot " + settings.slot() + " is running", null);
    }

    private PullReport pull(String eventId, PullRequest request) {
        long deadline = System.nanoTime() + budget.toNanos();
        Run run = new Run(eventId, request.maxChanges());
        try {
            slot.ensure(eventId);
            boolean drained = false;
            while (!drained && !run.full() && (run.peeks == 0 || System.nanoTime() < deadline)) {
                run.startAt(slot.standing().confirmedLsn());
                long read = slot.peek(settings.peekChanges(), (lsn, data) -> run.accept(lsn, data, deadline));
                run.flush();
                run.confirm();
                drained = read < settings.peekChanges() && !run.stoppedEarly;
            }
            LogicalSlot.Standing standing = slot.standing();
            // while changes are left behind, the newest one applied tells how far behind the target is, at least
            metrics.slotLag(settings.slot(), standing.lagBytes(), drained || run.lastCommitTime == null ? 0
                    : Math.max(0, System.currentTimeMillis() - run.lastCommitTime.toEpochMilli()),
                    run.applied, run.stale);
            LOG.infof("pull %s of slot %s: %d transactions, %d changes applied, %d stale, confirmed %s%s", eventId,
                    settings.slot(), run.transactions, run.applied, run.stale,
                    PgOutputDecoder.lsnText(standing.confirmedLsn()), drained ? ", drained" : ", continuing");
            return new PullReport(settings.slot(), run.transactions, run.applied, run.stale, run.superseded,
                    PgOutputDecoder.lsnText(standing.confirmedLsn()), drained, drained ? null : request);
        } catch (SQLException e) {
            run.confirmQuietly();
            if ("55006".equals(e.getSQLState())) { // the slot is in use by another session
                throw busy();
            }
            throw TargetTransactions.answer(eventId, "source", "reading slot " + settings.slot(), e);
        } catch (RuntimeException e) {
            run.confirmQuietly();
            throw e;
        }
    }

    /** The state of one pull: the transaction being read, the group waiting for the target, what is committed. */
    private final class Run {

        private final String eventId;
        private final long maxChanges;
        private final PgOutputDecoder decoder;
        private final List<TargetChange> transaction = new ArrayList<>();
        private final List<TargetChange> group = new ArrayList<>();
        private long groupEnd;
        private long groupTransactions;
        private long committedEnd;
        private long confirmed;
        private int peeks;
        private boolean stoppedEarly;
        private Instant lastCommitTime;
        private long transactions;
        private long applied;
        private long stale;
        private long superseded;

        Run(String eventId, long maxChanges) {
            this.eventId = eventId;
            this.maxChanges = maxChanges;
            this.decoder = new PgOutputDecoder("slot " + settings.slot());
        }

        void startAt(long confirmedLsn) {
            peeks++;
            confirmed = confirmedLsn;
            committedEnd = confirmedLsn;
            stoppedEarly = false;
            decoder.startAfter(confirmedLsn);
        }

        /** The changes read count, written or still in the group: the group is only written when it is full. */
        boolean full() {
            return maxChanges > 0 && applied + stale + superseded + group.size() >= maxChanges;
        }

        boolean accept(long lsn, byte[] data, long deadline) {
            PgOutputMessage message;
            try {
                message = decoder.decode(lsn, data);
            } catch (BadEventException e) {
                throw stop(PgOutputDecoder.lsnText(lsn), e);
            }
            if (message instanceof PgOutputMessage.Begin) {
                transaction.clear();
            } else if (message instanceof PgOutputMessage.Changes changes) {
                for (RowChange change : changes.changes()) {
                    route(change);
                }
            } else if (message instanceof PgOutputMessage.Commit commit) {
                group.addAll(transaction);
                transaction.clear();
                groupEnd = commit.endLsn();
                lastCommitTime = commit.commitTime();
                groupTransactions++;
                if (group.size() >= settings.groupChanges()) {
                    flush();
                }
                if (System.nanoTime() >= deadline || full()) {
                    stoppedEarly = true;
                    return false;
                }
            }
            return true;
        }

        private void route(RowChange change) {
            TargetChange routed;
            try {
                routed = router.route(change);
            } catch (BadEventException | RefusedValueException e) {
                throw stop(change.eventId().substring(change.eventId().indexOf('@') + 1), e);
            } catch (SQLException e) {
                throw TargetUnavailableException.catalogUnreadable(eventId, e);
            }
            if (change.op() == Operation.DELETE && routed.newKey() != null && routed.newKey().equals(routed.key())) {
                return; // an update under REPLICA IDENTITY FULL that kept the target's key: the insert after it is it
            }
            transaction.add(routed);
        }

        /**
         * Schema drift (a table or column the target lacks), a value the target cannot hold, or a message that cannot
         * be read: the transactions before this one are committed and confirmed, this one and all after it are not.
         */
        private RejectedChangeException stop(String at, RuntimeException e) {
            flush();
            confirm();
            return new RejectedChangeException(eventId, "pull of slot " + settings.slot() + " stopped at " + at
                    + ", confirmed up to " + PgOutputDecoder.lsnText(confirmed) + ": " + e.getMessage());
        }

        /** Writes the grouped transactions in one target transaction. */
        void flush() {
            if (groupTransactions == 0) {
                return;
            }
            if (!group.isEmpty()) {
                for (ChangeOutcome outcome : writer.write(group)) {
                    switch (outcome.result()) {
                        case APPLIED -> applied++;
                        case STALE -> stale++;
                        case SUPERSEDED -> superseded++;
                    }
                }
            }
            transactions += groupTransactions;
            committedEnd = groupEnd;
            group.clear();
            groupTransactions = 0;
        }

        /** Confirms the slot up to the end of the last transaction the target committed. */
        void confirm() {
            if (committedEnd <= confirmed) {
                return;
            }
            try {
                slot.advance(committedEnd);
            } catch (SQLException e) {
                throw TargetTransactions.answer(eventId, "source", "confirming slot " + settings.slot(), e);
            }
            confirmed = committedEnd;
        }

        /** After a failure: confirm what was committed if the source lets us; if not, it is read again (stale). */
        void confirmQuietly() {
            try {
                confirm();
            } catch (RuntimeException e) {
                LOG.debugf("could not confirm slot %s after a failed pull: %s", settings.slot(), e.getMessage());
            }
        }
    }
}
