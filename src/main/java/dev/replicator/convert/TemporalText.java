package dev.replicator.convert;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;

/**
 * Debezium's epoch-based integers and ISO strings as PostgreSQL date/time text. Years before 1 AD are written with
 * PostgreSQL's {@code BC} suffix (ISO year 0 is 1 BC); Debezium's encodings of {@code infinity} and
 * {@code -infinity} (see {@link Infinities}) become those words again.
 */
final class TemporalText {

    private TemporalText() {
    }

    static String date(long epochDays) {
        String infinity = Infinities.date(epochDays);
        if (infinity != null) {
            return infinity;
        }
        LocalDate date = LocalDate.ofEpochDay(epochDays);
        return withEra(date.toString(), date.getYear());
    }

    /** Time of day from a count of units since midnight; 24:00:00 is a valid PostgreSQL time. */
    static String time(long value, long unitsPerSecond) {
        if (Math.floorDiv(value, unitsPerSecond) == 86_400L && Math.floorMod(value, unitsPerSecond) == 0) {
            return "24:00:00";
        }
        long ofDay = Math.floorMod(value, 86_400L * unitsPerSecond);
        long nanos = ofDay / unitsPerSecond * 1_000_000_000L + truncatedNanos(ofDay % unitsPerSecond, unitsPerSecond);
        return fraction(LocalTime.ofNanoOfDay(nanos).toString());
    }

    /**
     * A timestamp from a count of units since 1970. Seconds and the fraction are taken apart in the value's own unit,
     * so the latest timestamps PostgreSQL holds (past a long of microseconds) do not overflow on the way.
     */
    static String timestamp(long value, long unitsPerSecond) {
        String infinity = Infinities.timestamp(value, unitsPerSecond);
        if (infinity != null) {
            return infinity;
        }
        long seconds = Math.floorDiv(value, unitsPerSecond);
        int nanos = truncatedNanos(Math.floorMod(value, unitsPerSecond), unitsPerSecond);
        LocalDateTime time = LocalDateTime.ofEpochSecond(seconds, nanos, ZoneOffset.UTC);
        String text = time.toLocalDate().toString() + " " + fraction(time.toLocalTime().toString());
        return withEra(text, time.getYear());
    }

    /**
     * Debezium's ZonedTimestamp: ISO-8601 in UTC, whose years past 9999 carry a {@code +} and whose years before 1 AD
     * are 0 and below; PostgreSQL reads neither, so those are written with plain years and {@code BC}.
     */
    static String zonedTimestamp(String iso) {
        String infinity = Infinities.zonedTimestamp(iso);
        if (infinity != null) {
            return infinity;
        }
        int dash = iso.indexOf('-', 1);
        if (dash < 0 || !(iso.startsWith("+") || iso.startsWith("-") || iso.startsWith("0000"))) {
            return iso;
        }
        int year = Integer.parseInt(iso.substring(iso.startsWith("+") ? 1 : 0, dash));
        return withEra(iso.startsWith("+") ? iso.substring(1) : iso, year);
    }

    /** An interval of a number of microseconds, exactly. */
    static String microseconds(long micros) {
        String sign = micros < 0 ? "-" : "";
        String abs = Long.toString(micros).replace("-", "");
        String padded = abs.length() < 7 ? "0".repeat(7 - abs.length()) + abs : abs;
        int point = padded.length() - 6;
        return sign + padded.substring(0, point) + "." + padded.substring(point) + " seconds";
    }

    /** A fraction of a second in nanoseconds, cut to the microseconds PostgreSQL keeps. */
    private static int truncatedNanos(long fraction, long unitsPerSecond) {
        long nanos = fraction * (1_000_000_000L / unitsPerSecond);
        return (int) (nanos - nanos % 1_000L);
    }

    /** LocalTime prints 07:30 for 07:30:00; PostgreSQL needs seconds to read fractions unambiguously. */
    private static String fraction(String localTime) {
        return localTime.length() == 5 ? localTime + ":00" : localTime;
    }

    private static String withEra(String iso, int year) {
        if (year > 0) {
            return iso.startsWith("+") ? iso.substring(1) : iso;
        }
        // ISO year 0 is 1 BC, -1 is 2 BC ...
        int dash = iso.indexOf('-', 1);
        return String.format("%04d", 1 - year) + iso.substring(dash) + " BC";
    }
}
