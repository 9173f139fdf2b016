package dev.replicator.apply;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import javax.sql.DataSource;

import org.jboss.logging.Logger;

import dev.replicator.decode.TableId;
import dev.replicator.route.TargetChange;

/**
 * Applies changes (of one request, or of a group of requests from {@link GroupCommit}) to the target in one
 * transaction, all or nothing, and returns only after the commit. Serialization failures and deadlocks are retried
 * here a few times; other failures are answered by {@link SqlFailures}: "the target refuses this change" (422) or
 * "try again later" (503).
 */
public class TargetWriter {

    private static final Logger LOG = Logger.getLogger(TargetWriter.class);
    private static final int ATTEMPTS = 4;
    private static final long PRUNE_INTERVAL_MILLIS = 10 * 60 * 1000;

    private final DataSource target;
    private final Sql sql;
    private final Consumer<TableId> catalogInvalidator;
    private final String schema;
    private final Duration tombstoneRetention;
    private final AtomicLong nextPrune = new AtomicLong();
    private volatile boolean schemaReady;

    public TargetWriter(DataSource target, Sql sql, String schema, Consumer<TableId> catalogInvalidator) {
        this(target, sql, schema, Duration.ofDays(7), catalogInvalidator);
    }

    public TargetWriter(DataSource target, Sql sql, String schema, Duration tombstoneRetention,
            Consumer<TableId> catalogInvalidator) {
        this.target = target;
        this.sql = sql;
        this.schema = schema;
        this.tombstoneRetention = tombstoneRetention;
        this.catalogInvalidator = catalogInvalidator;
    }

    /**
     * Stores an event that can never be applied in {@code <schema>.rejected}, for inspection and replay, and
     * returns its row id. Throws {@link TargetUnavailableException} when the target cannot take it, so the event is
     * retried rather than lost.
     */
    public long park(String eventId, String eventType, int status, String reason, String eventJson) {
        try {
            ensureSchema();
            try (Connection connection = target.getConnection()) {
                connection.setAutoCommit(true);
                return park(connection, List.of(new ParkedEvent(eventId, eventType, status, reason, null, eventJson)))
                        .get(0);
            }
        } catch (SQLException e) {
            throw new TargetUnavailableException("cannot park the rejected event in the target: " + withoutValues(e), e);
        }
    }

    /**
     * Stores events that can never be applied in {@code <schema>.rejected} on the caller's connection (in its
     * transaction, for a batch whose good changes commit with them) and returns their row ids in order.
     */
    public List<Long> park(Connection connection, List<ParkedEvent> events) throws SQLException {
        List<Long> ids = new java.util.ArrayList<>(events.size());
        try (PreparedStatement insert = connection.prepareStatement(sql.parkRejected())) {
            for (ParkedEvent event : events) {
                insert.setString(1, event.eventId());
                insert.setString(2, event.eventType());
                insert.setInt(3, event.status());
                insert.setString(4, event.reason());
                if (event.batchIndex() == null) {
                    insert.setNull(5, java.sql.Types.INTEGER);
                } else {
                    insert.setInt(5, event.batchIndex());
                }
                insert.setString(6, event.eventJson());
                try (var rs = insert.executeQuery()) {
                    rs.next();
                    ids.add(rs.getLong(1));
                }
            }
        }
        return ids;
    }

    /**
     * Forgets the positions of rows deleted longer ago than the retention. A change older than a forgotten delete
     * that arrives after that would bring the row back, so the retention must exceed the longest redelivery delay.
     *
     * @return how many were removed
     */
    public int pruneTombstones() throws SQLException {
        try (Connection connection = target.getConnection();
                PreparedStatement prune = connection.prepareStatement(sql.pruneTombstones())) {
            connection.setAutoCommit(true);
            prune.setString(1, tombstoneRetention.toSeconds() + " seconds");
            return prune.executeUpdate();
        }
    }

    /** Prunes at most every few minutes, piggybacking on writes: a function that scales to zero has no timer. */
    private void pruneIfDue() {
        long now = System.currentTimeMillis();
        long due = nextPrune.get();
        if (now < due || !nextPrune.compareAndSet(due, now + PRUNE_INTERVAL_MILLIS)) {
            return;
        }
        try {
            int pruned = pruneTombstones();
            LOG.debugf("pruned %d tombstones", pruned);
        } catch (SQLException e) {
            LOG.warnf("pruning tombstones failed: %s", withoutValues(e));
        }
    }

    /**
     * Creates replicator's position tables in the target if they are missing. Called at start-up; if the target is
     * down then, the first write tries again.
     */
    public void ensureSchema() throws SQLException {
        if (schemaReady) {
            return;
        }
        try (Connection connection = target.getConnection()) {
            connection.setAutoCommit(true);
            try (var statement = connection.createStatement()) {
                for (String ddl : sql.createSchema(schema)) {
                    statement.execute(ddl);
                }
            }
        } catch (SQLException e) {
            // two instances starting at once may race on CREATE ... IF NOT EXISTS; the loser sees 23505/42P07
            if (!"23505".equals(e.getSQLState()) && !"42P07".equals(e.getSQLState())) {
                throw e;
            }
        }
        schemaReady = true;
    }

    /**
     * Writes the changes in one transaction and returns their outcomes in the order given, or throws
     * {@link RejectedChangeException} or {@link TargetUnavailableException}.
     */
    public List<ChangeOutcome> write(List<TargetChange> changes) {
        return write(changes, NOTHING_ELSE);
    }

    /** Work that must commit or roll back together with a write: checkpoints of the changes written. */
    @FunctionalInterface
    public interface InTransaction {
        void run(Connection connection) throws SQLException;
    }

    private static final InTransaction NOTHING_ELSE = connection -> {
    };

