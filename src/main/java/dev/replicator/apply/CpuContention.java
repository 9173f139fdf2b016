package dev.replicator.apply;

/**
 * Whether the group writers mostly wait for a CPU rather than for the target: the share of a group's write that its
 * writer spent runnable but without a core ({@link CpuWait}), averaged over recent groups.
 * <p>
 * It decides whether a new group waits for the one being written or goes beside it. Across a network a write mostly
 * waits for round trips, and groups side by side keep the target busy meanwhile. When the CPUs are the limit (the
 * target on the function's own cores, or the function's cores saturated), writes side by side only compete for
 * them: more thread switches and more backends for the same work. Then one group after another, each larger,
 * costs less per change.
 */
final class CpuContention {

    /**
     * From this share on the writers are taken to wait for CPUs, and below the lower one no longer: measured here
     * about 0.05-0.25 with the target across a 0.5 ms round trip and 0.25-0.7 with it on the same two cores (see
     * performance.md). The gap keeps a share near one bound from switching at every group.
     */
    static final double HIGH = 0.3;
    static final double LOW = 0.15;
    /** Each group moves the average by this part of its difference: roughly the last fifty groups count. */
    private static final double WEIGHT = 0.05;

    /** Unknown (no statistics here) counts as 0: the writes are taken to wait on the target. */
    private volatile double share;
    private volatile boolean high;

    /**
     * One group's write: how long its writer waited for a CPU during it (negative when not known) and how long the
     * write took.
     */
    void record(long waitedNanos, long wallNanos) {
        if (waitedNanos < 0 || wallNanos <= 0) {
            return;
        }
        double of = Math.min(1.0, (double) waitedNanos / wallNanos);
        double now = share + WEIGHT * (of - share); // writers race here; a lost update only drops one sample
        share = now;
        if (now >= HIGH) {
            high = true;
        } else if (now < LOW) {
            high = false;
        }
    }

    double share() {
        return share;
    }

    boolean high() {
        return high;
    }
}
