package dev.replicator.source.backfill;

import org.jboss.logging.Logger;

import dev.replicator.observe.ReplicationMetrics;

/**
 * Where one table's backfill stands within an invocation, against the source's estimate of its rows: logged at INFO
 * every {@link #LOG_EVERY_NANOS} (and when the table is done), set on the progress gauges after every chunk, and
 * carried in the answer. The rate is this invocation's; the estimate is raised to the rows copied when the table has
 * grown past it, so the percent stays below 100 until the last chunk.
 */
final class CopyProgress {

    private static final Logger LOG = Logger.getLogger(Backfill.class);

    /** A large table logs a line this often (per table), so an operator sees it move between answers. */
    static final long LOG_EVERY_NANOS = 5_000_000_000L;

    private final String eventId;
    private final String table;
    /** {@code pg_class.reltuples} of the source table, or -1 when unknown. */
    private final long estimate;
    private final long startRows;
    private final long startNanos;
    private long loggedAt;

    CopyProgress(String eventId, String table, long estimate, long startRows, long now) {
        this.eventId = eventId;
        this.table = table;
        this.estimate = estimate;
        this.startRows = startRows;
        this.startNanos = now;
        this.loggedAt = now;
    }

    /** After a chunk: updates the gauges, and logs when a few seconds have passed or the table is done. */
    BackfillReport.TableProgress advanced(long rows, boolean done, ReplicationMetrics metrics, long now) {
        BackfillReport.TableProgress progress = at(rows, done, now);
        metrics.backfillProgress(table, progress.percent() == null ? Double.NaN : progress.percent() / 100,
                progress.secondsLeft() == null ? Double.NaN : progress.secondsLeft());
        if (done || now - loggedAt >= LOG_EVERY_NANOS) {
            loggedAt = now;
            LOG.info(line(eventId, progress));
        }
        return progress;
    }

    /** The table's progress with {@code rows} copied in total. */
    BackfillReport.TableProgress at(long rows, boolean done, long now) {
        Long total = done ? Long.valueOf(rows) : estimate < 0 ? null : Math.max(estimate, rows);
        Double percent = total == null ? null
                : done ? 100.0 : Math.min(99.9, Math.floor(1000.0 * rows / Math.max(1, total)) / 10);
        double seconds = (now - startNanos) / 1e9;
        Double rate = seconds > 0 && rows > startRows ? Math.rint((rows - startRows) / seconds) : null;
        Long left = done ? Long.valueOf(0)
                : total == null || rate == null || rate <= 0 ? null : (long) Math.ceil((total - rows) / rate);
        return new BackfillReport.TableProgress(table, rows, done, total, percent, rate, left);
    }

    /** A finished table: 100%, nothing left. */
    static BackfillReport.TableProgress finished(String table, long rows) {
        return new BackfillReport.TableProgress(table, rows, true, rows, 100.0, null, 0L);
    }

    /** One line per report of progress; numbers only, never row values. */
    static String line(String eventId, BackfillReport.TableProgress p) {
        StringBuilder line = new StringBuilder("backfill ").append(eventId).append(" of ").append(p.table())
                .append(": ").append(p.rows()).append(" rows copied");
        if (p.estimatedRows() != null) {
            line.append(p.done() ? " of " : " of about ").append(p.estimatedRows()).append(" (")
                    .append(String.format(java.util.Locale.ROOT, "%.1f", p.percent())).append("%)");
        } else {
            line.append(", total unknown (the source table has no statistics; ANALYZE it for a percent)");
        }
        if (p.rowsPerSecond() != null) {
            line.append(", ").append(String.format(java.util.Locale.ROOT, "%.0f", p.rowsPerSecond()))
                    .append(" rows/s");
        }
        if (p.done()) {
            line.append(", done");
        } else if (p.secondsLeft() != null) {
            line.append(", about ").append(p.secondsLeft()).append(" s left");
        }
        return line.toString();
    }
}
