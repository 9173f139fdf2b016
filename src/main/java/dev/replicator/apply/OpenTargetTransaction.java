package dev.replicator.apply;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import org.jboss.logging.Logger;

import dev.replicator.decode.TableId;
import dev.replicator.route.TargetChange;
import dev.replicator.schema.SchemaChange;

/**
 * {@link OpenWrite} on one connection of the target, for pulled changes ({@link PulledWriter}). Each write runs under
 * a savepoint: when a multi-row statement fails, the write is made again change by change from the savepoint to name
 * the change at fault (or to get past two spellings of one key), without losing the writes before it.
 */
final class OpenTargetTransaction implements OpenWrite {

    private static final Logger LOG = Logger.getLogger(OpenTargetTransaction.class);

    private final Connection connection;
    private final Sql sql;
    private final TargetTransactions transactions;
    private final TombstonePruning pruning;
    private final SchemaApplier schema;
    /** Additions to the target's schema made in this transaction, reported once it commits. */
    private final List<SchemaChange> made = new ArrayList<>();
    private boolean closed;

    OpenTargetTransaction(Connection connection, Sql sql, TargetTransactions transactions,
            TombstonePruning pruning, SchemaApplier schema) {
        this.connection = connection;
        this.sql = sql;
        this.transactions = transactions;
        this.pruning = pruning;
        this.schema = schema;
    }

    /**
     * Takes the locks of every table the writes may touch before the first write ({@link TableLocks#takeAllExclusive}):
     * a write that took its own tables' locks as it came would hold those of the writes before it, out of name order,
     * and could deadlock with a writer that takes its locks in name order, holding one and waiting for another.
     */
    void lockFirst(Collection<TableId> tables) {
        try {
            if (!TableLocks.takeAllExclusive(connection, tables)) {
                LOG.infof("%d tables are more than max_locks_per_transaction: each write of this transaction locks"
                        + " its own tables as it comes", tables.size());
            }
        } catch (SQLException e) {
            throw fail(e);
        }
    }

    @Override
    public List<ChangeOutcome> write(List<TargetChange> changes) {
        if (closed) {
            throw new IllegalStateException("the transaction is closed");
        }
        if (changes.isEmpty()) {
            return List.of();
        }
        try {
            made.addAll(schema.apply(connection, changes));
            Savepoint before = connection.setSavepoint();
            List<ChangeOutcome> outcomes;
            try {
                outcomes = new PulledWriter(sql, connection, true, pruning.retention()).write(changes);
            } catch (ChangeWriter.MultiRowFailedException e) {
                connection.rollback(before);
                outcomes = new PulledWriter(sql, connection, false, pruning.retention()).write(changes);
            }
            connection.releaseSavepoint(before);
            return outcomes;
        } catch (SQLException e) {
            throw fail(e);
        } catch (TargetWriter.ChangeFailure failure) {
            close();
            throw failure.answer();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public void commit() {
        try {
            schema.close(connection, made);
            connection.commit();
        } catch (SQLException e) {
            throw fail(e);
        } finally {
            close();
        }
        schema.committed(made);
        pruning.pruneIfDue();
    }

    private RuntimeException fail(SQLException e) {
        close();
        return TargetWriter.failure(transactions, e).answer();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try (connection) {
            connection.rollback(); // nothing left to roll back after a commit
        } catch (SQLException ignored) {
            // a broken connection: the pool discards it, and the transaction is gone with it
        }
    }
}
