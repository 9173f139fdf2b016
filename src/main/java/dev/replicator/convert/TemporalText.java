package dev.replicator.convert;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;

/**
 * Debezium's epoch-based integers as PostgreSQL date/time text. Years before 1 AD are written with PostgreSQL's
 * {@code BC} suffix (ISO year 0 is 1 BC).
 */
final class TemporalText {

    private TemporalText() {
    }

    static String date(long epochDays) {
        return withEra(LocalDate.ofEpochDay(epochDays).toString(), LocalDate.ofEpochDay(epochDays).getYear());
    }

    /** Time of day from a count of units since midnight; 24:00:00 is a valid PostgreSQL time. */
    static String time(long value, long unitsPerSecond) {
        long micros = toMicros(value, unitsPerSecond);
        if (micros == 86_400_000_000L) {
            return "24:00:00";
        }
        return fraction(LocalTime.ofNanoOfDay(Math.floorMod(micros, 86_400_000_000L) * 1000).toString());
    }

    static String timestamp(long value, long unitsPerSecond) {
        long micros = toMicros(value, unitsPerSecond);
        long seconds = Math.floorDiv(micros, 1_000_000L);
        int nanos = (int) Math.floorMod(micros, 1_000_000L) * 1000;
        LocalDateTime time = LocalDateTime.ofEpochSecond(seconds, nanos, ZoneOffset.UTC);
        String text = time.toLocalDate().toString() + " " + fraction(time.toLocalTime().toString());
        return withEra(text, time.getYear());
    }

    /** An interval of a number of microseconds, exactly. */
    static String microseconds(long micros) {
        String sign = micros < 0 ? "-" : "";
        long abs = Math.abs(micros);
        return sign + (abs / 1_000_000L) + "." + String.format("%06d", abs % 1_000_000L) + " seconds";
    }

    private static long toMicros(long value, long unitsPerSecond) {
        if (unitsPerSecond == 1_000L) {
            return Math.multiplyExact(value, 1_000L);
        }
        if (unitsPerSecond == 1_000_000_000L) {
            return Math.floorDiv(value, 1_000L);
        }
        return value;
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
