package dev.replicator.apply;

/**
 * What one request did to the target.
 *
 * @param applied    changes written
 * @param stale      changes older than what the target already holds, acknowledged without effect
 * @param superseded changes overtaken in the same transaction by a newer change of their row, written in their place
 * @param skipped    events with nothing to write (tombstones, heartbeats, transaction markers, disabled truncates)
 * @param parked     events of a batch that can never be applied, kept in the target's rejected table instead
 */
public record ApplyResult(int applied, int stale, int superseded, int skipped, int parked) {

    public static final ApplyResult NOTHING = new ApplyResult(0, 0, 0, 0, 0);

    public ApplyResult(int applied, int stale, int superseded, int skipped) {
        this(applied, stale, superseded, skipped, 0);
    }

    public ApplyResult plus(ApplyResult other) {
        return new ApplyResult(applied + other.applied, stale + other.stale, superseded + other.superseded,
                skipped + other.skipped, parked + other.parked);
    }
}
