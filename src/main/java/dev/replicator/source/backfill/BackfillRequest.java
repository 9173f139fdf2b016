package dev.replicator.source.backfill;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What to backfill.
 *
 * @param tables    source tables ({@code schema.table}); empty: every replicated table
 * @param chunkSize rows per chunk
 * @param restart   forget earlier progress of these tables and copy them from their first key
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BackfillRequest(List<String> tables, int chunkSize, boolean restart) {

    public BackfillRequest {
        tables = List.copyOf(tables);
    }

    /** The request a continuation carries: the same tables, without restarting again. */
    public BackfillRequest continuation() {
        return new BackfillRequest(tables, chunkSize, false);
    }
}
