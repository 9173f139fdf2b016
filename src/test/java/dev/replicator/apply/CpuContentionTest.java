package dev.replicator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CpuContentionTest {

    @Test
    void writesThatWaitOnTheTargetAreNotCpuBound() {
        CpuContention contention = new CpuContention();
        for (int i = 0; i < 100; i++) {
            contention.record(50_000, 2_000_000); // 2.5% of each write spent waiting for a CPU
        }
        assertFalse(contention.high());
        assertEquals(0.025, contention.share(), 0.001);
    }

    @Test
    void writesThatWaitForCpusTurnItOnAndWritesThatDoNotTurnItOffAgain() {
        CpuContention contention = new CpuContention();
        for (int i = 0; i < 60; i++) {
            contention.record(1_000_000, 2_000_000);
        }
        assertTrue(contention.high(), "half of each write spent waiting for a CPU");
        for (int i = 0; i < 60; i++) {
            contention.record(0, 2_000_000);
        }
        assertFalse(contention.high(), "recent groups count, older ones fade");
    }

    @Test
    void aShareBetweenTheBoundsKeepsTheStateItHad() {
        CpuContention fromLow = new CpuContention();
        CpuContention fromHigh = new CpuContention();
        for (int i = 0; i < 100; i++) {
            fromHigh.record(1, 1);
        }
        for (int i = 0; i < 200; i++) {
            fromLow.record(200_000, 1_000_000);
            fromHigh.record(200_000, 1_000_000);
        }
        assertEquals(0.2, fromLow.share(), 0.001);
        assertEquals(0.2, fromHigh.share(), 0.001);
        assertFalse(fromLow.high(), "not yet at the upper bound");
        assertTrue(fromHigh.high(), "not yet below the lower bound");
    }

    @Test
    void oneSlowGroupDoesNotDecide() {
        CpuContention contention = new CpuContention();
        contention.record(2_000_000, 2_000_000);
        assertFalse(contention.high());
    }

    @Test
    void anUnknownWaitLeavesTheAverageAsItWas() {
        CpuContention contention = new CpuContention();
        contention.record(-1, 2_000_000);
        contention.record(10, 0);
        assertEquals(0.0, contention.share());
    }
}
