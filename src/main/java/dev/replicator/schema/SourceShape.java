package dev.replicator.schema;

import java.sql.SQLException;
import java.util.List;

/**
 * What a change tells of its source table's shape, for a table or column the target lacks: the pulled Relation
 * message, a Debezium event's schema, or the source's catalog.
 */
public interface SourceShape {

    /** The column as the target would be given it, or null when this shape does not know it. */
    ColumnSpec column(String name) throws SQLException;

    /** Every column, in the source's order, for a table the target lacks; empty when not known. */
    List<ColumnSpec> columns() throws SQLException;

    /** The source table's primary key; empty when not known. */
    List<String> key() throws SQLException;

    /** Where the shape comes from, for messages. */
    String origin();
}
