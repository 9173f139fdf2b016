package dev.replicator.schema;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import javax.sql.DataSource;

import dev.replicator.decode.TableId;

/** A source table's shape as the source's catalog has it now: for events without a schema. Read once, on first use. */
public final class CatalogShape implements SourceShape {

    private final DataSource source;
    private final TableId table;
    private Optional<SourceTypes.Table> read;
    private final List<ColumnSpec> specs = new ArrayList<>();

    public CatalogShape(DataSource source, TableId table) {
        this.source = source;
        this.table = table;
    }

    /** The column as the source's catalog has it, or empty when the source table or the column is not there. */
    public Optional<SourceTypes.Column> sourceColumn(String name) throws SQLException {
        return table().flatMap(t -> t.column(name));
    }

    @Override
    public ColumnSpec column(String name) throws SQLException {
        for (ColumnSpec spec : specs) {
            if (spec.name().equals(name)) {
                return spec;
            }
        }
        Optional<SourceTypes.Column> column = sourceColumn(name);
        if (column.isEmpty()) {
            return null;
        }
        try (Connection connection = source.getConnection()) {
            ColumnSpec spec = SourceTypes.column(connection, name, column.get().typeOid(), column.get().typmod(),
                    column.get());
            specs.add(spec);
            return spec;
        }
    }

    @Override
    public List<ColumnSpec> columns() throws SQLException {
        List<ColumnSpec> all = new ArrayList<>();
        for (SourceTypes.Column column : table().map(SourceTypes.Table::columns).orElse(List.of())) {
            all.add(column(column.name()));
        }
        return all;
    }

    @Override
    public List<String> key() throws SQLException {
        return table().map(SourceTypes.Table::key).orElse(List.of());
    }

    @Override
    public String origin() {
        return "the source's catalog";
    }

    private Optional<SourceTypes.Table> table() throws SQLException {
        if (read == null) {
            try (Connection connection = source.getConnection()) {
                read = SourceTypes.table(connection, table);
            }
        }
        return read;
    }
}
