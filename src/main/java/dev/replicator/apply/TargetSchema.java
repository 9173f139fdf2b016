package dev.replicator.apply;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;

import javax.sql.DataSource;

import org.jboss.logging.Logger;

import dev.replicator.convert.TextSettings;

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
            TextSettings.pin(connection);
            connection.setAutoCommit(true);
            try (var statement = connection.createStatement()) {
                for (String ddl : sql.createSchema(schema)) {
                    executeRacing(statement, ddl);
                }
                addLagging(statement);
                convertPositionKeys(statement);
            }
            new PositionUpgrade(schema, sql.tracksLagging()).run(connection);
        }
        ready = true;
    }

    /**
     * Runs one statement of the set-up; two instances starting at once may race on CREATE ... IF NOT EXISTS, and the
     * loser sees 23505, 42P07, 42710 or 42723: what it wanted to create is there.
     */
    private static void executeRacing(Statement statement, String ddl) throws SQLException {
        try {
            statement.execute(ddl);
        } catch (SQLException e) {
            if (!Set.of("23505", "42P07", "42710", "42723").contains(e.getSQLState())) {
                throw e;
            }
        }
    }

    /**
     * Row positions kept by an earlier version have no lagging columns: adds the column (null, as every existing row
     * means). Asked first, so that a start-up that finds it takes no lock of the table.
     */
    private void addLagging(Statement statement) throws SQLException {
        try (var missing = statement.executeQuery(sql.laggingMissing())) {
            missing.next();
            if (!missing.getBoolean(1)) {
                return;
            }
        }
        LOG.infof("Adding the column %s to %s.row_position, once", Sql.LAGGING, schema);
        try {
            executeRacing(statement, sql.addLagging());
        } catch (SQLException e) {
            if (!"42501".equals(e.getSQLState())) {
                throw e;
            }
            // only the table's owner may add it; whole rows stay fenced as before, columns changes keep do not
            LOG.warnf("%s.row_position stays without the column %s: %s. Until it has it, a column that a change leaves"
                    + " out (an unchanged TOASTed value, a column a native upsert does not carry) can lose an older"
                    + " value that arrives late. Run as the table's owner, then restart: %s", schema, Sql.LAGGING,
                    e.getMessage(), sql.addLagging());
            sql.withoutLagging();
        }
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
