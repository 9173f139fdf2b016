package dev.replicator.convert;

import java.util.List;

/** A PostgreSQL array literal: every element quoted (quotes and backslashes escaped), NULL for nulls. */
public final class ArrayLiteral {

    private ArrayLiteral() {
    }

    public static String of(List<String> elements) {
        return of(elements.toArray(String[]::new));
    }

    /** In one pass, sized up front: pulled and pushed rows bind their values as such literals. */
    public static String of(String[] elements) {
        int length = 2;
        for (String element : elements) {
            length += element == null ? 5 : element.length() + 3;
        }
        StringBuilder out = new StringBuilder(length + 16).append('{');
        for (int i = 0; i < elements.length; i++) {
            if (i > 0) {
                out.append(',');
            }
            String element = elements[i];
            if (element == null) {
                out.append("NULL");
                continue;
            }
            out.append('"');
            if (element.indexOf('"') < 0 && element.indexOf('\\') < 0) {
                out.append(element);
            } else {
                for (int c = 0; c < element.length(); c++) {
                    char ch = element.charAt(c);
                    if (ch == '"' || ch == '\\') {
                        out.append('\\');
                    }
                    out.append(ch);
                }
            }
            out.append('"');
        }
        return out.append('}').toString();
    }
}
