package dev.replicator.source.pull;

import java.time.Instant;
import java.util.List;

import dev.replicator.route.TargetChange;

/** What the slot's reader hands the writer, in slot order. */
sealed interface PullStep {

    /** A source transaction read whole: its routed changes and where it starts and ends in the slot. */
    record Transaction(List<TargetChange> changes, long startLsn, long endLsn) {
    }

    /** Whole source transactions to write together in one target transaction. */
    record Group(List<Transaction> transactions, Instant lastCommitTime) implements PullStep {
    }

    /** Part of a source transaction too large to hold: written into a target transaction left open. */
    record Piece(List<TargetChange> changes, long startLsn) implements PullStep {
    }

    /** The end of the large transaction whose pieces came before: commit its target transaction. */
    record LargeCommit(long endLsn, Instant commitTime) implements PullStep {
    }

    /** The slot holds something the target cannot take (schema drift, a bad value): stop after what came before. */
    record Stop(String at, RuntimeException cause) implements PullStep {
    }

    /** Reading failed (the source, the target's catalog): nothing after what came before is written. */
    record Failed(Exception cause) implements PullStep {
    }

    /** The peek is read to its end, or stopped early at a transaction's end (time budget, maxChanges). */
    record End(long messages, boolean stoppedEarly) implements PullStep {
    }
}
