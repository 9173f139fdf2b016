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

    /** Debezium's Bits: the bytes of a bit string, least significant byte first; {@code length} bits. */
    static String bits(byte[] bytes, int length) {
        StringBuilder bits = new StringBuilder(length);
        for (int i = length - 1; i >= 0; i--) {
            int b = i / 8 < bytes.length ? bytes[i / 8] : 0;
            bits.append(((b >> (i % 8)) & 1) == 1 ? '1' : '0');
        }
        return bits.toString();
    }
}
