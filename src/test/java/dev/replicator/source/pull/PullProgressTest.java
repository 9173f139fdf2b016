package dev.replicator.source.pull;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The line a pull draining a backlog logs: its share of the WAL behind the slot, what is left, rate and time. */
class PullProgressTest {

    @Test
    void appliedShareBehindRateAndTimeLeft() {
        // the slot stood at 1000, the WAL ended at 5000; 1000 bytes committed in 2 s: 500 bytes/s, 3000 to go
        assertEquals("pull p-1 of slot replicator: 1000 of 4000 WAL bytes applied (25.0%), 3000 behind,"
                + " 120 changes applied, 500 bytes/s, about 6 s left",
                PullJob.progressLine("p-1", "replicator", 1000, 5000, 2000, 120, 2_000_000_000L));
    }

    @Test
    void nothingCommittedYetHasNoTimeLeft() {
        assertEquals("pull p-1 of slot replicator: 0 of 4000 WAL bytes applied (0.0%), 4000 behind,"
                + " 0 changes applied, 0 bytes/s, about ? s left",
                PullJob.progressLine("p-1", "replicator", 1000, 5000, 1000, 0, 2_000_000_000L));
    }

    @Test
    void committedPastTheWalEndReadAtThePeekIsAllApplied() {
        assertEquals("pull p-1 of slot replicator: 5000 of 5000 WAL bytes applied (100.0%), 0 behind,"
                + " 10 changes applied, 5000 bytes/s, about 0 s left",
                PullJob.progressLine("p-1", "replicator", 1000, 5000, 6000, 10, 1_000_000_000L));
    }
}
