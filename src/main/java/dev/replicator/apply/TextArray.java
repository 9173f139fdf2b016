package dev.replicator.apply;

import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Types;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A text[] parameter, written as its array literal in one pass: every element double-quoted with its quotes and
 * backslashes escaped, a null as {@code NULL}. The driver binds an {@link Array} by its text ({@link #toString}); its
 * own builder escaped element by element and was a tenth of a pull's writing thread.
 */
final class TextArray implements Array {

    private final String literal;

    private TextArray(String literal) {
        this.literal = literal;
    }

    /** The value of each row, in row order. */
    static <T> TextArray of(List<T> rows, Function<T, String> value) {
        String[] values = new String[rows.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = value.apply(rows.get(i));
        }
        return of(values);
    }

    static TextArray of(String[] values) {
        int length = 2;
        for (String value : values) {
            length += value == null ? 5 : value.length() + 3;
        }
        StringBuilder literal = new StringBuilder(length + 16).append('{');
        for (int i = 0; i < values.length; i++) {
            if (i > 0) {
                literal.append(',');
            }
            String value = values[i];
            if (value == null) {
                literal.append("NULL");
                continue;
            }
            literal.append('"');
            if (value.indexOf('"') < 0 && value.indexOf('\\') < 0) {
                literal.append(value);
            } else {
                for (int c = 0; c < value.length(); c++) {
                    char ch = value.charAt(c);
                    if (ch == '"' || ch == '\\') {
                        literal.append('\\');
                    }
                    literal.append(ch);
                }
            }
            literal.append('"');
        }
        return new TextArray(literal.append('}').toString());
    }

    @Override
    public String toString() {
        return literal;
    }

    @Override
    public String getBaseTypeName() {
        return "text";
    }

    @Override
    public int getBaseType() {
        return Types.VARCHAR;
    }

    @Override
    public Object getArray() throws SQLException {
        throw unsupported();
    }

    @Override
    public Object getArray(Map<String, Class<?>> map) throws SQLException {
        throw unsupported();
    }

    @Override
    public Object getArray(long index, int count) throws SQLException {
        throw unsupported();
    }

    @Override
    public Object getArray(long index, int count, Map<String, Class<?>> map) throws SQLException {
        throw unsupported();
    }

    @Override
    public ResultSet getResultSet() throws SQLException {
        throw unsupported();
    }

    @Override
    public ResultSet getResultSet(Map<String, Class<?>> map) throws SQLException {
        throw unsupported();
    }

    @Override
    public ResultSet getResultSet(long index, int count) throws SQLException {
        throw unsupported();
    }

    @Override
    public ResultSet getResultSet(long index, int count, Map<String, Class<?>> map) throws SQLException {
        throw unsupported();
    }

    @Override
    public void free() {
    }

    private static SQLException unsupported() {
        return new SQLFeatureNotSupportedException("a text[] parameter is only bound");
    }
}
