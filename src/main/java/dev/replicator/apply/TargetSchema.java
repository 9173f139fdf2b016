package dev.replicator.apply;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

import javax.sql.DataSource;

import org.jboss.logging.Logger;

/**
 * Replicator's own tables in the target (row and table positions, rejected events, backfill progress), created if
 * missing. Created once per process; forgotten when a statement finds one gone, so the next attempt creates it again.
 */
public final class TargetSchema {

    private static final Logger LOG = Logger.getLogger(TargetSchema.class);

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
                convertPositionKeys(statement);
            }
        } catch (SQLException e) {
            // two instances starting at once may race on CREATE ... IF NOT EXISTS; the loser sees 23505/42P07
            if (!"23505".equals(e.getSQLState()) && !"42P07".equals(e.getSQLState())) {
                throw e;
            }
        }
        ready = true;
    }

    /**
     * Row positions kept by an earlier version compare their keys in the database's collation; this puts them in byte
     * order once. It rebuilds the table's index, holding its lock meanwhile, so it is logged.
     */
    private void convertPositionKeys(Statement statement) throws SQLException {
        try (var columns = statement.executeQuery(sql.positionKeysToConvert())) {
            if (!columns.next()) {
                return;
            }
        }
        LOG.infof("Putting the keys of %s.row_position in byte order (COLLATE \"C\"), once: its index is rebuilt",
                schema);
        try {
            statement.execute(sql.convertPositionKeys());
        } catch (SQLException e) {
            if (!"42501".equals(e.getSQLState())) {
                throw e;
            }
            // only the table's owner may convert it; positions are as correct without it, only slower to find
            LOG.warnf("The keys of %s.row_position stay in the database's collation: %s. To convert them, run as the"
                    + " table's owner: %s", schema, e.getMessage(), sql.convertPositionKeys());
        }
    }

    /** A table of replicator's may have been dropped: check again before the next use. */
    void forget() {
        ready = false;
    }

    /** A table of replicator's was found missing: creates what is missing now. */
    public void recreate() throws SQLException {
        forget();
        ensure();
    }
}
