package dev.replicator.source.pull;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import javax.sql.DataSource;

import org.jboss.logging.Logger;

import dev.replicator.apply.ChangeOutcome;
import dev.replicator.apply.OpenWrite;
import dev.replicator.apply.RejectedChangeException;
import dev.replicator.apply.TargetTransactions;
import dev.replicator.apply.TargetUnavailableException;
import dev.replicator.apply.TargetWriter;
import dev.replicator.decode.PgOutputDecoder;
import dev.replicator.decode.TableId;
import dev.replicator.observe.ReplicationMetrics;
import dev.replicator.route.TableRouter;
import dev.replicator.route.TargetChange;

/**
 * Drains a logical replication slot of the source into the target: peeks whole transactions in commit order, routes
 * their changes like pushed ones, writes each source transaction (or several small ones together) in one target
 * transaction through the fenced writer, and confirms the slot only up to the end of what the target committed. A
 * pull that dies between the commit and the confirmation reads those transactions again; the fence finds them stale.
 * The slot is read on a thread of its own ({@link SlotReader}) while this one writes: reading the next group overlaps
 * writing the last, and only this thread writes, commits and confirms, in commit order.
 * <p>
 * One pull per slot at a time: a session advisory lock on the target, keyed by the slot's name, turns a second one
 * away as busy (503) instead of letting both apply.
 */
public class PullJob {

    private static final Logger LOG = Logger.getLogger(PullJob.class);

    /** A pull draining a backlog logs where it stands this often. */
    static final long PROGRESS_EVERY_NANOS = 5_000_000_000L;

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

    /**
     * Where a pull stands against the backlog it began with: the WAL from where the slot stood ({@code backlogFrom})
     * to where the source's WAL ended at the last peek ({@code walEnd}), of which it committed up to
     * {@code committedEnd} in {@code elapsedNanos}. Numbers only, never row values.
     */
    static String progressLine(String eventId, String slot, long backlogFrom, long walEnd, long committedEnd,
            long applied, long elapsedNanos) {
        long passed = committedEnd - backlogFrom;
        long backlog = Math.max(walEnd, committedEnd) - backlogFrom;
        long behind = Math.max(0, walEnd - committedEnd);
        double rate = elapsedNanos > 0 ? passed / (elapsedNanos / 1e9) : 0;
        return String.format(java.util.Locale.ROOT, "pull %s of slot %s: %d of %d WAL bytes applied (%.1f%%), %d behind,"
                + " %d changes applied, %.0f bytes/s, about %s s left", eventId, slot, passed, backlog,
                backlog == 0 ? 100.0 : 100.0 * passed / backlog, behind, applied, rate,
                rate > 0 ? String.valueOf((long) Math.ceil(behind / rate)) : "?");
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
        String moneyDiffers;
        try {
            moneyDiffers = MoneyFormats.difference(slot.source(), target);
        } catch (SQLException e) {
            throw TargetTransactions.answer(eventId, "source or target", "comparing how they write money", e);
        }
        SlotReader reader = new SlotReader(slot, settings, router, metrics, applyTruncate, eventId,
                request.maxChanges(), deadline, moneyDiffers);
        Run run = new Run(eventId);
        try {
            slot.ensure(eventId);
            boolean drained = false;
            int peeks = 0;
            while (!drained && !reader.full() && (peeks++ == 0 || System.nanoTime() < deadline)) {
                LogicalSlot.Standing before = slot.standing();
                run.startAt(before);
                try (SlotReading reading = slot.open(before)) {
                    run.reading = reading;
                    PullStep.End end;
                    try (SlotReader.Peek peek = reader.start(reading, before.confirmedLsn())) {
                        end = run.apply(peek);
                    } catch (SQLException | RuntimeException e) {
                        run.confirmQuietly(); // what was committed, while the reading that confirms it is open
                        throw e;
                    }
                    run.confirm();
                    drained = reading.drained(end.messages()) && !end.stoppedEarly();
                } finally {
                    run.reading = null;
                }
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
                    reader.skipped(), PgOutputDecoder.lsnText(standing.confirmedLsn()), drained,
                    drained ? null : request);
        } catch (SQLException e) {
            if ("55006".equals(e.getSQLState())) { // the slot is in use by another session
                throw busy();
            }
            throw TargetTransactions.answer(eventId, "source", "reading slot " + settings.slot(), e);
        }
    }

    /**
     * The writing half of a pull: writes what the reader hands on, in slot order, commits and confirms. Whole source
     * transactions are written together, one target transaction per group; a transaction too large to hold is written
     * in pieces into one target transaction held open until its end.
     */
    private final class Run {

        private final String eventId;
        /** The reading under way, which confirms what the target committed of it. */
        private SlotReading reading;
        /** The target transaction of a source transaction too large to hold, while its pieces come. */
        private OpenWrite open;
        private long committedEnd;
        private long confirmed;
        private Instant lastCommitTime;
        private long transactions;
        private long applied;
        private long stale;
        private long superseded;
        /** Progress against the backlog: where the slot stood when the pull began, and the WAL's end since. */
        private long backlogFrom = -1;
        private long walEnd;
        private final long startNanos = System.nanoTime();
        private long loggedAt = startNanos;

