package dev.replicator.schema;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.replicator.decode.FieldValue;

/**
 * A source table's shape as a Debezium event's schema gives it: a column's type from its semantic type
 * ({@link DebeziumTypes}). Debezium does not send the key, nor the value that rows existing before a column was added
 * hold: those come from the source's catalog when it can be read, and a column the schema does not describe too.
 */
public final class EventShape implements SourceShape {

    private final Map<String, FieldValue> row;
    private final CatalogShape catalog;

    /** @param catalog the source's catalog for what the event lacks, or null when there is no source to ask */
    public EventShape(Map<String, FieldValue> row, CatalogShape catalog) {
        this.row = row;
        this.catalog = catalog;
    }

    @Override
    public ColumnSpec column(String name) throws SQLException {
        FieldValue value = row.get(name);
        String type = value == null ? null : DebeziumTypes.sqlType(value.schema());
        if (type == null) {
            return catalog == null ? null : catalog.column(name);
        }
        String existing = type.endsWith("[]") ? null : existing(name).map(c -> c.existingValue(type)).orElse(null);
        return new ColumnSpec(name, type, List.of(), existing);
    }

    /** What the source's catalog says of the column, if it can be read: only the value of existing rows hangs on it. */
    private Optional<SourceTypes.Column> existing(String name) {
        if (catalog == null) {
            return Optional.empty();
        }
        try {
            return catalog.sourceColumn(name);
        } catch (SQLException e) {
            return Optional.empty();
        }
    }

    @Override
    public List<ColumnSpec> columns() throws SQLException {
        List<ColumnSpec> all = new ArrayList<>();
        for (String name : row.keySet()) {
            ColumnSpec spec = column(name);
            if (spec == null) {
                return List.of();
            }
            all.add(spec);
        }
        return all;
    }

    @Override
    public List<String> key() throws SQLException {
        return catalog == null ? List.of() : catalog.key();
    }

    @Override
    public String origin() {
        return "the event's schema";
    }
}
