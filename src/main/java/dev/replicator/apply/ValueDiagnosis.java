package dev.replicator.apply;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import dev.replicator.route.TargetChange;
import dev.replicator.route.TargetColumn;

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
                try (PreparedStatement cast = connection.prepareStatement("SELECT " + Sql.parameter(column))) {
                    TextParameters.bind(cast, 1, value.getValue());
                    cast.executeQuery().close();
                } catch (SQLException e) {
                    if (SqlFailures.kind(e) == SqlFailures.Kind.REFUSED) {
                        return "column \"" + column.name() + "\" (" + column.sqlType() + ")";
                    }
                    return null;
                }
            }
        } catch (SQLException e) {
            // the diagnosis is a courtesy: without it the answer names the table and the type
        }
        return null;
    }
}
