package dev.replicator.source.rowref;

import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

/** Rows to read from the source and apply: a table and the keys (objects of the primary-key columns). */
public record RowRefRequest(String table, List<JsonNode> keys) {

    public RowRefRequest {
        keys = List.copyOf(keys);
    }
}
