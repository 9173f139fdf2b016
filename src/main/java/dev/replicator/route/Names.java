package dev.replicator.route;

import java.nio.charset.StandardCharsets;

import dev.replicator.decode.TableId;

/**
 * Checks table names from events and requests before they reach a catalog query: PostgreSQL would cut a name longer
 * than 63 bytes to a different, existing name, the driver turns a lone UTF-16 surrogate into {@code ?}, and a zero
 * byte cannot be sent at all. Such a name can never name a table.
 */
public final class Names {

    /** PostgreSQL's NAMEDATALEN - 1. */
    static final int MAX_BYTES = 63;

    private Names() {
    }

    /** Why the name cannot name a table or column, or null when it can. */
    public static String problem(String name) {
        if (name.isEmpty()) {
            return "is empty";
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == 0) {
                return "contains a zero byte";
            }
            if (Character.isHighSurrogate(c) && i + 1 < name.length() && Character.isLowSurrogate(name.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return "is not valid Unicode (a lone UTF-16 surrogate)";
            }
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
            return "is longer than " + MAX_BYTES + " bytes";
        }
        return null;
    }

    /** The first problem of the table's schema or name, or null. */
    public static String problem(TableId table) {
        String schema = problem(table.schema());
        if (schema != null) {
            return "schema name " + schema;
        }
        String name = problem(table.table());
        return name == null ? null : "table name " + name;
    }

    /** Names come from events: keep error messages short and printable. */
    public static String forMessage(String name) {
        String shown = name.length() > 64 ? name.substring(0, 64) + "..." : name;
        StringBuilder printable = new StringBuilder(shown.length());
        for (int i = 0; i < shown.length(); i++) {
            char c = shown.charAt(i);
            boolean pair = Character.isHighSurrogate(c) && i + 1 < shown.length()
                    && Character.isLowSurrogate(shown.charAt(i + 1));
            if (pair) {
                printable.append(c).append(shown.charAt(++i));
            } else {
                printable.append(Character.isISOControl(c) || Character.isSurrogate(c) ? '?' : c);
            }
        }
        return printable.toString();
    }

    /** A table name for messages: {@code schema.table}, each part made printable. */
    public static String forMessage(TableId table) {
        return forMessage(table.schema()) + "." + forMessage(table.table());
    }
}
