package dev.replicator.convert;

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

    /**
     * The type a bound value is cast to: {@link #sqlType} without the length of a {@code varchar(n)},
     * {@code char(n)} or {@code bit(n)}. An explicit cast to such a type cuts a longer value silently; without the
     * length, the assignment to the column checks it and refuses a value that does not fit (22001, 22026).
     */
    public String castType() {
        String unbounded = switch (baseType) {
            case "varchar" -> "varchar";
            case "bpchar" -> "bpchar";
            case "bit", "varbit" -> "varbit";
            default -> null;
        };
        return unbounded == null ? sqlType : array ? unbounded + "[]" : unbounded;
    }

    /** The n of a {@code varchar(n)}, {@code char(n)}, {@code bit(n)} or {@code bit varying(n)} column; -1 if none. */
    public int declaredLength() {
        if (castType().equals(sqlType)) {
            return -1;
        }
        int open = sqlType.indexOf('(');
        return open < 0 ? -1 : Integer.parseInt(sqlType.substring(open + 1, sqlType.indexOf(')', open)));
    }
}
