package dev.replicator.source.verify;

import static dev.replicator.apply.TextParameters.bindAll;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import org.jboss.logging.Logger;

import dev.replicator.apply.RefreshWriter;
import dev.replicator.apply.TargetTransactions;
import dev.replicator.decode.BadEventException;
import dev.replicator.observe.ReplicationMetrics;
import dev.replicator.source.JobTable;
import dev.replicator.source.JobTables;
import dev.replicator.source.KeyedTable;
import dev.replicator.source.KeysetSql;
import dev.replicator.source.RowReader;
import dev.replicator.source.rowref.RowRefresher;

/**
 * Compares source and target table by table, in key ranges of a chunk of source rows each. Each database computes
 * a count and a checksum of the range itself, so rows are not transferred; only for a range whose checksums differ
 * are keys and row hashes fetched from both sides and compared, which finds the changed, missing and extra rows.
 * With repair, those rows are refreshed from the source through {@link RowRefresher} (lock, then read).
 * The comparison runs while the stream may still be applying changes: a row changed in between may show as
 * differing; repairing it is harmless.
 */
public class Verifier {

    private static final Logger LOG = Logger.getLogger(Verifier.class);

    private final JobTables tables;
    private final RowReader reader;
    private final DataSource target;
    private final RowRefresher refresher;
    private final ReplicationMetrics metrics;
    private final Duration budget;

    public Verifier(JobTables tables, RowReader reader, DataSource target, RowRefresher refresher,
            ReplicationMetrics metrics, Duration budget) {
        this.tables = tables;
        this.reader = reader;
        this.target = target;
        this.refresher = refresher;
        this.metrics = metrics;
        this.budget = budget;
    }

    /** A range's row count and checksum on one side. */
    record Checksum(long rows, String sum) {
    }

    /** A range of the source, read in one snapshot: its upper key (null: to the end) and its checksum. */
    record SourceRange(List<String> upper, Checksum checksum) {
    }

    /** Counts of one table while it is compared. */
    private static final class Tally {
        long rows;
        long ranges;
        long differingRanges;
        long changed;
        long missing;
        long extra;
        long repaired;
    }

    public VerifyReport run(String eventId, VerifyRequest request) {
        long deadline = System.nanoTime() + budget.toNanos();
        List<JobTable> resolved = tables.resolve(eventId, request.tables());
        VerifyRequest.Resume resume = request.resume();
        boolean started = resume == null;
        List<VerifyReport.TableResult> results = new ArrayList<>();
        List<VerifyReport.SampleKey> samples = new ArrayList<>();
        VerifyRequest.Resume stoppedAt = null;
        int rangesRun = 0;
        for (JobTable table : resolved) {
            String name = table.sourceId().toString();
            List<String> after = null;
            if (!started) {
                if (!name.equals(resume.table())) {
                    continue; // compared by an earlier invocation
                }
                started = true;
                after = resume.after().isEmpty() ? null : resume.after();
            }
            if (stoppedAt != null) {
                break;
            }
            Tally tally = new Tally();
            boolean done = false;
            while (rangesRun == 0 || System.nanoTime() < deadline) {
                List<String> upper = compareRange(eventId, table, after, request, tally, samples);
                rangesRun++;
                if (upper == null) {
                    done = true;
                    break;
                }
                after = upper;
            }
            if (!done) {
                // no range of this table compared yet: resume at its first key
                stoppedAt = new VerifyRequest.Resume(name, after == null ? List.of() : after);
            }
            results.add(new VerifyReport.TableResult(name, tally.rows, tally.ranges, tally.differingRanges,
                    tally.changed, tally.missing, tally.extra, tally.repaired, done));
            record(name, tally);
        }
        if (!started) {
            throw new BadEventException(eventId, "\"resume.table\" " + resume.table()
                    + " is not among the tables being verified");
        }
        VerifyReport report = report(results, samples, stoppedAt == null ? null : request.resumeAt(stoppedAt));
        LOG.infof("verify %s: %d tables, %d rows in %d ranges compared, %d ranges differ: %d changed, %d missing,"
                + " %d extra, %d repaired%s", eventId, results.size(), report.rowsCompared(), report.ranges(),
                report.differingRanges(), report.changed(), report.missing(), report.extra(), report.repaired(),
                report.finished() ? "" : ", continuing");
        return report;
    }

    /**
     * Compares the range after {@code after} (exclusive) up to the chunk-th source key (inclusive, or open-ended at
     * the table's end) and returns that upper key, or null when the range reached the end of the table.
     */
    private List<String> compareRange(String eventId, JobTable table, List<String> after, VerifyRequest request,
            Tally tally, List<VerifyReport.SampleKey> samples) {
        SourceRange sourceRange = reader.inSnapshot(eventId, connection -> {
            List<String> end = rangeEnd(connection, table.source(), after, request.chunkSize());
            return new SourceRange(end, checksum(connection, table.source(), after, end));
        });
        List<String> upper = sourceRange.upper();
        Checksum source = sourceRange.checksum();
        Checksum target = onTarget(eventId, connection -> checksum(connection, table.target(), after, upper));
        tally.rows += source.rows();
        tally.ranges++;
        if (!source.equals(target)) {
            tally.differingRanges++;
            findDifferences(eventId, table, after, upper, request, tally, samples);
        }
        return upper;
    }

