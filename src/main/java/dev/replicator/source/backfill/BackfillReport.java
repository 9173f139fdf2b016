package dev.replicator.source.backfill;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What one backfill invocation did, and where each table stands.
 *
 * @param tables   per table: rows copied so far in total (all invocations), whether done, and how far along
 * @param applied  rows this invocation wrote
 * @param stale    rows this invocation left alone because the stream (or a later read) already wrote them
 * @param chunks   chunks this invocation copied
 * @param directChunks of these, the chunks copied straight into their table (its key range there was empty and the
 *                 stream had written no row of the table), without staging
 * @param finished every requested table is done
 * @param next     the request to continue with while not finished; null when finished
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BackfillReport(List<TableProgress> tables, long applied, long stale, int chunks, int directChunks,
        boolean finished,
        BackfillRequest next) {

    /**
     * Where a table stands.
     *
     * @param rows          rows copied so far, all invocations
     * @param estimatedRows the source's estimate of the table's rows ({@code pg_class.reltuples}, raised to
     *                      {@code rows} when the table grew past it; {@code rows} when done); null when unknown
     * @param percent       rows over estimatedRows, below 100 until done; null when unknown
     * @param rowsPerSecond this invocation's copy rate; null when it copied nothing of the table
     * @param secondsLeft   estimated seconds to go at that rate; 0 when done, null when unknown
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record TableProgress(String table, long rows, boolean done, Long estimatedRows, Double percent,
            Double rowsPerSecond, Long secondsLeft) {
    }
}
