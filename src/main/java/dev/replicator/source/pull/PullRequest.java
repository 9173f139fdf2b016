package dev.replicator.source.pull;

/**
 * What to pull.
 *
 * @param maxChanges stop after about this many changes (at a transaction's end); 0: as many as the time budget allows
 */
public record PullRequest(long maxChanges) {

    public static final PullRequest DRAIN = new PullRequest(0);
}
