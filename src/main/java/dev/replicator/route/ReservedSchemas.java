package dev.replicator.route;

import java.util.Locale;

import dev.replicator.decode.TableId;

/**
 * Schemas no change, backfill, verify, repair or rowref may address, whatever the mappings and
 * {@code allow-all-tables} say: replicator's own schema (its positions decide what is newer; a write there could
 * send rows back in time or make later changes vanish), PostgreSQL's catalogs ({@code pg_catalog},
 * {@code pg_toast}, every {@code pg_*} schema) and {@code information_schema}. Compared without regard to case, so a
 * differently spelled name cannot slip past.
 */
public final class ReservedSchemas {

    private final String own;

    /** @param own replicator's own schema ({@code replicator.ordering.schema}) */
    public ReservedSchemas(String own) {
        this.own = own.toLowerCase(Locale.ROOT);
    }

    /** Why the table's schema is off limits, or null when it is not. */
    public String reason(TableId table) {
        String schema = table.schema().toLowerCase(Locale.ROOT);
        if (schema.equals(own)) {
            return "schema " + own + " holds replicator's own tables";
        }
        if (schema.startsWith("pg_") || schema.equals("information_schema")) {
            return "schema " + Names.forMessage(table.schema()) + " is PostgreSQL's own";
        }
        return null;
    }

    public boolean contains(TableId table) {
        return reason(table) != null;
    }
}
