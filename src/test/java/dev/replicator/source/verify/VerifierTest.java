package dev.replicator.source.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.replicator.decode.BadEventException;
import dev.replicator.source.TwoDatabaseJobs;
import dev.replicator.testing.TableComparison;
import dev.replicator.testing.TestDatabases;

/**
 * Verify against two real PostgreSQL servers: it finds the rows missing from, extra in and changed in the target,
 * counts them and names their keys; with repair the target ends equal to the source; a verify out of budget answers
 * with where to continue, and the continuations together find every difference once.
 */
class VerifierTest {

    static final String SCHEMA = """
            CREATE TABLE items (id int PRIMARY KEY, name text, qty int);
            CREATE TABLE notes (id int PRIMARY KEY, body text);
            INSERT INTO items SELECT g, 'item ' || g, g FROM generate_series(2, 100, 2) g;
            INSERT INTO notes VALUES (1, 'one'), (2, 'two'), (3, 'three');
            """;

    static final Duration NO_BUDGET = Duration.ZERO;
    static final Duration AMPLE = Duration.ofMinutes(5);

    /** What the target's damage below amounts to, as (difference, table, key). */
    static final Set<String> DIFFERENCES = Set.of("missing public.items 10", "missing public.items 50",
            "missing public.items 100", "extra public.items 1", "extra public.items 51", "extra public.items 1000",
            "changed public.items 2", "changed public.items 20", "changed public.items 40", "changed public.items 98",
            "missing public.notes 2");

    TwoDatabaseJobs jobs;

    @BeforeEach
    void setUp() {
        jobs = new TwoDatabaseJobs("verify_test", SCHEMA, List.of("public.items", "public.notes"));
        // the source's 50 items are the even keys 2..100; ranges of 10 end at 20, 40, 60, 80, 100, then open-ended
        TestDatabases.execute(jobs.target, """
                DELETE FROM items WHERE id IN (10, 50, 100);
                INSERT INTO items VALUES (1, 'before the first key', 1), (51, 'between two keys', 51),
                    (1000, 'after the last key', 1000);
                UPDATE items SET name = 'changed' WHERE id IN (2, 20, 98);
                UPDATE items SET qty = NULL WHERE id = 40;
                DELETE FROM notes WHERE id = 2;
                """);
    }

    static VerifyRequest request(boolean repair, int sampleKeys) {
        return new VerifyRequest(List.of("public.items", "public.notes"), 10, repair, sampleKeys, null);
    }

    static Set<String> named(List<VerifyReport.SampleKey> samples) {
        Set<String> named = new TreeSet<>();
        for (VerifyReport.SampleKey sample : samples) {
            assertEquals(Set.of("id"), sample.key().keySet(), "sample keys hold the key columns only");
            named.add(sample.difference() + " " + sample.table() + " " + sample.key().get("id"));
        }
        return named;
    }

    @Test
    void findsMissingExtraAndChangedRowsAndNamesThemWithoutTouchingTheTarget() {
        String before = TwoDatabaseJobs.rows(jobs.target, "SELECT * FROM items ORDER BY id");

        VerifyReport report = jobs.verifier(AMPLE).run("v-1", request(false, 20));

        assertTrue(report.finished());
        assertNull(report.next());
        assertEquals(50 + 3, report.rowsCompared());
        assertEquals(4, report.changed());
        assertEquals(3 + 1, report.missing());
        assertEquals(3, report.extra());
        assertEquals(0, report.repaired());
        assertEquals(6 + 1, report.ranges(), "five ranges of ten items, the open end after 100, one of notes");
        assertEquals(5 + 1, report.differingRanges(), "only the items from 61 to 80 are equal");
        VerifyReport.TableResult items = report.tables().get(0);
        assertEquals(new VerifyReport.TableResult("public.items", 50, 6, 5, 4, 3, 3, 0, true), items);
        assertEquals(new TreeSet<>(DIFFERENCES), named(report.sampleKeys()));
        assertEquals(before, TwoDatabaseJobs.rows(jobs.target, "SELECT * FROM items ORDER BY id"),
                "without repair the target is left as it is");

        assertEquals(4, jobs.verifier(AMPLE).run("v-2", request(false, 4)).sampleKeys().size(),
                "at most the requested number of sample keys");
    }

    @Test
    void withRepairTheTargetEndsEqualToTheSource() {
        VerifyReport repaired = jobs.verifier(AMPLE).run("v-1", request(true, 0));

        assertEquals(11, repaired.differing());
        assertEquals(11, repaired.repaired(), "changed and missing rows written, extra rows deleted");
        assertEquals(List.of(), repaired.sampleKeys());
        TableComparison.assertSameRows(jobs.source, jobs.target, "items", Set.of());
        TableComparison.assertSameRows(jobs.source, jobs.target, "notes", Set.of());

        VerifyReport again = jobs.verifier(AMPLE).run("v-2", request(false, 20));
        assertEquals(0, again.differing());
        assertEquals(0, again.differingRanges());
    }

    @Test
    void aVerifyOutOfBudgetContinuesWhereItStoppedUntilEveryTableIsCompared() {
        VerifyRequest request = request(true, 20);
        Set<String> found = new TreeSet<>();
        long changed = 0, missing = 0, extra = 0, repaired = 0, rows = 0;
        int calls = 0;
        VerifyReport report;
        do {
            report = jobs.verifier(NO_BUDGET).run("v-" + ++calls, request);
            assertEquals(1, report.ranges(), "one range per call when the budget is spent at once");
            found.addAll(named(report.sampleKeys()));
            changed += report.changed();
            missing += report.missing();
            extra += report.extra();
            repaired += report.repaired();
            rows += report.rowsCompared();
            if (!report.finished()) {
                assertNotNull(report.next());
                assertNotNull(report.next().resume(), "an unfinished verify says where to continue");
                assertTrue(report.next().repair());
                request = report.next();
            }
        } while (!report.finished() && calls < 20);

        assertTrue(report.finished());
        assertEquals(7, calls, "six ranges of items, one of notes");
        assertEquals(new TreeSet<>(DIFFERENCES), found, "every difference found once");
        assertEquals(List.of(4L, 4L, 3L, 11L, 53L), List.of(changed, missing, extra, repaired, rows));
        TableComparison.assertSameRows(jobs.source, jobs.target, "items", Set.of());
        TableComparison.assertSameRows(jobs.source, jobs.target, "notes", Set.of());
    }

    @Test
    void aResumeAtATableNotBeingVerifiedIsRejected() {
        VerifyRequest elsewhere = request(false, 20).resumeAt(new VerifyRequest.Resume("public.other", List.of()));
        BadEventException e = assertThrows(BadEventException.class,
                () -> jobs.verifier(AMPLE).run("v-1", elsewhere));
        assertEquals("v-1", e.eventId());
        assertTrue(e.getMessage().contains("public.other"), e.getMessage());

        VerifyReport resumed = jobs.verifier(AMPLE).run("v-2",
                request(false, 20).resumeAt(new VerifyRequest.Resume("public.items", List.of("80"))));
        assertFalse(resumed.tables().isEmpty());
        assertEquals(Map.of("changed", 1L, "missing", 2L, "extra", 1L), Map.of("changed", resumed.changed(),
                "missing", resumed.missing(), "extra", resumed.extra()),
                "from key 80 on: 98 changed, 100 and note 2 missing, 1000 extra");
    }
}
