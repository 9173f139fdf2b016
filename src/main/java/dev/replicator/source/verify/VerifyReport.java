package dev.replicator.source.verify;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What one verify invocation found. Counts are of this invocation; sample keys name differing rows (keys only,
 * never other column values).
 *
 * @param tables          per table compared in this invocation
 * @param rowsCompared    source rows in the compared ranges
 * @param ranges          key ranges compared
 * @param differingRanges ranges whose checksums differed
 * @param changed         rows in both with different contents
 * @param missing         rows in the source, not in the target
 * @param extra           rows in the target, not in the source
 * @param repaired        rows re-applied from the source (with {@code repair: true})
 * @param sampleKeys      up to the requested number of differing keys
 * @param finished        every requested table was compared to its end
 * @param next            the request to continue with while not finished; null when finished
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record VerifyReport(List<TableResult> tables, long rowsCompared, long ranges, long differingRanges,
        long changed, long missing, long extra, long repaired, List<SampleKey> sampleKeys, boolean finished,
        VerifyRequest next) {

    public record TableResult(String table, long rowsCompared, long ranges, long differingRanges, long changed,
            long missing, long extra, long repaired, boolean done) {
    }

    /** A differing row: its table, how it differs (changed, missing, extra) and its key, column by column. */
    public record SampleKey(String table, String difference, Map<String, String> key) {
    }

    public long differing() {
        return changed + missing + extra;
    }
}
