package dev.replicator.schema;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether a target column can take every value of a source column whose type changed: the same type, or one that
 * holds more (a wider integer, a longer varchar, more digits, more fractional seconds, any type into text). Types as
 * {@code format_type} prints them. Anything else (a narrowing, text to a number) cannot be taken: nothing is ever
 * narrowed or converted on the target.
 */
public final class TypeWidth {

    private static final Pattern TYPE = Pattern.compile("^(.*?)(?:\\((\\d+)(?:,(\\d+))?\\))?( with(?:out)? time zone)?$");
    private static final Map<String, Integer> INTEGER_DIGITS = Map.of("smallint", 5, "integer", 10, "bigint", 19);

    private TypeWidth() {
    }

    public static boolean takes(String target, String source) {
        if (target.equals(source)) {
            return true;
        }
        boolean targetArray = target.endsWith("[]");
        if (targetArray != source.endsWith("[]")) {
            return false;
        }
        if (targetArray) {
            return takes(target.substring(0, target.length() - 2), source.substring(0, source.length() - 2));
        }
        Type t = Type.of(target);
        Type s = Type.of(source);
        if (t.name.equals("text") || (t.name.equals("character varying") && t.first < 0)) {
            return true;
        }
        switch (t.name) {
            case "character varying":
                return (s.name.equals("character varying") || s.name.equals("character")) && s.first >= 0
                        && s.first <= t.first;
            case "bigint", "integer", "smallint":
                Integer into = INTEGER_DIGITS.get(t.name);
                Integer from = INTEGER_DIGITS.get(s.name);
                return from != null && from <= into;
            case "numeric":
                if (t.first < 0) {
                    return s.name.equals("numeric") || INTEGER_DIGITS.containsKey(s.name);
                }
                int targetWhole = t.first - Math.max(t.second, 0);
                if (INTEGER_DIGITS.containsKey(s.name)) {
                    return targetWhole >= INTEGER_DIGITS.get(s.name);
                }
                return s.name.equals("numeric") && s.first >= 0 && Math.max(s.second, 0) <= Math.max(t.second, 0)
                        && s.first - Math.max(s.second, 0) <= targetWhole;
            case "double precision":
                return s.name.equals("real") || s.name.equals("smallint") || s.name.equals("integer");
            case "timestamp", "time":
                return s.name.equals(t.name) && s.zone.equals(t.zone) && precision(s) <= precision(t);
            default:
                return false;
        }
    }

    private static int precision(Type type) {
        return type.first < 0 ? 6 : type.first;
    }

    private record Type(String name, int first, int second, String zone) {
        static Type of(String text) {
            Matcher m = TYPE.matcher(text.trim());
            if (!m.matches()) {
                return new Type(text, -1, -1, "");
            }
            return new Type(m.group(1).trim(), m.group(2) == null ? -1 : Integer.parseInt(m.group(2)),
                    m.group(3) == null ? -1 : Integer.parseInt(m.group(3)), m.group(4) == null ? "" : m.group(4));
        }
    }
}
