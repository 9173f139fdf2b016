package dev.replicator.source.backfill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** The figures of a backfill's progress and the line it logs, from rows, the estimate and the time taken. */
class CopyProgressTest {

    static final long SECOND = 1_000_000_000L;

    @Test
    void percentRateAndTimeLeftAgainstTheEstimate() {
        CopyProgress progress = new CopyProgress("bf-1", "public.items", 1000, 100, 0);
        BackfillReport.TableProgress at = progress.at(350, false, 2 * SECOND);
        assertEquals(1000L, at.estimatedRows());
        assertEquals(35.0, at.percent());
        assertEquals(125.0, at.rowsPerSecond(), "250 rows in this invocation's 2 s; the 100 before do not count");
        assertEquals(6L, at.secondsLeft(), "650 rows at 125 rows/s, rounded up");
        assertEquals("backfill bf-1 of public.items: 350 rows copied of about 1000 (35.0%), 125 rows/s, about 6 s left",
                CopyProgress.line("bf-1", at));
    }

    @Test
    void aTableGrownPastItsEstimateStaysBelowAHundredUntilDone() {
        CopyProgress progress = new CopyProgress("bf-1", "public.items", 1000, 0, 0);
        BackfillReport.TableProgress grown = progress.at(1200, false, SECOND);
        assertEquals(1200L, grown.estimatedRows());
        assertEquals(99.9, grown.percent());
        assertEquals(0L, grown.secondsLeft());

        BackfillReport.TableProgress done = progress.at(1300, true, 2 * SECOND);
        assertEquals(1300L, done.estimatedRows(), "done: the total is what was copied");
        assertEquals(100.0, done.percent());
        assertEquals(0L, done.secondsLeft());
        assertEquals("backfill bf-1 of public.items: 1300 rows copied of 1300 (100.0%), 650 rows/s, done",
                CopyProgress.line("bf-1", done));
    }

    @Test
    void withoutAnEstimateOnlyRowsAndRate() {
        CopyProgress progress = new CopyProgress("bf-1", "public.items", -1, 0, 0);
        BackfillReport.TableProgress at = progress.at(500, false, SECOND);
        assertNull(at.estimatedRows());
        assertNull(at.percent());
        assertNull(at.secondsLeft());
        assertEquals("backfill bf-1 of public.items: 500 rows copied, total unknown (the source table has no statistics;"
                + " ANALYZE it for a percent), 500 rows/s", CopyProgress.line("bf-1", at));
        assertNull(progress.at(0, false, 0).rowsPerSecond(), "nothing copied yet: no rate");
    }
}
