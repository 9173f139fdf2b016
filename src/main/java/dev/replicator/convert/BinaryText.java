package dev.replicator.convert;

import java.util.Base64;
import java.util.HexFormat;

/** Binary values as PostgreSQL's bytea hex input ({@code \x0a1b}). */
final class BinaryText {

    private BinaryText() {
    }

    static byte[] decode(String text, ConversionOptions.BinaryHandling mode) {
        return switch (mode) {
            case BYTES, BASE64 -> Base64.getDecoder().decode(text);
            case BASE64_URL_SAFE -> Base64.getUrlDecoder().decode(text);
            case HEX -> HexFormat.of().parseHex(text);
        };
    }

    static String bytea(byte[] bytes) {
        return "\\x" + HexFormat.of().formatHex(bytes);
    }

    /**
     * Debezium's Bits: a {@code java.util.BitSet}'s bytes, least significant byte first, trailing zero bytes dropped.
     * A {@code bit(n)} is written with its n bits; for a {@code bit varying} the bytes cannot tell how many leading
     * zeros the value had, so it is written from its highest set bit.
     */
    static String bits(byte[] bytes, int length) {
        int width = length;
        if (width < 0) {
            width = bytes.length * 8;
            while (width > 0 && !isSet(bytes, width - 1)) {
                width--;
            }
        }
        StringBuilder bits = new StringBuilder(width);
        for (int i = width - 1; i >= 0; i--) {
            bits.append(isSet(bytes, i) ? '1' : '0');
        }
        return bits.toString();
    }

    private static boolean isSet(byte[] bytes, int bit) {
        return bit / 8 < bytes.length && ((bytes[bit / 8] >> (bit % 8)) & 1) == 1;
    }
}
