package dev.replicator.apply;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Map;

import dev.replicator.decode.TableId;

/** The parameters of {@link Sql#lockTables()}: the tables' names in lock order and whether each is exclusive. */
record TableLocks(Array names, Array exclusive) {

    /** The locks of these tables (name to exclusive), in the order given: callers pass them in name order. */
    static TableLocks of(Connection connection, Map<String, Boolean> exclusiveByName) throws SQLException {
        return new TableLocks(connection.createArrayOf("text", exclusiveByName.keySet().toArray()),
                connection.createArrayOf("bool", exclusiveByName.values().toArray()));
    }

    /** Takes one table's lock, shared (a writer) or exclusive (a truncate, a copy), in a statement of its own. */
    static void take(Connection connection, TableId table, boolean exclusive) throws SQLException {
        TableLocks one = of(connection, Map.of(table.toString(), exclusive));
        try (PreparedStatement lock = connection.prepareStatement(Sql.lockTables())) {
            one.bind(lock, 1);
            lock.execute();
        }
    }

    /** Binds both arrays from parameter {@code first} on; returns the next parameter's index. */
    int bind(PreparedStatement statement, int first) throws SQLException {
        statement.setArray(first, names);
        statement.setArray(first + 1, exclusive);
        return first + 2;
    }
}