    /**
     * Like {@link #write(List)}, and runs {@code alsoInTransaction} in the same transaction after the changes, so
     * what it records (a backfill checkpoint) commits exactly when the changes do. Retried as a whole.
     */
    public List<ChangeOutcome> write(List<TargetChange> changes, InTransaction alsoInTransaction) {
        try {
            return writeOrFail(changes, alsoInTransaction);
        } catch (ChangeFailure failure) {
            throw failure.answer();
        }
    }

    /** As {@link #write}, but a failure also names the change that caused it, when one did. */
    List<ChangeOutcome> writeOrFail(List<TargetChange> changes) {
        return writeOrFail(changes, NOTHING_ELSE);
    }

    List<ChangeOutcome> writeOrFail(List<TargetChange> changes, InTransaction alsoInTransaction) {
        if (changes.isEmpty() && alsoInTransaction == NOTHING_ELSE) {
            return List.of();
        }
        boolean multiRow = true;
        for (int attempt = 1;; attempt++) {
            try {
                List<ChangeOutcome> outcomes = writeOnce(changes, multiRow, alsoInTransaction);
                pruneIfDue();
                return outcomes;
            } catch (SQLException e) {
                TargetChange change = e instanceof FailedChangeException failed ? failed.change() : null;
                SQLException cause = e instanceof FailedChangeException failed ? failed.cause() : e;
                String state = cause.getSQLState() == null ? "" : cause.getSQLState();
                if ((state.equals("40001") || state.equals("40P01")) && attempt < ATTEMPTS) {
                    LOG.debugf("retrying after SQLSTATE %s (attempt %d)", state, attempt);
                    pause(attempt);
                    continue;
                }
                if ((state.startsWith("08") || state.equals("57P01")) && attempt < ATTEMPTS) {
                    // a pooled connection the database dropped (restart, failover): the pool discards it; try another
                    LOG.debugf("retrying on a new connection after SQLSTATE %s", state);
                    continue;
                }
                if (e instanceof ChangeWriter.MultiRowFailedException && multiRow) {
                    // find the change at fault (or get past two spellings of one key) change by change
                    LOG.debugf("multi-row write failed with SQLSTATE %s; writing change by change", state);
                    multiRow = false;
                    attempt--;
                    continue;
                }
                if ((state.equals("42P01") || state.equals("42703")) && attempt == 1) {
                    // a table changed or replicator's own tables were dropped: look again, once
                    schemaReady = false;
                    if (change != null) {
                        catalogInvalidator.accept(change.table().id());
                    }
                    multiRow = true; // it was only turned off to find the change that names the table
                    continue;
                }
                throw new ChangeFailure(change, classify(change, cause));
            }
        }
    }

    /** Serialization failures, deadlocks and dropped connections: worth another attempt. */
    public static boolean isTransient(SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        return state.equals("40001") || state.equals("40P01") || state.startsWith("08") || state.equals("57P01");
    }

    private List<ChangeOutcome> writeOnce(List<TargetChange> changes, boolean multiRow,
            InTransaction alsoInTransaction) throws SQLException {
        ensureSchema();
        try (Connection connection = target.getConnection()) {
            connection.setAutoCommit(false);
            try {
                List<ChangeOutcome> outcomes = changes.isEmpty() ? List.of()
                        : new ChangeWriter(sql, connection, multiRow).write(changes,
                                alsoInTransaction == NOTHING_ELSE);
                alsoInTransaction.run(connection);
                connection.commit();
                return outcomes;
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(connection);
                throw e;
            }
        }
    }

    private RuntimeException classify(TargetChange change, SQLException e) {
        if (SqlFailures.kind(e) == SqlFailures.Kind.TABLE_CHANGED && change != null) {
            // the table changed under us: read the catalog again on the next delivery
            catalogInvalidator.accept(change.table().id());
        }
        String doing = change == null ? "the transaction" : "writing " + change.table().id();
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (change != null && state.startsWith("22") && e.getMessage() != null && !e.getMessage().contains("column")) {
            // a value the column's type cannot take: name the column, since the message must lose the value
            String column = ValueDiagnosis.columnAtFault(target, change);
            doing += column == null ? "" : ", " + column;
        }
        return SqlFailures.answer(change == null ? null : change.eventId(), "target", doing, e);
    }

    /** PostgreSQL's message without row values: see {@link SqlFailures#withoutValues}. */
    public static String withoutValues(SQLException e) {
        return SqlFailures.withoutValues(e);
    }

    private static void rollbackQuietly(Connection connection) {
        try {
            connection.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; the pool discards it and the transaction is gone with it
        }
    }

    private static void pause(int attempt) {
        try {
            Thread.sleep(10L * attempt * attempt + (long) (Math.random() * 20));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A write failed for good: the answer for the request, and the change that caused it when one did (null when
     * the failure belongs to no single change, such as a lost connection or a constraint checked at commit).
     */
    static final class ChangeFailure extends RuntimeException {
        private final transient TargetChange change;
        private final RuntimeException answer;

        ChangeFailure(TargetChange change, RuntimeException answer) {
            super(answer.getMessage(), answer, false, false);
            this.change = change;
            this.answer = answer;
        }

        TargetChange change() {
            return change;
        }

        RuntimeException answer() {
            return answer;
        }
    }

    /** A statement failed: which change it was writing. */
    static final class FailedChangeException extends SQLException {
        private final transient TargetChange change;
        private final SQLException cause;

        FailedChangeException(TargetChange change, SQLException cause) {
            super(cause.getMessage(), cause.getSQLState(), cause);
            this.change = change;
            this.cause = cause;
        }

        TargetChange change() {
            return change;
        }

        SQLException cause() {
            return cause;
        }
    }
}
