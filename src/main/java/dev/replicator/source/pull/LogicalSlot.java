package dev.replicator.source.pull;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import javax.sql.DataSource;

import org.postgresql.PGStatement;

import dev.replicator.apply.RejectedChangeException;
import dev.replicator.convert.TextSettings;
import dev.replicator.decode.PgOutputDecoder;
import dev.replicator.decode.TableId;

/**
 * A logical replication slot on the source. A pull streams it over the replication protocol ({@link SlotStream}) when
 * the source's datasource says how to connect, and otherwise through PostgreSQL's SQL interface: peek (nothing is
 * consumed), then advance once the target has committed what was read. Both return whole transactions in commit
 * order.
 */
public class LogicalSlot {

    /** One message of the slot: its WAL position and the pgoutput bytes. */
    @FunctionalInterface
    public interface MessageSink {
        /** @return false to stop reading (at a transaction's end) */
        boolean accept(long lsn, byte[] data) throws SQLException;
    }

    /** Where the slot stands and how far the source's WAL is ahead of it. */
    public record Standing(long confirmedLsn, long currentLsn) {

        public long lagBytes() {
            return Math.max(0, currentLsn - confirmedLsn);
        }
    }

    private static final int FETCH_ROWS = 2000;

    private final DataSource source;
    private final SlotSettings settings;
    /** How to open a replication connection to the source, or null: then the slot is peeked. */
    private final ReplicationConnector connector;

    public LogicalSlot(DataSource source, SlotSettings settings) {
        this.source = source;
        this.settings = settings;
        this.connector = ReplicationConnector.of(source);
    }

    /** Starts reading the slot from where it stands, up to the source's WAL end then. */
    SlotReading open(Standing standing) throws SQLException {
        if (!settings.stream() || connector == null) {
            return new PeekReading(this, settings.peekChanges());
        }
        return SlotStream.open(connector, settings, standing.confirmedLsn(), standing.currentLsn());
    }

    /** Confirms the reading up to {@code lsn}: the end of a transaction the target committed. */
    void confirm(SlotReading reading, long lsn) throws SQLException {
        reading.confirm(lsn);
    }

    /** The source database the slot is on. */
    DataSource source() {
        return source;
    }

    public String name() {
        return settings.slot();
    }

    /**
     * Checks that the publication and the slot exist (creating them when {@code create} is set) and that the slot
     * is a pgoutput slot of the source's database.
     */
    public void ensure(String eventId) throws SQLException {
        try (Connection connection = source.getConnection()) {
            connection.setAutoCommit(true);
            if (!exists(connection, "SELECT 1 FROM pg_publication WHERE pubname = ?", settings.publication())) {
                if (!settings.create()) {
                    throw new RejectedChangeException(eventId, "publication " + settings.publication()
                            + " does not exist on the source (create it, or set replicator.pull.create=true)");
                }
                createIgnoringRace(connection, "CREATE PUBLICATION " + TableId.quote(settings.publication())
                        + " FOR ALL TABLES");
            }
            try (PreparedStatement slot = connection.prepareStatement("SELECT plugin, slot_type,"
                    + " database = current_database() FROM pg_replication_slots WHERE slot_name = ?")) {
                slot.setString(1, settings.slot());
                try (ResultSet rs = slot.executeQuery()) {
                    if (rs.next()) {
                        if (!"logical".equals(rs.getString(2)) || !"pgoutput".equals(rs.getString(1))
                                || !rs.getBoolean(3)) {
                            throw new RejectedChangeException(eventId, "replication slot " + settings.slot()
                                    + " is not a logical pgoutput slot of the source's database");
                        }
                        return;
                    }
                }
            }
            if (!settings.create()) {
                throw new RejectedChangeException(eventId, "replication slot " + settings.slot()
                        + " does not exist on the source (create it with the pgoutput plugin, or set"
                        + " replicator.pull.create=true)");
            }
            try (PreparedStatement create = connection.prepareStatement(
                    "SELECT pg_create_logical_replication_slot(?, 'pgoutput')")) {
                create.setString(1, settings.slot());
                create.execute();
            } catch (SQLException e) {
                if (!"42710".equals(e.getSQLState())) { // another pull created it first
                    throw e;
                }
            }
        }
    }

