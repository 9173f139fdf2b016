package dev.replicator.source.pull;

import java.sql.SQLException;
import java.util.function.BooleanSupplier;

/**
 * A slot read through PostgreSQL's SQL interface: one peek of up to {@code peekChanges} messages, confirmed by
 * advancing the slot. For a source that takes no replication connection.
 */
final class PeekReading implements SlotReading {

    private final LogicalSlot slot;
    private final int peekChanges;

    PeekReading(LogicalSlot slot, int peekChanges) {
        this.slot = slot;
        this.peekChanges = peekChanges;
    }

    @Override
    public long read(LogicalSlot.MessageSink sink, BooleanSupplier cancelled) throws SQLException {
        return slot.peek(peekChanges, sink);
    }

    @Override
    public boolean drained(long messages) {
        return messages < peekChanges;
    }

    @Override
    public void confirm(long lsn) throws SQLException {
        slot.advance(lsn);
    }

    @Override
    public void close() {
    }
}
