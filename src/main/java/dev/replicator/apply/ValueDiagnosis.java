package dev.replicator.apply;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import dev.replicator.route.TargetChange;
import dev.replicator.convert.TargetColumn;

/**
 * Names the column whose value the target refused. PostgreSQL's message for a value it cannot take ({@code value "..."
 * is out of range for type integer}) names the type but not the column, and must lose the value; casting each value
 * of the change on its own finds the column. Runs only after a change was refused, never on the way of a write.
 */
final class ValueDiagnosis {

    private ValueDiagnosis() {
    }

    /** "column "qty" (integer)" for the first value the target cannot take as its column's type, or null. */
    static String columnAtFault(DataSource target, TargetChange change) {
        Map<String, String> values = new LinkedHashMap<>(change.values());
        List<String> keyNames = change.table().primaryKey();
        for (int i = 0; i < keyNames.size() && i < change.key().size(); i++) {
            values.putIfAbsent(keyNames.get(i), change.key().get(i));
        }
        try (Connection connection = target.getConnection()) {
            connection.setAutoCommit(true);
            for (Map.Entry<String, String> value : values.entrySet()) {
                TargetColumn column = change.table().column(value.getKey());
                if (column == null || value.getValue() == null) {
                    continue;
                }
                String atFault = "column \"" + column.name() + "\" (" + column.sqlType() + ")";
                try (PreparedStatement cast = connection.prepareStatement("SELECT " + Sql.parameter(column))) {
                    TextParameters.bind(cast, 1, value.getValue());
                    cast.executeQuery().close();
                } catch (SQLException e) {
                    return TargetTransactions.kind(e) == TargetTransactions.Kind.REFUSED ? atFault : null;
                }
                if (tooLong(column, value.getValue())) {
                    return atFault;
                }
            }
        } catch (SQLException e) {
            // the diagnosis is a courtesy: without it the answer names the table and the type
        }
        return null;
    }

    /**
     * Whether a value is longer than its column's declared length, which only the assignment to the column checks
     * (the cast leaves the length out: {@link TargetColumn#castType()}).
     */
    static boolean tooLong(TargetColumn column, String value) {
        int length = column.declaredLength();
        if (length < 0 || column.array()) {
            return false;
        }
        return switch (column.baseType()) {
            case "bit" -> value.length() != length;
            case "varbit" -> value.length() > length;
            // char(n) takes trailing spaces beyond n and cuts them
            case "bpchar" -> codePoints(value.replaceFirst(" +$", "")) > length;
            default -> codePoints(value) > length;
        };
    }

    private static int codePoints(String value) {
        return value.codePointCount(0, value.length());
    }
}
