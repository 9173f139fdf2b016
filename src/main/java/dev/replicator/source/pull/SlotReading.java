package dev.replicator.source.pull;

import java.sql.SQLException;
import java.util.function.BooleanSupplier;

/**
 * One reading of a slot, in commit order, from where it stood when the reading began, and the confirmation of what the
 * target committed of it. The reading thread reads; the writing thread confirms; the writing thread closes it once the
 * reading thread is done with it.
 */
interface SlotReading extends AutoCloseable {

    /**
     * Reads whole transactions into the sink until the slot holds no more of what was written before the reading
     * began, the sink stops at a transaction's end, or {@code cancelled}; returns how many messages were read.
     */
    long read(LogicalSlot.MessageSink sink, BooleanSupplier cancelled) throws SQLException;

    /** Whether a read that returned this many messages, without being stopped, left nothing behind. */
    boolean drained(long messages);

    /** Confirms the slot up to {@code lsn}, the end of a transaction the target committed. */
    void confirm(long lsn) throws SQLException;

    /** Called by the reading thread while it waits for the writer, so that the source does not take it for gone. */
    default void waiting() throws SQLException {
    }

    @Override
    void close() throws SQLException;
}
