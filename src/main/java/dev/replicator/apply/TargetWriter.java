package dev.replicator.apply;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;

import javax.sql.DataSource;

import dev.replicator.decode.TableId;
import dev.replicator.route.TargetChange;
import dev.replicator.schema.SchemaChange;

/**
 * Applies changes (of one request, or of a group of requests from {@link GroupCommit}) to the target in one
 * transaction, all or nothing, and returns only after the commit. Retries and answers are the
 * {@link TargetTransactions} policy's: "the target refuses this change" (422) or "try again later" (503).
 */
public class TargetWriter {

    private final TargetTransactions transactions;
    private final Sql sql;
    private final TombstonePruning pruning;
    private final SchemaApplier schema;

    public TargetWriter(TargetTransactions transactions, Sql sql, TombstonePruning pruning) {
        this(transactions, sql, pruning, SchemaApplier.NONE);
    }

    /** @param schema makes the additions to the target's schema that changes count on, in their transaction */
    public TargetWriter(TargetTransactions transactions, Sql sql, TombstonePruning pruning, SchemaApplier schema) {
        this.transactions = transactions;
        this.sql = sql;
        this.pruning = pruning;
        this.schema = schema;
    }

    public TargetWriter(DataSource target, Sql sql, String schema, Consumer<TableId> catalogInvalidator) {
        this(target, sql, schema, Duration.ofDays(7), catalogInvalidator);
    }

    public TargetWriter(DataSource target, Sql sql, String schema, Duration tombstoneRetention,
            Consumer<TableId> catalogInvalidator) {
        this(new TargetTransactions(target, new TargetSchema(target, sql, schema), catalogInvalidator), sql,
                new TombstonePruning(target, sql, tombstoneRetention));
    }

    /** The policy this writer's transactions follow, for writers beside it. */
    public TargetTransactions transactions() {
        return transactions;
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

    /**
     * Opens a target transaction for several writes that commit together (a source transaction too large to hold at
     * once), holding from the start the locks of the tables they may write, in name order; see {@link OpenWrite} for
     * what it does not retry.
     */
    public OpenWrite open(Collection<TableId> tables) {
        OpenTargetTransaction open;
        try {
            open = new OpenTargetTransaction(transactions.begin(), sql, transactions, pruning, schema);
        } catch (SQLException e) {
            throw transactions.answer(null, e);
        }
        open.lockFirst(tables);
        return open;
    }

    /**
     * Writes pulled changes (whole source transactions, in commit order) in one transaction, recording how far pull
     * has applied each table instead of a position per row ({@link PulledWriter}); outcomes and answers as
     * {@link #write(List)}'s.
     */
    public List<ChangeOutcome> writePulled(List<TargetChange> changes) {
        if (changes.isEmpty()) {
            return List.of();
        }
        try {
            return run(changes, (connection, multiRow) -> new PulledWriter(sql, connection, multiRow,
                    pruning.retention()).write(changes));
        } catch (ChangeFailure failure) {
            throw failure.answer();
        }
    }

    /**
     * Makes additions to the target's schema in a transaction of their own (for jobs that copy rows and write no
     * changes); answered as writes are: 422 for a missing privilege, 503 for an unreachable target.
     */
    public void makeSchema(List<SchemaChange> additions) {
        if (additions.isEmpty()) {
            return;
        }
        List<List<SchemaChange>> made = new ArrayList<>(List.of(List.of()));
        try {
            transactions.run(null, connection -> {
                made.set(0, schema.applyAll(connection, additions));
                schema.close(connection, made.get(0));
                return null;
            });
        } catch (SQLException e) {
            throw transactions.answer(null, e);
        }
        schema.committed(made.get(0));
    }

    /** As {@link #write}, but a failure also names the change that caused it, when one did. */
    List<ChangeOutcome> writeOrFail(List<TargetChange> changes) {
        return writeOrFail(changes, NOTHING_ELSE);
    }

    List<ChangeOutcome> writeOrFail(List<TargetChange> changes, InTransaction alsoInTransaction) {
        if (changes.isEmpty() && alsoInTransaction == NOTHING_ELSE) {
            return List.of();
        }
        return run(changes, (connection, multiRow) -> {
            List<ChangeOutcome> written = changes.isEmpty() ? List.of()
                    : new ChangeWriter(sql, connection, multiRow).write(changes, alsoInTransaction == NOTHING_ELSE);
            alsoInTransaction.run(connection);
            return written;
        });
    }

    /** One attempt of a write, with multi-row statements or change by change. */
    @FunctionalInterface
    private interface Attempt {
        List<ChangeOutcome> write(Connection connection, boolean multiRow) throws SQLException;
    }

    /**
     * Runs the attempts in one transaction each, as the policy retries them, falling back to change by change when a
     * multi-row statement failed; each attempt first makes the additions to the schema the changes count on. Prunes
     * tombstones when due. A failure that stays is thrown as a {@link ChangeFailure}.
     */
    private List<ChangeOutcome> run(List<TargetChange> changes, Attempt attempt) {
        Mode mode = new Mode();
        List<List<SchemaChange>> made = new ArrayList<>(List.of(List.of()));
        try {
            List<ChangeOutcome> outcomes = transactions.run(null, connection -> {
                made.set(0, schema.apply(connection, changes));
                List<ChangeOutcome> written = attempt.write(connection, mode.multiRow);
                schema.close(connection, made.get(0));
                return written;
            }, mode::fallBack);
            schema.committed(made.get(0));
            pruning.pruneIfDue();
            return outcomes;
        } catch (SQLException e) {
            throw failure(transactions, e);
        }
    }

    /** A write that failed for good: its answer, and the change the failure names when one does. */
    static ChangeFailure failure(TargetTransactions transactions, SQLException e) {
        TargetChange change = e instanceof FailedChangeException failed ? failed.change() : null;
        SQLException cause = e instanceof FailedChangeException failed ? failed.cause()
                : e instanceof ChangeWriter.MultiRowFailedException && e.getCause() instanceof SQLException c ? c
                : e;
        return new ChangeFailure(change, transactions.answer(change, cause));
    }

    /** How the next attempt writes: with multi-row statements, or change by change to name the change at fault. */
    private static final class Mode {
        boolean multiRow = true;

        boolean fallBack(SQLException failure) {
            if (failure instanceof ChangeWriter.MultiRowFailedException && multiRow) {
                // find the change at fault (or get past two spellings of one key) change by change
                multiRow = false;
                return true;
            }
            multiRow = true; // change by change only names the change; whatever comes next starts over
            return false;
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
}
