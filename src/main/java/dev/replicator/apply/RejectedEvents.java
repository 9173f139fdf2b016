package dev.replicator.apply;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;

import javax.sql.DataSource;

/**
 * Parks events that can never be applied in {@code <schema>.rejected}, for inspection and replay: the request's
 * headers and the exact bytes of its body, and a jsonb view of it where jsonb can hold the body. What an event holds
 * never keeps it from being parked: the view is left out when the database refuses it.
 */
public final class RejectedEvents {

    private final Sql sql;
    private final TargetTransactions transactions;

    public RejectedEvents(DataSource target, Sql sql, TargetSchema schema) {
        this.sql = sql;
        // retries as every target transaction does, and creates the table again if it was dropped
        this.transactions = new TargetTransactions(target, schema, table -> {
        });
    }

    /** What keeping several events came to: the events kept and their row ids, in order, and those refused. */
    public record Kept(List<ParkedEvent> events, List<Long> ids, List<NotKeptException> refused) {
    }

    /**
     * Parks one event in a transaction of its own and returns its row id. Throws {@link TargetUnavailableException}
     * (503) when the target cannot take it now, so the event is retried rather than lost, and
     * {@link NotKeptException} when the target will not keep it for good, so the event is answered as it deserves.
     */
    public long park(ParkedEvent event) {
        Kept kept;
        try {
            kept = transactions.run(null, connection -> park(connection, List.of(event)));
        } catch (SQLException e) {
            throw new TargetUnavailableException(
                    "cannot park the rejected event in the target: " + TargetTransactions.withoutValues(e), e);
        }
        if (!kept.refused().isEmpty()) {
            throw kept.refused().get(0);
        }
        return kept.ids().get(0);
    }

    /**
     * Parks events on the caller's connection, in its transaction (for a batch whose good changes commit with them).
     * Each event is kept or refused on its own: one the target refuses for good (a constraint, a trigger, a missing
     * privilege) is rolled back to before it and returned as refused, and the others are kept. Throws what a retry
     * may fix (a lost connection, a lock, a dropped table), which fails the whole transaction.
     */
    public Kept park(Connection connection, List<ParkedEvent> events) throws SQLException {
        List<ParkedEvent> kept = new ArrayList<>(events.size());
        List<Long> ids = new ArrayList<>(events.size());
        List<NotKeptException> refused = new ArrayList<>();
        try (PreparedStatement withView = connection.prepareStatement(sql.parkRejected(true));
                PreparedStatement bytesOnly = connection.prepareStatement(sql.parkRejected(false))) {
            for (ParkedEvent event : events) {
                Savepoint before = connection.setSavepoint();
                try {
                    ids.add(insert(connection, before, event, withView, bytesOnly));
                    connection.releaseSavepoint(before);
                    kept.add(event);
                } catch (SQLException e) {
                    if (!permanent(e)) {
                        throw e;
                    }
                    connection.rollback(before);
                    refused.add(new NotKeptException(event, e));
                }
            }
        }
        return new Kept(kept, ids, refused);
    }

    /**
     * Inserts the event with its jsonb view when one may be made, else (or when the database refuses the view: the
     * body is JSON that jsonb cannot hold) with its bytes only.
     */
    private static long insert(Connection connection, Savepoint before, ParkedEvent event, PreparedStatement withView,
            PreparedStatement bytesOnly) throws SQLException {
        if (event.request().viewable()) {
            try {
                return insert(event, withView, true);
            } catch (SQLException e) {
                if (!permanent(e)) {
                    throw e;
                }
                connection.rollback(before);
            }
        }
        return insert(event, bytesOnly, false);
    }

    private static long insert(ParkedEvent event, PreparedStatement insert, boolean view) throws SQLException {
        KeptRequest request = event.request();
        int p = 1;
        insert.setString(p++, text(event.eventId()));
        insert.setString(p++, text(event.eventType()));
        insert.setInt(p++, event.status());
        insert.setString(p++, text(event.reason()));
        if (event.batchIndex() == null) {
            insert.setNull(p++, Types.INTEGER);
        } else {
            insert.setInt(p++, event.batchIndex());
        }
        if (view) {
            insert.setString(p++, request.headersJson());
        }
        insert.setBytes(p++, request.headerLines());
        insert.setBytes(p, request.body());
        try (ResultSet rs = insert.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Not worth another attempt: the database refuses this row for good (422 in the one failure policy). */
    private static boolean permanent(SQLException e) {
        return TargetTransactions.kind(e).status() != 503;
    }

    /**
     * Text for a text column, which cannot hold a zero character: it is written as its JSON escape; a lone UTF-16
     * surrogate becomes U+FFFD. The event's exact bytes are in the body.
     */
    static String text(String value) {
        if (value == null) {
            return null;
        }
        StringBuilder text = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == 0) {
                text.append("\\u0000");
            } else if (Character.isHighSurrogate(c) && i + 1 < value.length()
                    && Character.isLowSurrogate(value.charAt(i + 1))) {
                text.append(c).append(value.charAt(++i));
            } else {
                text.append(Character.isSurrogate(c) ? '\uFFFD' : c);
            }
        }
        return text.toString();
    }
}
