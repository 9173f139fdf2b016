package dev.replicator.observe;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * A replication slot as the source's catalog shows it ({@code pg_replication_slots}): a catalog read that touches no
 * replicated row.
 *
 * @param slot         its name
 * @param confirmedLsn the position the slot is confirmed up to ({@code 16/B374D848}); null before the first
 * @param lagBytes     WAL the slot retains: the source's current WAL position minus {@code confirmedLsn}
 * @param active       a session is reading the slot now (a pull, or something else)
 * @param walStatus    PostgreSQL's {@code wal_status}: reserved, extended, unreserved or lost
 */
public record SlotState(String slot, String confirmedLsn, long lagBytes, boolean active, String walStatus) {

    public static final String SELECT = "SELECT confirmed_flush_lsn::text,"
            + " coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn), 0)::bigint, active, wal_status"
            + " FROM pg_replication_slots WHERE slot_name = ? AND database = current_database()";

    /** The slot of the connection's database, or empty when it has none of that name. */
    public static Optional<SlotState> read(Connection source, String slot) throws SQLException {
        try (PreparedStatement select = source.prepareStatement(SELECT)) {
            select.setString(1, slot);
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() ? Optional.of(of(slot, rs)) : Optional.empty();
            }
        }
    }

    /** The slot from the current row of a result of {@link #SELECT}. */
    public static SlotState of(String slot, ResultSet rs) throws SQLException {
        return new SlotState(slot, rs.getString(1), Math.max(0, rs.getLong(2)), rs.getBoolean(3), rs.getString(4));
    }
}
