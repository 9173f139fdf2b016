package dev.replicator.decode;

/** A table named by schema and table, as it appears in an event (source side) or in the target. */
public record TableId(String schema, String table) {

    public TableId {
        if (schema == null || schema.isBlank() || table == null || table.isBlank()) {
            throw new IllegalArgumentException("table name needs a schema and a table, got " + schema + "." + table);
        }
    }

    /**
     * Parses {@code schema.table}; a name without a dot is in {@code public}. Either part may be quoted as in SQL
     * ({@code "a.b".c}, {@code a."b.c"}, quotes inside doubled), which names a schema or table holding a dot; a part
     * that does not start with a quote is taken as it is, up to the next dot, as before quoting was read.
     */
    public static TableId parse(String qualified) {
        if (!qualified.startsWith("\"") && !qualified.contains(".\"")) {
            int dot = qualified.indexOf('.');
            return dot < 0 ? new TableId("public", qualified)
                    : new TableId(qualified.substring(0, dot), qualified.substring(dot + 1));
        }
        StringBuilder first = new StringBuilder();
        int next = part(qualified, 0, first);
        if (next == qualified.length()) {
            return new TableId("public", first.toString());
        }
        if (qualified.charAt(next) != '.') {
            throw new IllegalArgumentException("expected a dot after " + first + " in " + qualified);
        }
        StringBuilder second = new StringBuilder();
        if (part(qualified, next + 1, second) != qualified.length()) {
            throw new IllegalArgumentException("a table name has two parts, schema and table: " + qualified);
        }
        return new TableId(first.toString(), second.toString());
    }

    /** Reads one part from {@code at} into {@code into}: quoted up to its closing quote, or up to the next dot. */
    private static int part(String text, int at, StringBuilder into) {
        if (at < text.length() && text.charAt(at) == '"') {
            int i = at + 1;
            while (i < text.length()) {
                char c = text.charAt(i);
                if (c == '"') {
                    if (i + 1 < text.length() && text.charAt(i + 1) == '"') {
                        into.append('"');
                        i += 2;
                        continue;
                    }
                    return i + 1;
                }
                into.append(c);
                i++;
            }
            throw new IllegalArgumentException("unterminated quoted name in " + text);
        }
        int dot = text.indexOf('.', at);
        int end = dot < 0 ? text.length() : dot;
        into.append(text, at, end);
        return end;
    }

    /**
     * {@code schema.table}, or with both parts quoted as in SQL when either holds a dot, so that no two tables print
     * alike: {@code "a.b".c} and {@code a."b.c"} would both be {@code a.b.c} unquoted. A plain name has one dot, a
     * quoted one at least two. This is also the name replicator's own tables record positions, truncates and
     * checkpoints under, so it must never change for a name without a dot.
     */
    @Override
    public String toString() {
        if (schema.indexOf('.') < 0 && table.indexOf('.') < 0) {
            return schema + "." + table;
        }
        return quote(schema) + "." + quote(table);
    }

    /** The table as SQL names it: both parts quoted, embedded quotes doubled. */
    public String sql() {
        return quote(schema) + "." + quote(table);
    }

    /** An identifier as SQL writes it: quoted, embedded quotes doubled. */
    public static String quote(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }
}