    /**
     * The tables the publication holds now, named as its changes name them (the partitions, or their root where the
     * publication publishes through it).
     */
    List<TableId> published() throws SQLException {
        try (Connection connection = source.getConnection();
                PreparedStatement query = connection.prepareStatement(
                        "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = ?")) {
            connection.setAutoCommit(true);
            query.setString(1, settings.publication());
            List<TableId> tables = new ArrayList<>();
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    tables.add(new TableId(rs.getString(1), rs.getString(2)));
                }
            }
            return tables;
        }
    }

    public Standing standing() throws SQLException {
        try (Connection connection = source.getConnection();
                PreparedStatement query = connection.prepareStatement("SELECT (confirmed_flush_lsn - '0/0')::bigint,"
                        + " (pg_current_wal_lsn() - '0/0')::bigint FROM pg_replication_slots WHERE slot_name = ?")) {
            connection.setAutoCommit(true);
            query.setString(1, settings.slot());
            try (ResultSet rs = query.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("replication slot " + settings.slot() + " does not exist", "42704");
                }
                return new Standing(rs.getLong(1), rs.getLong(2));
            }
        }
    }

    /**
     * Reads up to about {@code maxMessages} messages (whole transactions) without consuming them, streaming them to
     * the sink, and returns how many were read. Fewer than asked means the slot held no more.
     */
    public long peek(int maxMessages, MessageSink sink) throws SQLException {
        try (Connection connection = source.getConnection()) {
            connection.setAutoCommit(false); // a cursor: rows arrive as they are fetched, not all at once
            try (Statement settings = connection.createStatement()) {
                // decoding runs in this session: its settings decide how every value of the slot is printed
                settings.execute(TextSettings.SET_LOCAL);
            }
            try (PreparedStatement peek = connection.prepareStatement("SELECT (lsn - '0/0')::bigint, data"
                    + " FROM pg_logical_slot_peek_binary_changes(?, NULL, ?, 'proto_version', '1',"
                    + " 'publication_names', ?)")) {
                peek.setFetchSize(FETCH_ROWS);
                // binary results: as text, the server spent a quarter of its time writing the messages in hex
                peek.unwrap(PGStatement.class).setPrepareThreshold(-1);
                peek.setString(1, settings.slot());
                peek.setInt(2, maxMessages);
                peek.setString(3, settings.publication());
                long read = 0;
                try (ResultSet rs = peek.executeQuery()) {
                    while (rs.next()) {
                        read++;
                        if (!sink.accept(rs.getLong(1), rs.getBytes(2))) {
                            break;
                        }
                    }
                } finally {
                    connection.rollback();
                }
                return read;
            }
        }
    }

    /** Confirms the slot up to {@code lsn}: the source may now recycle the WAL before it. */
    public void advance(long lsn) throws SQLException {
        try (Connection connection = source.getConnection();
                PreparedStatement advance = connection.prepareStatement(
                        "SELECT pg_replication_slot_advance(?, ?::pg_lsn)")) {
            connection.setAutoCommit(true);
            advance.setString(1, settings.slot());
            advance.setString(2, PgOutputDecoder.lsnText(lsn));
            advance.execute();
        }
    }

    private static boolean exists(Connection connection, String sql, String name) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement(sql)) {
            query.setString(1, name);
            try (ResultSet rs = query.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static void createIgnoringRace(Connection connection, String ddl) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(ddl);
        } catch (SQLException e) {
            if (!"42710".equals(e.getSQLState())) {
                throw e;
            }
        }
    }
}
