package dev.replicator.schema;

import java.util.List;

/**
 * A column as replicator would add it to the target: its name, its type as SQL writes it, the types it needs that the
 * target may lack, and the value the rows that exist already hold in it on the source.
 *
 * @param name           column name (unquoted)
 * @param sqlType        the type, ready for DDL ({@code numeric(12,4)}, {@code text[]}, {@code "public"."mood"})
 * @param needs          enum and domain types the column's type is made of, innermost first
 * @param existingValue  an SQL expression for the value rows that existed before the column was added hold on the
 *                       source ({@link SourceTypes.Column#existingValue()}); null when NULL or not known
 */
public record ColumnSpec(String name, String sqlType, List<SchemaChange.CreateType> needs, String existingValue) {

    public ColumnSpec {
        needs = List.copyOf(needs);
    }

    public ColumnSpec(String name, String sqlType) {
        this(name, sqlType, List.of(), null);
    }
}
