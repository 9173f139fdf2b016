package dev.replicator.route;

/**
 * A column of a target table as the target's catalog describes it.
 *
 * @param name      column name (unquoted)
 * @param sqlType   the type as {@code format_type()} prints it, for casts ({@code numeric(12,4)}, {@code text[]},
 *                  {@code timestamp(3) without time zone}, {@code mood})
 * @param baseType  {@code pg_type.typname} of the column's type, or of its element type for arrays ({@code int4},
 *                  {@code numeric}, {@code timestamptz}, {@code mood})
 * @param category  {@code pg_type.typcategory} of that base type ({@code N} numeric, {@code D} date/time,
 *                  {@code T} interval, {@code S} string, {@code B} boolean, {@code E} enum, {@code U} user-defined
 *                  such as uuid/json/bytea ...)
 * @param array     true for array columns
 * @param precision fractional-second digits for time/timestamp types, precision for numeric; -1 when unconstrained
 * @param scale     numeric scale; -1 when unconstrained or not numeric
 * @param nullable  false for NOT NULL columns
 * @param generated true for generated columns (never written)
 */
public record TargetColumn(
        String name,
        String sqlType,
        String baseType,
        char category,
        boolean array,
        int precision,
        int scale,
        boolean nullable,
        boolean generated) {
}
