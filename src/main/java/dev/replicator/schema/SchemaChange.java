package dev.replicator.schema;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import dev.replicator.decode.TableId;

/**
 * One addition to the target's schema that a change needs: a type, a table or a column. Never a drop, never a
 * narrowing. Made in the target transaction of the first change that needs it, after a lock on what it makes and a
 * second look: of two writers that need it, the second finds it made.
 */
public sealed interface SchemaChange {

    /** What the lock is taken on: two changes with one key are made one after the other. */
    String lockKey();

    /** Whether the target has it already. */
    boolean done(Connection connection) throws SQLException;

    /** The statements that make it, in order. */
    List<String> statements();

    /** Statements that end it, run last in the transaction that made it (before its commit). */
    default List<String> closing() {
        return List.of();
    }

    /** For the metric: {@code create_type}, {@code create_table} or {@code add_column}. */
    String kind();

    /** What it changes, by name only, for logs and the metric: the table, or the type. */
    String object();

    /** The table it changes (whose description it makes out of date), or null for a type. */
    TableId table();

    /** A sentence for the log: names only, never a value. */
    String describe();

    /** An enum or a domain, made from the source's definition. */
    record CreateType(String schema, String name, String what, String definition) implements SchemaChange {

        /** The type as SQL names it. */
        public String sql() {
            return TableId.quote(schema) + "." + TableId.quote(name);
        }

        @Override
        public String lockKey() {
            return "type " + sql();
        }

        @Override
        public boolean done(Connection connection) throws SQLException {
            return exists(connection, "SELECT to_regtype(?) IS NOT NULL", sql());
        }

        @Override
        public List<String> statements() {
            return List.of(("enum".equals(what) ? "CREATE TYPE " + sql() + " AS " : "CREATE DOMAIN " + sql() + " AS ")
                    + definition);
        }

        @Override
        public String kind() {
            return "create_type";
        }

        @Override
        public String object() {
            return new TableId(schema, name).toString();
        }

        @Override
        public TableId table() {
            return null;
        }

        @Override
        public String describe() {
            return "created " + what + " type " + object();
        }
    }

    /** A table the target lacks, with the source's columns and primary key. */
    record CreateTable(TableId table, List<ColumnSpec> columns, List<String> key) implements SchemaChange {

        public CreateTable {
            columns = List.copyOf(columns);
            key = List.copyOf(key);
        }

        @Override
        public String lockKey() {
            return "table " + table.sql();
        }

        @Override
        public boolean done(Connection connection) throws SQLException {
            return exists(connection, "SELECT to_regclass(?) IS NOT NULL", table.sql());
        }

        @Override
        public List<String> statements() {
            List<String> parts = new ArrayList<>();
            for (ColumnSpec column : columns) {
                parts.add(TableId.quote(column.name()) + " " + column.sqlType());
            }
            parts.add("PRIMARY KEY (" + String.join(", ", key.stream().map(TableId::quote).toList()) + ")");
            return List.of("CREATE TABLE " + table.sql() + " (" + String.join(", ", parts) + ")");
        }

        @Override
        public String kind() {
            return "create_table";
        }

        @Override
        public String object() {
            return table.toString();
        }

        @Override
        public String describe() {
            return "created table " + table + " with " + columns.size() + " columns and primary key ("
                    + String.join(", ", key) + ")";
        }
    }

    /**
     * A column the target table lacks, nullable. Rows that exist get the value they hold on the source when that is
     * known: it is the column's default until the end of the transaction that adds it, so rows its changes write
     * without the column (made on the source before the column was) get it too; then the default is dropped, since
     * later changes always carry the column.
     */
    record AddColumn(TableId table, ColumnSpec column) implements SchemaChange {

        @Override
        public String lockKey() {
            return "table " + table.sql();
        }

        @Override
        public boolean done(Connection connection) throws SQLException {
            try (PreparedStatement statement = connection.prepareStatement("""
                    SELECT EXISTS (SELECT 1 FROM pg_attribute
                                   WHERE attrelid = to_regclass(?) AND attname = ? AND attnum > 0 AND NOT attisdropped)
                    """)) {
                statement.setString(1, table.sql());
                statement.setString(2, column.name());
                try (ResultSet rs = statement.executeQuery()) {
                    return rs.next() && rs.getBoolean(1);
                }
            }
        }

        @Override
        public List<String> statements() {
            String add = "ALTER TABLE " + table.sql() + " ADD COLUMN " + TableId.quote(column.name()) + " "
                    + column.sqlType();
            return List.of(column.existingValue() == null ? add : add + " DEFAULT " + column.existingValue());
        }

        @Override
        public List<String> closing() {
            if (column.existingValue() == null) {
                return List.of();
            }
            return List.of("ALTER TABLE " + table.sql() + " ALTER COLUMN " + TableId.quote(column.name())
                    + " DROP DEFAULT");
        }

        @Override
        public String kind() {
            return "add_column";
        }

        @Override
        public String object() {
            return table.toString();
        }

        @Override
        public String describe() {
            return "added column " + TableId.quote(column.name()) + " (" + column.sqlType() + ") to table " + table;
        }
    }

    private static boolean exists(Connection connection, String sql, String name) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            statement.setString(1, name);
            try (ResultSet rs = statement.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }
}
