package dev.replicator.convert;

/**
 * How Debezium encodes PostgreSQL's {@code infinity} and {@code -infinity} dates and timestamps. The JDBC driver reads
 * them as its sentinel instants ({@code PGStatement.DATE_POSITIVE_INFINITY} and {@code DATE_NEGATIVE_INFINITY},
 * milliseconds near the ends of a long), and Debezium converts those like any other instant, so each encoding has
 * its own pair of values, far outside PostgreSQL's range; each is mapped back here. The values are those Debezium
 * Server 3.6 sends from a JVM in UTC (its container default), as captured in the test fixtures.
 */
final class Infinities {

    static final String POSITIVE = "infinity";
    static final String NEGATIVE = "-infinity";

    /** {@code PGStatement.DATE_POSITIVE_INFINITY} and {@code DATE_NEGATIVE_INFINITY}. */
    private static final long POSITIVE_SENTINEL = 9_223_372_036_825_200_000L;
    private static final long NEGATIVE_SENTINEL = -9_223_372_036_832_400_000L;

    /** A date column's epoch days (the millisecond sentinels overflowed into an int). */
    private static final long POSITIVE_DAYS = -2_147_472_692L;
    private static final long NEGATIVE_DAYS = -2_147_472_691L;
    /** An element of a date[] (read through java.sql.Date, another path to the same overflow). */
    private static final long POSITIVE_ARRAY_DAYS = -622_191_234L;
    private static final long NEGATIVE_ARRAY_DAYS = -625_821_272L;
    /** An element of a timestamptz[]: -infinity read through java.util.Date, whose BC era got lost. */
    private static final String NEGATIVE_ARRAY_ZONED = "+292269055-12-02T23:00:00";

    private Infinities() {
    }

    static String date(long epochDays) {
        if (epochDays == POSITIVE_DAYS || epochDays == POSITIVE_ARRAY_DAYS) {
            return POSITIVE;
        }
        if (epochDays == NEGATIVE_DAYS || epochDays == NEGATIVE_ARRAY_DAYS) {
            return NEGATIVE;
        }
        return null;
    }

    /**
     * Debezium takes the driver's sentinel for microseconds: a microsecond timestamp carries it as it is, a millisecond
     * one ({@code Timestamp}, and every timestamp in connect mode) divided by 1000.
     */
    static String timestamp(long value, long unitsPerSecond) {
        if (unitsPerSecond == 1_000L) {
            return value == POSITIVE_SENTINEL / 1_000L ? POSITIVE : value == NEGATIVE_SENTINEL / 1_000L ? NEGATIVE : null;
        }
        if (unitsPerSecond == 1_000_000L) {
            return value == POSITIVE_SENTINEL ? POSITIVE : value == NEGATIVE_SENTINEL ? NEGATIVE : null;
        }
        return null;
    }

    /** ZonedTimestamp strings: Debezium writes the words itself, except for -infinity inside an array. */
    static String zonedTimestamp(String iso) {
        if (iso.equals(POSITIVE) || iso.equals(NEGATIVE)) {
            return iso;
        }
        return iso.startsWith(NEGATIVE_ARRAY_ZONED) ? NEGATIVE : null;
    }
}
