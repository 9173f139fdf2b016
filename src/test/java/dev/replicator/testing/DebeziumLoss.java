package dev.replicator.testing;

/**
 * A value Debezium itself changes before it sends it, so no consumer can restore it. A comparison of source and
 * target brings the affected column types, and only those, to what survives; each constant names one loss.
 */
public enum DebeziumLoss {

    /** decimal.handling.mode=precise: numeric NaN and ±Infinity arrive as null, and so does a numeric[] holding one. */
    NUMERIC_SPECIALS {
        @Override
        String apply(String column, String type, String element, boolean sourceSide) {
            if (type.equals("numeric")) {
                return "CASE WHEN " + column + " IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE " + column + " END";
            }
            if (element.equals("numeric")) {
                return "CASE WHEN " + column + " && '{NaN,Infinity,-Infinity}'::numeric[] THEN NULL ELSE " + column
                        + " END";
            }
            return column;
        }
    },

    /** decimal.handling.mode=precise: an unconstrained numeric (and its array elements) loses trailing zeros. */
    NUMERIC_TRAILING_ZEROS {
        @Override
        String apply(String column, String type, String element, boolean sourceSide) {
            if (type.equals("numeric")) {
                return "trim_scale(" + column + ")";
            }
            return element.equals("numeric") ? eachElement(column, "trim_scale(e)") : column;
        }
    },

    /**
     * Not Debezium's but replicator's: JSON numbers are read as exact decimals, which have no negative zero, so a -0
     * in a real, double precision or point lands as 0.
     */
    NEGATIVE_ZERO {
        @Override
        String apply(String column, String type, String element, boolean sourceSide) {
            return switch (type) {
                case "float4", "float8" -> "CASE WHEN " + column + " = 0 THEN 0 ELSE " + column + " END";
                case "point" -> "point(CASE WHEN " + column + "[0] = 0 THEN 0 ELSE " + column + "[0] END, CASE WHEN "
                        + column + "[1] = 0 THEN 0 ELSE " + column + "[1] END)";
                default -> column;
            };
        }
    },

    /** decimal.handling.mode=string: a numeric[] holding NaN or ±Infinity still arrives as null. */
    NUMERIC_ARRAY_SPECIALS {
        @Override
        String apply(String column, String type, String element, boolean sourceSide) {
            return element.equals("numeric") ? NUMERIC_SPECIALS.apply(column, type, element, sourceSide) : column;
        }
    },

    /** timetz arrives in UTC, its offset lost. */
    TIMETZ_IN_UTC {
        @Override
        String apply(String column, String type, String element, boolean sourceSide) {
            return type.equals("timetz") ? "(" + column + " AT TIME ZONE 'UTC')" : column;
        }
    },

    /** An interval arrives as microseconds, a month counted as 30.4375 days, clamped to a long. */
    INTERVAL_AS_MICROSECONDS {
        @Override
        String apply(String c, String type, String element, boolean sourceSide) {
            if (!type.equals("interval")) {
                return c;
            }
            if (!sourceSide) {
                return "round(extract(epoch from " + c + ") * 1000000)";
            }
            String micros = "round((((extract(year from " + c + ") * 12 + extract(month from " + c + ")) * 30.4375"
                    + " + extract(day from " + c + ")) * 86400 + extract(hour from " + c + ") * 3600"
                    + " + extract(minute from " + c + ") * 60 + extract(second from " + c + ")) * 1000000)";
            return "CASE WHEN " + c + " IS NULL THEN NULL ELSE least(greatest(" + micros
                    + ", -9223372036854775808), 9223372036854775807) END";
        }
    },

    /** Elements of a time[] lose their microseconds (milliseconds remain), and 24:00:00 becomes 00:00:00. */
    TIME_ARRAY_MILLISECONDS {
        @Override
        String apply(String column, String type, String element, boolean sourceSide) {
            return element.equals("time") ? eachElement(column,
                    "CASE WHEN e = '24:00' THEN '00:00'::time ELSE e - (extract(microseconds from e)::bigint % 1000)"
                            + " * interval '1 microsecond' END")
                    : column;
        }
    },

    /** Elements of a timetz[] arrive in UTC and lose their fractional seconds. */
    TIMETZ_ARRAY_UTC_SECONDS {
        @Override
        String apply(String column, String type, String element, boolean sourceSide) {
            String utc = "(e AT TIME ZONE 'UTC')::time";
            return element.equals("timetz") ? eachElement(column,
                    utc + " - (extract(microseconds from " + utc + ")::bigint % 1000000) * interval '1 microsecond'")
                    : column;
        }
    },

    /** An enum array holding a NULL element arrives as null. */
    ENUM_ARRAY_NULL_ELEMENT {
        @Override
        String apply(String column, String type, String element, boolean sourceSide) {
            return element.equals("enum")
                    ? "CASE WHEN array_position(" + column + ", NULL) IS NOT NULL THEN NULL ELSE " + column + " END"
                    : column;
        }
    },

    /** A bit varying arrives as bytes without its length: leading zero bits are lost. */
    VARBIT_LEADING_ZEROS {
        @Override
        String apply(String column, String type, String element, boolean sourceSide) {
            return type.equals("varbit") ? "ltrim(" + column + "::text, '0')" : column;
        }
    },

    /**
     * time.precision.mode=connect: times and timestamps (and timestamp[] elements) arrive in milliseconds; timestamptz
     * and timetz keep their microseconds.
     */
    CONNECT_MILLISECONDS {
        @Override
        String apply(String column, String type, String element, boolean sourceSide) {
            return switch (type) {
                case "time" -> column + " - (extract(microseconds from " + column
                        + ")::bigint % 1000) * interval '1 microsecond'";
                case "timestamp" -> "CASE WHEN isfinite(" + column + ") THEN date_trunc('milliseconds', " + column
                        + ") ELSE " + column + " END";
                case "_timestamp" -> eachElement(column,
                        "CASE WHEN isfinite(e) THEN date_trunc('milliseconds', e) ELSE e END");
                default -> column;
            };
        }
    };

    /** The column's expression with this loss applied; {@code element} is the array's element type, or "". */
    abstract String apply(String column, String type, String element, boolean sourceSide);

    private static String eachElement(String column, String expression) {
        return "CASE WHEN " + column + " IS NULL THEN NULL ELSE ARRAY(SELECT " + expression + " FROM unnest(" + column
                + ") WITH ORDINALITY AS u(e, i) ORDER BY i) END";
    }
}
