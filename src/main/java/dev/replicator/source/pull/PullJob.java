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
import dev.replicator.apply.OpenWrite;
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
    private final boolean applyTruncate;

    /** @param applyTruncate {@code replicator.apply-truncate}: off, truncates are counted as skipped */
    public PullJob(LogicalSlot slot, SlotSettings settings, TableRouter router, TargetWriter writer,
            DataSource target, ReplicationMetrics metrics, Duration budget, boolean applyTruncate) {
        this.slot = slot;
        this.settings = settings;
        this.router = router;
        this.writer = writer;
        this.target = target;
        this.metrics = metrics;
        this.budget = budget;
        this.applyTruncate = applyTruncate;
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
                    run.skipped, PgOutputDecoder.lsnText(standing.confirmedLsn()), drained, drained ? null : request);
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

    /** A source transaction read whole and not written yet: its changes and where it ends in the slot. */
    private record Transaction(List<TargetChange> changes, long startLsn, long endLsn) {
    }

    /**
     * The state of one pull: the transaction being read, the whole transactions waiting for the target, what is
     * committed and what is confirmed. Memory holds about {@code groupChanges} changes: a transaction larger than that
     * is written in pieces of that size into one target transaction held open until its Commit message.
     */
    private final class Run {

        private final String eventId;
        private final long maxChanges;
        private final PgOutputDecoder decoder;
        private final int groupChanges;
        /** Routed changes of the transaction being read that are not written yet. */
        private List<TargetChange> transaction = new ArrayList<>();
        private long transactionStart;
        /** Whole transactions waiting to be written together. */
        private final List<Transaction> group = new ArrayList<>();
        private int groupSize;
        /** The target transaction of a source transaction too large to hold, while it is read. */
        private OpenWrite open;
        private long committedEnd;
        private long confirmed;
        private int peeks;
        private boolean stoppedEarly;
        private Instant lastCommitTime;
        private long transactions;
        private long applied;
        private long stale;
        private long superseded;
        private long skipped;

        Run(String eventId, long maxChanges) {
            this.eventId = eventId;
            this.maxChanges = maxChanges;
            this.decoder = new PgOutputDecoder("slot " + settings.slot());
            this.groupChanges = Math.max(1, settings.groupChanges());
        }

        void startAt(long confirmedLsn) {
            peeks++;
            confirmed = confirmedLsn;
            committedEnd = confirmedLsn;
            stoppedEarly = false;
            decoder.startAfter(confirmedLsn);
        }

        boolean full() {
            return maxChanges > 0 && applied + stale + superseded + skipped >= maxChanges;
        }

        boolean accept(long lsn, byte[] data, long deadline) {
            PgOutputMessage message;
            try {
                message = decoder.decode(lsn, data);
            } catch (BadEventException e) {
                throw stop(PgOutputDecoder.lsnText(lsn), e);
            }
            if (message instanceof PgOutputMessage.Begin) {
                transaction = new ArrayList<>();
                transactionStart = lsn;
            } else if (message instanceof PgOutputMessage.Changes changes) {
                for (RowChange change : changes.changes()) {
                    route(change);
                }
                if (transaction.size() >= groupChanges) {
                    writePiece();
                }
            } else if (message instanceof PgOutputMessage.Commit commit) {
                lastCommitTime = commit.commitTime();
                if (open != null) {
                    writePiece();
                    OpenWrite piecesWritten = open;
                    open = null;
                    piecesWritten.commit();
                    transactions++;
                    committedEnd = commit.endLsn();
                } else {
                    group.add(new Transaction(transaction, transactionStart, commit.endLsn()));
                    groupSize += transaction.size();
                    transaction = new ArrayList<>();
                    if (groupSize >= groupChanges) {
                        flush();
                    }
                }
                if (System.nanoTime() >= deadline || full()) {
                    stoppedEarly = true;
                    return false;
                }
            }
            return true;
        }

        private void route(RowChange change) {
            if (change.op() == Operation.TRUNCATE && !applyTruncate) {
                // replicator.apply-truncate=false: counted as skipped, never written, as pushed truncates are
                skipped++;
                metrics.record(ReplicationMetrics.Outcome.SKIPPED, change.table().toString(), change.op().code());
                return;
            }
            TargetChange routed;
            try {
                routed = router.route(change);
            } catch (BadEventException | RefusedValueException e) {
                throw stop(positionOf(change.eventId()), e);
            } catch (SQLException e) {
                throw TargetUnavailableException.catalogUnreadable(eventId, e);
            }
            if (change.op() == Operation.DELETE && routed.newKey() != null && routed.newKey().equals(routed.key())) {
                return; // an update under REPLICA IDENTITY FULL that kept the target's key: the insert after it is it
            }
            transaction.add(routed);
        }

        /**
         * A transaction too large to hold: the whole transactions before it are committed first, then its changes so
         * far are written into its own target transaction, which stays open until its Commit message.
         */
        private void writePiece() {
            if (open == null) {
                flush();
                open = writer.open();
            }
            try {
                count(open.write(transaction));
            } catch (RejectedChangeException e) {
                open = null; // rolled back by the failure
                throw stopped(PgOutputDecoder.lsnText(transactionStart), e);
            } catch (RuntimeException e) {
                open = null;
                throw e;
            }
            transaction = new ArrayList<>();
        }

        /**
         * Schema drift (a table or column the target lacks), a value the target cannot hold, or a message that cannot
         * be read: the transactions before this one are committed and confirmed, this one and all after it are not.
         */
        private RejectedChangeException stop(String at, RuntimeException e) {
            closeOpen();
            flush();
            return stopped(at, e);
        }

        private RejectedChangeException stopped(String at, RuntimeException e) {
            confirm();
            return new RejectedChangeException(eventId, "pull of slot " + settings.slot() + " stopped at " + at
                    + ", confirmed up to " + PgOutputDecoder.lsnText(confirmed) + ": " + e.getMessage());
        }

        /** Writes the grouped transactions in one target transaction. */
        void flush() {
            if (group.isEmpty()) {
                return;
            }
            try {
                writeTogether(group);
            } catch (RejectedChangeException e) {
                // the target refuses a change: keep the transactions before the one that holds it
                int bad = group.size() == 1 ? 0 : writeUpToRefused(e);
                long at = group.get(Math.min(bad, group.size() - 1)).startLsn();
                group.clear();
                groupSize = 0;
                throw stopped(PgOutputDecoder.lsnText(at), e);
            }
            group.clear();
            groupSize = 0;
        }

        private void writeTogether(List<Transaction> transactions) {
            List<TargetChange> changes = new ArrayList<>();
            for (Transaction t : transactions) {
                changes.addAll(t.changes());
            }
            if (!changes.isEmpty()) {
                count(writer.write(changes));
            }
            this.transactions += transactions.size();
            committedEnd = transactions.get(transactions.size() - 1).endLsn();
        }

        /**
         * After a refused write of the group: writes the transactions before the one holding the refused change (by
         * the change the answer names, or else one transaction after another until one is refused) and returns the
         * refused one's index.
         */
        private int writeUpToRefused(RejectedChangeException refused) {
            int bad = transactionOf(refused.eventId());
            if (bad >= 0) {
                if (bad > 0) {
                    writeTogether(group.subList(0, bad));
                }
                return bad;
            }
            for (int i = 0; i < group.size(); i++) {
                try {
                    writeTogether(group.subList(i, i + 1));
                } catch (RejectedChangeException e) {
                    return i;
                }
            }
            return group.size() - 1; // refused only together: the last one completes what is refused
        }

        private int transactionOf(String changeId) {
            if (changeId == null) {
                return -1;
            }
            for (int i = 0; i < group.size(); i++) {
                for (TargetChange change : group.get(i).changes()) {
                    if (changeId.equals(change.eventId())) {
                        return i;
                    }
                }
            }
            return -1;
        }

        private void count(List<ChangeOutcome> outcomes) {
            for (ChangeOutcome outcome : outcomes) {
                switch (outcome.result()) {
                    case APPLIED -> applied++;
                    case STALE -> stale++;
                    case SUPERSEDED -> superseded++;
                }
            }
        }

        /** Rolls back the open target transaction of a large source transaction, if any. */
        void closeOpen() {
            if (open != null) {
                open.close();
                open = null;
            }
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
            closeOpen();
            try {
                confirm();
            } catch (RuntimeException e) {
                LOG.debugf("could not confirm slot %s after a failed pull: %s", settings.slot(), e.getMessage());
            }
        }
    }

    /** Where a change stands in the slot, from its name ({@code slot <name>@<LSN>}). */
    private static String positionOf(String changeId) {
        return changeId.substring(changeId.lastIndexOf('@') + 1);
    }
}
