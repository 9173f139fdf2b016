package dev.replicator.apply;

import dev.replicator.route.TargetChange;

/** What became of one change: written, or stale (older than what the target holds) and left without effect. */
public record ChangeOutcome(TargetChange change, boolean applied) {
}
