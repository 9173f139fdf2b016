package dev.replicator.apply;

import static dev.replicator.apply.TextParameters.bindAll;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;


import dev.replicator.decode.Position;
import dev.replicator.route.TargetChange;
import dev.replicator.route.TargetTable;

/**
 * Makes rows of the target equal to the source's current rows, without a position of their own: lock, then read.
 * In one target transaction it locks each row's position record (in the same stable order as {@link ChangeWriter}),
 * only then reads the rows from the source, writes or deletes them and keeps the recorded position (raised to the
 * read position, which ranks like a snapshot read). Safe against the stream: a change already applied was committed
 * at the source before the read, so the read includes it; a change not yet applied has a newer position than the
 * record and applies afterwards, waiting on the lock if it comes meanwhile. Retried and answered as
 * {@link TargetTransactions} says.
 */
public final class RefreshWriter {

    /** Reads the source's rows for the keys; called while the target holds the rows' locks. */
    @FunctionalInterface
    public interface CurrentRows {
        SourceRows read(List<List<String>> keys);
    }

    /**
     * @param rows   per requested key, in request order: the row as an upsert, or null when the source has no such row
     * @param readAt where the read stands, as a snapshot read: {@code (0, lsn)}
     */
    public record SourceRows(List<TargetChange> rows, Position readAt) {
    }

    /** What a refresh did: rows written, rows deleted, rows left alone because the record was already newer. */
    public record Outcome(int written, int deleted, int stale) {
        public Outcome plus(Outcome other) {
            return new Outcome(written + other.written, deleted + other.deleted, stale + other.stale);
        }
    }

    private final Sql sql;
    private final TargetWriter writer;

    /** @param writer the change writer, whose transaction policy the refresh shares */
    public RefreshWriter(Sql sql, TargetWriter writer) {
        this.sql = sql;
        this.writer = writer;
    }

    /**
     * Refreshes the rows with the given keys of one table.
     *
     * @param keys  key values (text input, in key order) of the rows; duplicates are refreshed once
     * @param floor the position the refresh stands for (a change whose image was incomplete), or null: the refresh
     *              is skipped for a row whose record is not older than it, and the record is raised to it otherwise
     */
    public Outcome refresh(TargetTable table, List<List<String>> keys, Position floor, CurrentRows source) {
        Map<String, List<String>> unique = new LinkedHashMap<>();
        keys.stream().sorted(Comparator.comparing(k -> String.join("\u0000", k)))
                .forEach(k -> unique.putIfAbsent(String.join("\u0000", k), k));
        List<List<String>> ordered = new ArrayList<>(unique.values());
        if (ordered.isEmpty()) {
            return new Outcome(0, 0, 0);
        }
        try {
            return writer.transactions().run(table.id(), connection -> refreshOnce(connection, table, ordered, floor,
                    source));
        } catch (SQLException e) {
            throw TargetTransactions.answer(null, "target", "refreshing " + table.id() + " with the source's rows", e);
        }
    }

    private Outcome refreshOnce(Connection connection, TargetTable table, List<List<String>> keys, Position floor,
            CurrentRows source) throws SQLException {
        TableLocks.take(connection, table.id(), false);
        List<Position> recorded = lockPositions(connection, table, keys);
        SourceRows current = source.read(keys);
        return write(connection, table, keys, recorded, floor, current);
    }

    private List<Position> lockPositions(Connection connection, TargetTable table, List<List<String>> keys)
            throws SQLException {
        List<Position> recorded = new ArrayList<>(keys.size());
        try (PreparedStatement lock = connection.prepareStatement(sql.lockRowPosition(table))) {
            for (List<String> key : keys) {
                lock.setString(1, table.id().toString());
                bindAll(lock, 2, key);
                try (ResultSet rs = lock.executeQuery()) {
                    rs.next();
                    recorded.add(new Position(rs.getLong(1), rs.getLong(2)));
                }
            }
        }
        return recorded;
    }

    private Outcome write(Connection connection, TargetTable table, List<List<String>> keys, List<Position> recorded,
            Position floor, SourceRows current) throws SQLException {
        int written = 0;
        int deleted = 0;
        int stale = 0;
        try (Statements statements = new Statements(connection)) {
            RowBatchWriter rows = new RowBatchWriter(sql, statements);
            PreparedStatement delete = statements.get(sql.delete(table));
            PreparedStatement record = statements.get(sql.setRowPosition(table));
            for (int i = 0; i < keys.size(); i++) {
                Position was = recorded.get(i);
                if (floor != null && !floor.isAfter(was)) {
                    stale++;
                    continue;
                }
                TargetChange row = current.rows().get(i);
                if (row == null) {
                    bindAll(delete, 1, keys.get(i));
                    delete.executeUpdate();
                    deleted++;
                } else {
                    rows.upsert(table, List.of(row));
                    written++;
                }
                Position now = newest(newest(was, floor), current.readAt());
                record.setLong(1, now.commit());
                record.setLong(2, now.change());
                record.setBoolean(3, row == null);
                record.setString(4, table.id().toString());
                bindAll(record, 5, keys.get(i));
                record.executeUpdate();
            }
        }
        return new Outcome(written, deleted, stale);
    }

    private static Position newest(Position a, Position b) {
        return b == null || a.compareTo(b) >= 0 ? a : b;
    }
}
