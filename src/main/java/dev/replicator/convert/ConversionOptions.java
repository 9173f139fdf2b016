package dev.replicator.convert;

import java.util.Arrays;
import java.util.Locale;

/**
 * The Debezium connector settings that decide how values are written when an event carries no schema.
 */
public record ConversionOptions(DecimalHandling decimalHandling, TimePrecision timePrecision,
        BinaryHandling binaryHandling) {

    public static final ConversionOptions DEFAULTS = new ConversionOptions(DecimalHandling.PRECISE,
            TimePrecision.ADAPTIVE, BinaryHandling.BYTES);

    /** Debezium's {@code decimal.handling.mode}. */
    public enum DecimalHandling {
        PRECISE, STRING, DOUBLE;

        public static DecimalHandling parse(String text) {
            return Options.parse(DecimalHandling.class, "decimal-handling-mode", text);
        }
    }

    /** Debezium's {@code time.precision.mode}. */
    public enum TimePrecision {
        ADAPTIVE, ADAPTIVE_TIME_MICROSECONDS, CONNECT;

        public static TimePrecision parse(String text) {
            return Options.parse(TimePrecision.class, "time-precision-mode", text);
        }
    }

    /** Debezium's {@code binary.handling.mode}. */
    public enum BinaryHandling {
        BYTES, BASE64, BASE64_URL_SAFE, HEX;

        public static BinaryHandling parse(String text) {
            return Options.parse(BinaryHandling.class, "binary-handling-mode", text);
        }
    }

    private static final class Options {
        static <E extends Enum<E>> E parse(Class<E> type, String setting, String text) {
            String name = text == null ? "" : text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
            for (E value : type.getEnumConstants()) {
                if (value.name().equals(name)) {
                    return value;
                }
            }
            throw new IllegalArgumentException("replicator.debezium." + setting + " must be one of "
                    + Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT).replace('_', '-'))
                            .toList()
                    + ", got '" + text + "'");
        }
    }
}
