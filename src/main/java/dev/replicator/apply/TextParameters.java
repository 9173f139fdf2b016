package dev.replicator.apply;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.util.List;

/**
 * Binds values as untyped text (PostgreSQL text input, null = SQL NULL): the statement's cast makes PostgreSQL parse
 * them as the column's type, so every type is bound the same way and values never become part of the SQL.
 */
public final class TextParameters {

    private TextParameters() {
    }

    public static void bind(PreparedStatement statement, int index, String value) throws SQLException {
        if (value == null) {
            statement.setNull(index, Types.OTHER);
        } else {
            statement.setObject(index, value, Types.OTHER);
        }
    }

    /** Binds the values from parameter {@code first} on and returns the index after the last. */
    public static int bindAll(PreparedStatement statement, int first, List<String> values) throws SQLException {
        int i = first;
        for (String value : values) {
            bind(statement, i++, value);
        }
        return i;
    }
}
