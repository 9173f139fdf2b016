package dev.replicator.apply;

import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Types;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import dev.replicator.convert.ArrayLiteral;

/**
 * A text[] parameter, bound by its array literal ({@link ArrayLiteral}): the driver binds an {@link Array} by its text
 * ({@link #toString}); its own builder escaped element by element and was a tenth of a pull's writing thread.
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
        return new TextArray(ArrayLiteral.of(values));
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
