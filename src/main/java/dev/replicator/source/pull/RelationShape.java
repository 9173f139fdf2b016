package dev.replicator.source.pull;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import javax.sql.DataSource;

import dev.replicator.decode.PgOutputDecoder;
import dev.replicator.schema.CatalogShape;
import dev.replicator.schema.ColumnSpec;
import dev.replicator.schema.SourceShape;
import dev.replicator.schema.SourceTypes;

/**
 * A pulled table's shape as its Relation message gives it: each column's type oid and modifier as they were when the
 * change was made, read into SQL types on the source. The key, and the value rows hold that existed before a column
 * was added, come from the source's catalog.
 */
final class RelationShape implements SourceShape {

    private final PgOutputDecoder.Relation relation;
    private final DataSource source;
    private final CatalogShape catalog;

    RelationShape(PgOutputDecoder.Relation relation, DataSource source) {
        this.relation = relation;
        this.source = source;
        this.catalog = new CatalogShape(source, relation.table());
    }

    @Override
    public ColumnSpec column(String name) throws SQLException {
        for (PgOutputDecoder.Column column : relation.columns()) {
            if (column.name().equals(name)) {
                return spec(column);
            }
        }
        return null;
    }

    @Override
    public List<ColumnSpec> columns() throws SQLException {
        List<ColumnSpec> all = new ArrayList<>();
        for (PgOutputDecoder.Column column : relation.columns()) {
            all.add(spec(column));
        }
        return all;
    }

    @Override
    public List<String> key() throws SQLException {
        List<String> key = catalog.key();
        if (!key.isEmpty()) {
            return key;
        }
        // the table may be gone from the source since: its replica identity is what the Relation message marks
        return relation.columns().stream().filter(PgOutputDecoder.Column::key).map(PgOutputDecoder.Column::name)
                .toList();
    }

    @Override
    public String origin() {
        return "its Relation message";
    }

    private ColumnSpec spec(PgOutputDecoder.Column column) throws SQLException {
        Optional<SourceTypes.Column> now = catalog.sourceColumn(column.name());
        // the existing rows' value only while the source column is still the one the message describes
        SourceTypes.Column existing = now.filter(c -> c.typeOid() == column.typeOid()).orElse(null);
        try (Connection connection = source.getConnection()) {
            return SourceTypes.column(connection, column.name(), column.typeOid(), column.typmod(), existing);
        }
    }
}
