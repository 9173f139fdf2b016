package dev.replicator.apply;

import dev.replicator.route.TargetChange;

/** What became of one change. */
public record ChangeOutcome(TargetChange change, Result result) {

    public enum Result {
        /** written */
        APPLIED,
        /** older than what the target holds (or a duplicate), left without effect */
        STALE,
        /**
         * overtaken in its own transaction by a newer change of the same row, which was written in its place: the row
         * would have held it only until that change, inside a transaction nobody else can see into
         */
        SUPERSEDED
    }

    public boolean applied() {
        return result == Result.APPLIED;
    }
}
