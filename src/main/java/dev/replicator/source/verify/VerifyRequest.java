package dev.replicator.source.verify;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What to verify.
 *
 * @param tables     source tables ({@code schema.table}); empty: every replicated table
 * @param chunkSize  source rows per compared key range
 * @param repair     re-apply differing rows from the source
 * @param sampleKeys at most this many differing keys in the report
 * @param resume     where an unfinished verify stopped: continue there; null: from the start
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record VerifyRequest(List<String> tables, int chunkSize, boolean repair, int sampleKeys, Resume resume) {

    public VerifyRequest {
        tables = List.copyOf(tables);
    }

    /** The table to continue with and the last key of the ranges already compared. */
    public record Resume(String table, List<String> after) {
    }

    public VerifyRequest resumeAt(Resume at) {
        return new VerifyRequest(tables, chunkSize, repair, sampleKeys, at);
    }
}
