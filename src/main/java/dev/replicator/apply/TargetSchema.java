package dev.replicator.apply;

import java.sql.Connection;
import java.sql.SQLException;

import javax.sql.DataSource;

/**
 * Replicator's own tables in the target (row and table positions, rejected events, backfill progress), created if
 * missing. Created once per process; forgotten when a statement finds one gone, so the next attempt creates it again.
 */
public final class TargetSchema {

    private final DataSource target;
    private final Sql sql;
    private final String schema;
    private volatile boolean ready;

    /** @param schema the schema holding replicator's tables */
    public TargetSchema(DataSource target, Sql sql, String schema) {
        this.target = target;
        this.sql = sql;
        this.schema = schema;
    }

    /**
     * Creates the tables if they are missing. Called at start-up; if the target is down then, the first write tries
     * again.
     */
    public void ensure() throws SQLException {
        if (ready) {
            return;
        }
        try (Connection connection = target.getConnection()) {
            connection.setAutoCommit(true);
            try (var statement = connection.createStatement()) {
                for (String ddl : sql.createSchema(schema)) {
                    statement.execute(ddl);
                }
            }
        } catch (SQLException e) {
            // two instances starting at once may race on CREATE ... IF NOT EXISTS; the loser sees 23505/42P07
            if (!"23505".equals(e.getSQLState()) && !"42P07".equals(e.getSQLState())) {
                throw e;
            }
        }
        ready = true;
    }

    /** A table of replicator's may have been dropped: check again before the next use. */
    void forget() {
        ready = false;
    }
}