    private void findDifferences(String eventId, JobTable table, List<String> after, List<String> upper,
            VerifyRequest request, Tally tally, List<VerifyReport.SampleKey> samples) {
        Map<List<String>, String> source = reader.inSnapshot(eventId,
                connection -> rowHashes(connection, table.source(), after, upper));
        Map<List<String>, String> target = onTarget(eventId,
                connection -> rowHashes(connection, table.target(), after, upper));
        List<List<String>> differing = new ArrayList<>();
        source.forEach((key, hash) -> {
            String there = target.get(key);
            if (there == null || !there.equals(hash)) {
                differing.add(key);
                if (there == null) {
                    tally.missing++;
                } else {
                    tally.changed++;
                }
                sample(samples, request, table, there == null ? "missing" : "changed", key);
            }
        });
        target.keySet().stream().filter(key -> !source.containsKey(key)).forEach(key -> {
            differing.add(key);
            tally.extra++;
            sample(samples, request, table, "extra", key);
        });
        if (request.repair() && !differing.isEmpty()) {
            RefreshWriter.Outcome outcome = refresher.refresh(eventId, table, differing, null);
            tally.repaired += outcome.written() + outcome.deleted();
        }
    }

    private static void sample(List<VerifyReport.SampleKey> samples, VerifyRequest request, JobTable table,
            String difference, List<String> key) {
        if (samples.size() < request.sampleKeys()) {
            Map<String, String> named = new LinkedHashMap<>();
            List<String> names = table.source().keyNames();
            for (int i = 0; i < names.size(); i++) {
                named.put(names.get(i), key.get(i));
            }
            samples.add(new VerifyReport.SampleKey(table.sourceId().toString(), difference, named));
        }
    }

    private static List<String> rangeEnd(Connection connection, KeyedTable table, List<String> after, int chunk)
            throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(KeysetSql.rangeEnd(table, after != null))) {
            int i = after == null ? 1 : bindAll(select, 1, after);
            select.setInt(i, chunk - 1);
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() ? key(rs, table.key().size()) : null;
            }
        }
    }

    private static Checksum checksum(Connection connection, KeyedTable table, List<String> after, List<String> upper)
            throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(
                KeysetSql.checksum(table, after != null, upper != null))) {
            bindRange(select, after, upper);
            try (ResultSet rs = select.executeQuery()) {
                rs.next();
                return new Checksum(rs.getLong(1), rs.getString(2));
            }
        }
    }

    private static Map<List<String>, String> rowHashes(Connection connection, KeyedTable table, List<String> after,
            List<String> upper) throws SQLException {
        Map<List<String>, String> hashes = new LinkedHashMap<>();
        try (PreparedStatement select = connection.prepareStatement(
                KeysetSql.rowHashes(table, after != null, upper != null))) {
            bindRange(select, after, upper);
            select.setFetchSize(1000);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    hashes.put(key(rs, table.key().size()), rs.getString(table.key().size() + 1));
                }
            }
        }
        return hashes;
    }

    private static void bindRange(PreparedStatement select, List<String> after, List<String> upper)
            throws SQLException {
        int i = 1;
        if (after != null) {
            i = bindAll(select, i, after);
        }
        if (upper != null) {
            bindAll(select, i, upper);
        }
    }

    private static List<String> key(ResultSet rs, int columns) throws SQLException {
        List<String> key = new ArrayList<>(columns);
        for (int i = 1; i <= columns; i++) {
            key.add(rs.getString(i));
        }
        return key;
    }

    /** Reads on the target in one read-only transaction with the same output settings as the source. */
    private <T> T onTarget(String eventId, RowReader.SnapshotWork<T> work) {
        try {
            return RowReader.readInSnapshot(target, work);
        } catch (SQLException e) {
            throw TargetTransactions.answer(eventId, "target", "reading rows to compare", e);
        }
    }

    private void record(String table, Tally tally) {
        metrics.verified(table, "compared", tally.rows);
        metrics.verified(table, "changed", tally.changed);
        metrics.verified(table, "missing", tally.missing);
        metrics.verified(table, "extra", tally.extra);
        metrics.verified(table, "repaired", tally.repaired);
    }

    private static VerifyReport report(List<VerifyReport.TableResult> results, List<VerifyReport.SampleKey> samples,
            VerifyRequest next) {
        long rows = 0, ranges = 0, differingRanges = 0, changed = 0, missing = 0, extra = 0, repaired = 0;
        for (VerifyReport.TableResult r : results) {
            rows += r.rowsCompared();
            ranges += r.ranges();
            differingRanges += r.differingRanges();
            changed += r.changed();
            missing += r.missing();
            extra += r.extra();
            repaired += r.repaired();
        }
        return new VerifyReport(results, rows, ranges, differingRanges, changed, missing, extra, repaired,
                List.copyOf(samples), next == null, next);
    }
}
