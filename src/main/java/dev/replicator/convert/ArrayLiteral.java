package dev.replicator.convert;

import java.util.List;

/** A PostgreSQL array literal: every element quoted (quotes and backslashes escaped), NULL for nulls. */
final class ArrayLiteral {

    private ArrayLiteral() {
    }

    static String of(List<String> elements) {
        StringBuilder out = new StringBuilder("{");
        for (int i = 0; i < elements.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            String element = elements.get(i);
            if (element == null) {
                out.append("NULL");
            } else {
                out.append('"').append(element.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
            }
        }
        return out.append('}').toString();
    }
}
