package dev.replicator.apply;

import java.util.List;

import dev.replicator.route.TargetChange;

/**
 * One target transaction held open for several writes, so that more changes than fit in memory at once commit
 * together. Unlike {@link TargetWriter#write}, nothing is retried: the writes already made cannot be made again from
 * here, so a failure rolls the whole transaction back and is answered at once ({@link RejectedChangeException} or
 * {@link TargetUnavailableException}); the caller starts over from its source.
 */
public interface OpenWrite extends AutoCloseable {

    /** Writes the changes in the open transaction and returns their outcomes in the order given. */
    List<ChangeOutcome> write(List<TargetChange> changes);

    /** Commits everything written; the transaction is closed afterwards, whatever happens. */
    void commit();

    /** Rolls back what was not committed. */
    @Override
    void close();
}