        Run(String eventId) {
            this.eventId = eventId;
        }

        void startAt(LogicalSlot.Standing standing) {
            confirmed = standing.confirmedLsn();
            committedEnd = confirmed;
            if (backlogFrom < 0) {
                backlogFrom = confirmed;
            }
            walEnd = Math.max(walEnd, standing.currentLsn());
        }

        /**
         * Every few seconds while a backlog drains: the WAL behind the slot when the pull began that is applied,
         * the rate and the time left at that rate (from the WAL end read at the last peek, without asking again).
         */
        private void progress() {
            long now = System.nanoTime();
            if (now - loggedAt < PROGRESS_EVERY_NANOS) {
                return;
            }
            loggedAt = now;
            LOG.info(progressLine(eventId, settings.slot(), backlogFrom, walEnd, committedEnd, applied,
                    now - startNanos));
        }

        /** Writes the peek's steps until its end; a stop or a failure of the reading is thrown from here. */
        PullStep.End apply(SlotReader.Peek peek) throws SQLException {
            for (;;) {
                PullStep step = peek.next();
                if (step instanceof PullStep.Group group) {
                    flush(group.transactions());
                    lastCommitTime = group.lastCommitTime();
                    progress();
                } else if (step instanceof PullStep.Piece piece) {
                    writePiece(piece);
                } else if (step instanceof PullStep.LargeCommit commit) {
                    OpenWrite written = open;
                    open = null;
                    written.commit();
                    transactions++;
                    committedEnd = commit.endLsn();
                    lastCommitTime = commit.commitTime();
                    progress();
                } else if (step instanceof PullStep.Stop stop) {
                    closeOpen();
                    throw stopped(stop.at(), stop.cause());
                } else if (step instanceof PullStep.Failed failed) {
                    if (failed.cause() instanceof SQLException e) {
                        throw e;
                    }
                    throw (RuntimeException) failed.cause();
                } else {
                    return (PullStep.End) step;
                }
            }
        }

        private void writePiece(PullStep.Piece piece) {
            if (open == null) {
                open = writer.open(tablesOfPublication());
            }
            try {
                count(open.write(piece.changes()));
            } catch (RejectedChangeException e) {
                open = null; // rolled back by the failure
                throw stopped(PgOutputDecoder.lsnText(piece.startLsn()), e);
            } catch (RuntimeException e) {
                open = null;
                throw e;
            }
        }

        /**
         * The target tables a transaction of the slot may write, locked before its first piece. Its pieces come one
         * after another into one target transaction: had each taken its own tables' locks as it came, out of name
         * order across the pieces, a pushed writer (which takes its locks in name order) holding one of them and
         * waiting for another could deadlock with it.
         */
        private Set<TableId> tablesOfPublication() {
            try {
                Set<TableId> tables = new HashSet<>();
                for (TableId table : slot.published()) {
                    router.targetOf(table).ifPresent(tables::add);
                }
                return tables;
            } catch (SQLException e) {
                throw TargetTransactions.answer(eventId, "source", "reading the tables of publication "
                        + settings.publication(), e);
            }
        }

        /**
         * Schema drift (a table or column the target lacks), a value the target cannot hold, or a message that cannot
         * be read: the transactions before this one are committed and confirmed, this one and all after it are not.
         */
        private RejectedChangeException stopped(String at, RuntimeException e) {
            confirm();
            return new RejectedChangeException(eventId, "pull of slot " + settings.slot() + " stopped at " + at
                    + ", confirmed up to " + PgOutputDecoder.lsnText(confirmed) + ": " + e.getMessage());
        }

        /** Writes whole transactions in one target transaction. */
        private void flush(List<PullStep.Transaction> group) {
            try {
                writeTogether(group);
            } catch (RejectedChangeException e) {
                // the target refuses a change: keep the transactions before the one that holds it
                int bad = group.size() == 1 ? 0 : writeUpToRefused(group, e);
                throw stopped(PgOutputDecoder.lsnText(group.get(bad).startLsn()), e);
            }
        }

        private void writeTogether(List<PullStep.Transaction> group) {
            List<TargetChange> changes = new ArrayList<>();
            for (PullStep.Transaction t : group) {
                changes.addAll(t.changes());
            }
            if (!changes.isEmpty()) {
                count(writer.writePulled(changes));
            }
            transactions += group.size();
            committedEnd = group.get(group.size() - 1).endLsn();
        }

        /**
         * After a refused write of a group: writes the transactions before the one holding the refused change (by
         * the change the answer names, or else one transaction after another until one is refused) and returns the
         * refused one's index.
         */
        private int writeUpToRefused(List<PullStep.Transaction> group, RejectedChangeException refused) {
            int bad = transactionOf(group, refused.eventId());
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

        private static int transactionOf(List<PullStep.Transaction> group, String changeId) {
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
        private void closeOpen() {
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
                slot.confirm(reading, committedEnd);
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
}
