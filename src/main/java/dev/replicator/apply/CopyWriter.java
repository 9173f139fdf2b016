package dev.replicator.apply;

import static dev.replicator.apply.TextParameters.bindAll;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;


import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

import dev.replicator.decode.Position;
import dev.replicator.route.TargetTable;

/**
 * Writes one backfill chunk with {@code COPY ... FROM STDIN}, in one target transaction, without recording positions.
 * The copy ranks below every streamed change: it writes only keys that have no position row, so a streamed change
 * wins whichever arrives first and a streamed delete (its tombstone) is never undone. When the chunk's key range is
 * empty in the target and the table has no position rows (the usual initial seed), the rows go straight into the
 * table; otherwise into a staging table first, then into the table in one {@code INSERT ... SELECT}.
 *
 * <p>Lock: the check for positions and the write must see every claim a streamed writer committed, and no writer may
 * claim a key of the table between them (its write would be overwritten, or its delete undone). Writers hold the
 * table's advisory lock shared until they commit ({@link Sql#lockTables}); the copy takes it exclusive, as a truncate
 * does, and checks after it has it, in statements whose snapshots are taken after the lock was granted. Only the
 * check and the write of the table hold it: a staged chunk is read from the source before the lock.
 */
public final class CopyWriter {

    /** Streams a chunk's rows as COPY text, columns in the given order, into the sink; a failure is the source's. */
    public interface RowSource {
        void copyInto(CopyIn sink) throws SQLException;
    }

    /** Work in the chunk's transaction after its rows (the checkpoint), given the number of rows copied. */
    public interface InTransaction {
        void run(Connection connection, long copied) throws SQLException;
    }

    /**
     * A chunk: the rows of the key range after {@code after} (null: from the first key) up to {@code last}
     * (null: to the end), read at {@code readAt}.
     */
    public record Chunk(TargetTable table, List<String> columns, List<String> after, List<String> last,
            Position readAt) {
    }

    /**
     * @param copied rows the chunk held
     * @param applied rows written (the others had a position: the stream wrote or deleted them)
     * @param direct copied straight into the table
     */
    public record Outcome(long copied, long applied, boolean direct) {
    }

    private final TargetTransactions transactions;
    private final CopySql sql;

    /** @param transactions the policy every target transaction follows (retries, rollback, answers) */
    public CopyWriter(TargetTransactions transactions, CopySql sql) {
        this.transactions = transactions;
        this.sql = sql;
    }

    public Outcome write(String eventId, Chunk chunk, RowSource rows, InTransaction then) {
        TargetTable table = chunk.table();
        try {
            // a retried attempt copies the chunk again from the same source snapshot
            return transactions.run(table.id(), connection -> writeOnce(connection, chunk, rows, then));
        } catch (SQLException e) {
            throw TargetTransactions.answer(eventId, "target", "copying rows into " + table.id(), e);
        }
    }

    private Outcome writeOnce(Connection connection, Chunk chunk, RowSource rows, InTransaction then)
            throws SQLException {
        TargetTable table = chunk.table();
        boolean locked = false;
        boolean direct = unwritten(connection, chunk);
        if (direct) {
            TableLocks.take(connection, table.id(), true);
            locked = true;
            direct = !truncatedSince(connection, chunk) && unwritten(connection, chunk);
        }
        Outcome outcome;
        if (direct) {
            long copied = copy(connection, sql.copyIntoTable(table, chunk.columns()), rows);
            outcome = new Outcome(copied, copied, true);
        } else {
            try (Statement create = connection.createStatement()) {
                create.execute(sql.createStaging(table, chunk.columns()));
            }
            long copied = copy(connection, sql.copyIntoStaging(chunk.columns()), rows);
            if (!locked) {
                TableLocks.take(connection, table.id(), true);
            }
            long applied = truncatedSince(connection, chunk) ? 0 : merge(connection, chunk);
            outcome = new Outcome(copied, applied, false);
        }
        then.run(connection, outcome.copied());
        return outcome;
    }

    /** Runs one COPY FROM STDIN with the rows given; returns the rows written. */
    static long copy(Connection connection, String copySql, RowSource rows) throws SQLException {
        CopyIn sink = connection.unwrap(PGConnection.class).getCopyAPI().copyIn(copySql);
        try {
            rows.copyInto(sink);
            return sink.endCopy();
        } finally {
            if (sink.isActive()) {
                sink.cancelCopy();
            }
        }
    }

    private long merge(Connection connection, Chunk chunk) throws SQLException {
        try (PreparedStatement merge = connection.prepareStatement(sql.mergeStaging(chunk.table(), chunk.columns()))) {
            merge.setString(1, chunk.table().id().toString());
            return merge.executeUpdate();
        }
    }

    private boolean unwritten(Connection connection, Chunk chunk) throws SQLException {
        try (PreparedStatement check = connection.prepareStatement(
                sql.unwritten(chunk.table(), chunk.after() != null, chunk.last() != null))) {
            check.setString(1, chunk.table().id().toString());
            int i = 2;
            if (chunk.after() != null) {
                i = bindAll(check, i, chunk.after());
            }
            if (chunk.last() != null) {
                bindAll(check, i, chunk.last());
            }
            try (ResultSet rs = check.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    private boolean truncatedSince(Connection connection, Chunk chunk) throws SQLException {
        try (PreparedStatement check = connection.prepareStatement(sql.truncatedSince())) {
            check.setString(1, chunk.table().id().toString());
            check.setLong(2, chunk.readAt().commit());
            check.setLong(3, chunk.readAt().change());
            try (ResultSet rs = check.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }
}
