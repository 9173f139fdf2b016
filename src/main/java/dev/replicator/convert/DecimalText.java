package dev.replicator.convert;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Base64;

import com.fasterxml.jackson.databind.JsonNode;

/** Kafka Connect decimals: base64 big-endian two's-complement unscaled value with a scale. */
final class DecimalText {

    private DecimalText() {
    }

    static String decimal(String base64, int scale) {
        byte[] bytes = Base64.getDecoder().decode(base64);
        if (bytes.length == 0) {
            return "0";
        }
        return new BigDecimal(new BigInteger(bytes), scale).toPlainString();
    }

    /**
     * decimal.handling.mode=string: decimal text, except that Debezium spells numeric's special values as Java's
     * names ({@code NAN}, {@code POSITIVE_INFINITY}, {@code NEGATIVE_INFINITY}).
     */
    static String plain(String text) {
        return switch (text) {
            case "NAN" -> "NaN";
            case "POSITIVE_INFINITY" -> "Infinity";
            case "NEGATIVE_INFINITY" -> "-Infinity";
            default -> text;
        };
    }

    /** Debezium's VariableScaleDecimal: {@code {"scale": n, "value": base64}}. */
    static String variableScale(JsonNode node) {
        JsonNode scale = node.get("scale");
        JsonNode value = node.get("value");
        if (scale == null || !scale.canConvertToInt() || value == null || !value.isTextual()) {
            throw new IllegalArgumentException("variable-scale decimal needs scale and value");
        }
        return decimal(value.textValue(), scale.intValue());
    }

    /** A JSON number as exact text, without exponent. */
    static String number(JsonNode node) {
        if (node.isIntegralNumber()) {
            return node.bigIntegerValue().toString();
        }
        if (node.isDouble() || node.isFloat()) {
            double d = node.doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                return d > 0 ? "Infinity" : d < 0 ? "-Infinity" : "NaN";
            }
        }
        return node.decimalValue().toPlainString();
    }
}
