package dev.replicator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

class CpuWaitTest {

    @Test
    void readsTheSecondFigureOfTheSchedulerStatistics() {
        byte[] text = "4425130 631148 27\n".getBytes(StandardCharsets.US_ASCII);
        assertEquals(631148, CpuWait.secondNumber(text, text.length));
        byte[] odd = "4425130\n".getBytes(StandardCharsets.US_ASCII);
        assertEquals(-1, CpuWait.secondNumber(odd, odd.length));
    }

    @Test
    void withoutTheStatisticsTheWaitIsUnknown() {
        try (CpuWait missing = CpuWait.of("/no/such/schedstat")) {
            assertEquals(-1, missing.waited());
        }
    }

    @Test
    void aThreadKeptFromTheCoresByBusierThreadsCountsItsWait() throws Exception {
        try (CpuWait cpu = CpuWait.ofThisThread()) {
            long before = cpu.waited();
            assumeTrue(before >= 0, "no scheduler statistics on this system");
            AtomicBoolean spin = new AtomicBoolean(true);
            List<Thread> busy = new ArrayList<>();
            for (int i = 0; i < 4 * Runtime.getRuntime().availableProcessors(); i++) {
                Thread thread = new Thread(() -> {
                    while (spin.get()) {
                        Thread.onSpinWait();
                    }
                });
                thread.setDaemon(true);
                thread.start();
                busy.add(thread);
            }
            long until = System.nanoTime() + 300_000_000L;
            while (System.nanoTime() < until) {
                Thread.onSpinWait(); // runnable all along, sharing the cores with the busy threads
            }
            spin.set(false);
            for (Thread thread : busy) {
                thread.join();
            }
            long waited = cpu.waited() - before;
            assertTrue(waited > 10_000_000L, "waited " + waited + " ns for a CPU in 300 ms among "
                    + busy.size() + " busy threads");
        }
    }
}
