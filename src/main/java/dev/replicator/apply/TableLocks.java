package dev.replicator.apply;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;

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

    /**
     * Takes the locks of all these tables exclusive, in name order, in one statement: what pull's writes take of each
     * table they write, all at once and in the order every writer takes its locks. Unless the tables are more than
     * PostgreSQL sizes its lock table for per transaction ({@code max_locks_per_transaction}), where so many could
     * leave other sessions no room for theirs: then none is taken. Returns whether they were.
     */
    static boolean takeAllExclusive(Connection connection, Collection<TableId> tables) throws SQLException {
        Map<String, Boolean> exclusive = new TreeMap<>();
        tables.forEach(table -> exclusive.put(table.toString(), true));
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SELECT current_setting('max_locks_per_transaction')::int")) {
            rs.next();
            if (exclusive.size() > rs.getInt(1)) {
                return false;
            }
        }
        try (PreparedStatement lock = connection.prepareStatement(Sql.lockTables())) {
            of(connection, exclusive).bind(lock, 1);
            lock.execute();
        }
        return true;
    }

    /** Binds both arrays from parameter {@code first} on; returns the next parameter's index. */
    int bind(PreparedStatement statement, int first) throws SQLException {
        statement.setArray(first, names);
        statement.setArray(first + 1, exclusive);
        return first + 2;
    }
}
