package dev.replicator.apply;

import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/** The parameters of {@link Sql#lockTables()}: the tables' names in lock order and whether each is exclusive. */
record TableLocks(Array names, Array exclusive) {

    /** Binds both arrays from parameter {@code first} on; returns the next parameter's index. */
    int bind(PreparedStatement statement, int first) throws SQLException {
        statement.setArray(first, names);
        statement.setArray(first + 1, exclusive);
        return first + 2;
    }
}
