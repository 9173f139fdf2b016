package dev.replicator.source.pull;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import org.postgresql.PGConnection;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

/**
 * A slot read over the replication protocol, as PostgreSQL's own subscriber reads it: the source's WAL sender decodes
 * and sends while the target writes, instead of building a whole peek before its first row, and decodes from the
 * slot's restart point once per pull instead of once per peek and again per confirmation. It reads up to the WAL end
 * of when the pull began ({@code until}): a keepalive from the sender names how far it has decoded, and comes after
 * everything it sent before, so one at or past {@code until} outside a transaction means nothing before it is left.
 * Confirmations are sent with the status updates; the last one when the stream closes.
 */
final class SlotStream implements SlotReading {

    /** Idle this long, the reader asks the sender where it stands (a status update that requests a keepalive). */
    private static final long ASK_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    /** While the reader waits for the writer, a status update this often keeps the sender from timing out. */
    private static final long ALIVE_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Connection connection;
    private final PGReplicationStream stream;
    private final long until;
    private long askedAt;

    private SlotStream(Connection connection, PGReplicationStream stream, long until) {
        this.connection = connection;
        this.stream = stream;
        this.until = until;
    }

    /** Starts streaming the slot after {@code from} (its confirmed position), to be read up to {@code until}. */
    static SlotStream open(ReplicationConnector connector, SlotSettings settings, long from, long until)
            throws SQLException {
        Connection connection = connector.open();
        try {
            PGReplicationStream stream = connection.unwrap(PGConnection.class).getReplicationAPI()
                    .replicationStream().logical()
                    .withSlotName(settings.slot()) // checked at start-up: lower-case letters, digits, underscores
                    .withStartPosition(LogSequenceNumber.valueOf(from))
                    .withSlotOption("proto_version", "1")
                    .withSlotOption("publication_names", settings.publication()) // checked likewise
                    .withStatusInterval(1, TimeUnit.SECONDS)
                    .withAutomaticFlush(false) // only what the target committed is confirmed
                    .start();
            return new SlotStream(connection, stream, until);
        } catch (SQLException | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    @Override
    public long read(LogicalSlot.MessageSink sink, BooleanSupplier cancelled) throws SQLException {
        long messages = 0;
        boolean inTransaction = false;
        while (!cancelled.getAsBoolean()) {
            ByteBuffer payload = stream.readPending();
            if (payload == null) {
                if (!inTransaction && stream.getLastReceiveLSN().asLong() >= until) {
                    return messages;
                }
                long now = System.nanoTime();
                if (now - askedAt >= ASK_EVERY_NANOS) {
                    askedAt = now;
                    stream.forceUpdateStatus();
                }
                LockSupport.parkNanos(50_000);
                continue;
            }
            long lsn = stream.getLastReceiveLSN().asLong();
            byte[] data = new byte[payload.remaining()];
            payload.get(data);
            messages++;
            byte type = data.length > 0 ? data[0] : 0;
            if (type == 'B') {
                inTransaction = true;
            }
            boolean more = sink.accept(lsn, data);
            if (type == 'C') {
                inTransaction = false;
                // a commit message's position is its transaction's end
                if (!more || lsn >= until) {
                    return messages;
                }
            }
        }
        return messages;
    }

    @Override
    public boolean drained(long messages) {
        return true;
    }

    @Override
    public void confirm(long lsn) {
        LogSequenceNumber confirmed = LogSequenceNumber.valueOf(lsn);
        stream.setFlushedLSN(confirmed);
        stream.setAppliedLSN(confirmed);
    }

    @Override
    public void waiting() throws SQLException {
        long now = System.nanoTime();
        if (now - askedAt >= ALIVE_EVERY_NANOS) {
            askedAt = now;
            stream.forceUpdateStatus();
        }
    }

    /** Sends the last confirmation and ends the stream; the sender has taken it when this returns. */
    @Override
    public void close() throws SQLException {
        try (connection) {
            if (!stream.isClosed()) {
                stream.forceUpdateStatus();
                stream.close();
            }
        }
    }
}
