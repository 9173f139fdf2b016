package dev.replicator.apply;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;

import javax.sql.DataSource;

/** Parks events that can never be applied in {@code <schema>.rejected}, for inspection and replay. */
public final class RejectedEvents {

    private final DataSource target;
    private final Sql sql;
    private final TargetSchema schema;

    public RejectedEvents(DataSource target, Sql sql, TargetSchema schema) {
        this.target = target;
        this.sql = sql;
        this.schema = schema;
    }

    /**
     * Parks one event on a connection of its own and returns its row id. Throws {@link TargetUnavailableException}
     * when the target cannot take it, so the event is retried rather than lost.
     */
    public long park(String eventId, String eventType, int status, String reason, String eventJson) {
        try {
            schema.ensure();
            try (Connection connection = target.getConnection()) {
                connection.setAutoCommit(true);
                return park(connection, List.of(new ParkedEvent(eventId, eventType, status, reason, null, eventJson)))
                        .get(0);
            }
        } catch (SQLException e) {
            throw new TargetUnavailableException(
                    "cannot park the rejected event in the target: " + TargetTransactions.withoutValues(e), e);
        }
    }

    /**
     * Parks events on the caller's connection (in its transaction, for a batch whose good changes commit with them)
     * and returns their row ids in order.
     */
    public List<Long> park(Connection connection, List<ParkedEvent> events) throws SQLException {
        List<Long> ids = new ArrayList<>(events.size());
        try (PreparedStatement insert = connection.prepareStatement(sql.parkRejected())) {
            for (ParkedEvent event : events) {
                insert.setString(1, event.eventId());
                insert.setString(2, event.eventType());
                insert.setInt(3, event.status());
                insert.setString(4, event.reason());
                if (event.batchIndex() == null) {
                    insert.setNull(5, Types.INTEGER);
                } else {
                    insert.setInt(5, event.batchIndex());
                }
                insert.setString(6, event.eventJson());
                try (ResultSet rs = insert.executeQuery()) {
                    rs.next();
                    ids.add(rs.getLong(1));
                }
            }
        }
        return ids;
    }
}
