package dev.replicator.apply;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;

import org.jboss.logging.Logger;

import dev.replicator.convert.TargetColumn;
import dev.replicator.convert.TextSettings;
import dev.replicator.decode.TableId;
import dev.replicator.route.TargetCatalog;
import dev.replicator.route.TargetTable;

/**
 * Brings the positions an earlier release recorded to today's row identity, once per target (recorded in
 * {@code <schema>.upgrades}), so that they keep fencing after an upgrade:
 * <ul>
 * <li>a table whose schema or name holds a dot was recorded as {@code schema.table} unquoted, which two tables could
 * share; its rows, and its truncate, now go under the quoted name of every target table that spelling could mean
 * (both, when both exist: they shared it before, so neither loses a fence it had);
 * <li>a key whose text depends on a session setting (timestamptz, interval, float, bytea, money, and what holds them)
 * was printed with the settings of the instance that wrote it: it is read back with the database's defaults, which
 * an earlier release used for all but the time zone (every timestamptz text names its offset), and printed again with
 * the pinned settings ({@link TextSettings}). Where two spellings of one key meet, the newer position stays.
 * </ul>
 * Instances that start together take turns on an advisory lock; the second finds the work done.
 */
final class PositionUpgrade {

    private static final Logger LOG = Logger.getLogger(PositionUpgrade.class);

    /** The name this upgrade is recorded under. */
    static final String NAME = "row-identity-2";

    /** Key types whose text no session setting changes: keys of these need no new spelling. */
    private static final Set<String> PLAIN = Set.of("int2", "int4", "int8", "numeric", "text", "varchar", "bpchar",
            "char", "name", "uuid", "bool", "date", "timestamp", "time", "timetz", "oid", "inet", "cidr", "macaddr",
            "macaddr8", "bit", "varbit", "citext", "ltree");

    private final String schema;
    private final String positions;
    private final String tablePositions;
    private final String upgrades;
    /** {@code , lagging} when the positions have that column, or nothing. */
    private final String lagging;

    PositionUpgrade(String schema, boolean lagging) {
        this.lagging = lagging ? ", " + Sql.LAGGING : "";
        this.schema = schema;
        this.positions = Sql.quote(schema) + ".row_position";
        this.tablePositions = Sql.quote(schema) + ".table_position";
        this.upgrades = Sql.quote(schema) + ".upgrades";
    }

    /** The statement that creates the table recording upgrades made. */
    String createUpgrades() {
        return "CREATE TABLE IF NOT EXISTS " + upgrades + " (name text PRIMARY KEY, done_at timestamptz NOT NULL)";
    }

    /** Runs the upgrade unless it was made; on a pinned connection in autocommit mode. */
    void run(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(createUpgrades());
        } catch (SQLException e) {
            if (!Set.of("23505", "42P07").contains(e.getSQLState())) {
                throw e;
            }
        }
        String lock = "SELECT pg_advisory_lock(hashtext('" + upgrades.replace("'", "''") + "'))";
        String unlock = "SELECT pg_advisory_unlock(hashtext('" + upgrades.replace("'", "''") + "'))";
        try (Statement statement = connection.createStatement()) {
            statement.execute(lock);
            try {
                if (!done(connection)) {
                    upgrade(connection);
                }
            } finally {
                statement.execute(unlock);
            }
        }
    }

    private boolean done(Connection connection) throws SQLException {
        try (Statement query = connection.createStatement();
                ResultSet rs = query.executeQuery("SELECT 1 FROM " + upgrades + " WHERE name = '" + NAME + "'")) {
            return rs.next();
        }
    }

    /** Records the upgrade as made (in the caller's transaction, if it has one). */
    private void markDone(Connection connection) throws SQLException {
        try (Statement mark = connection.createStatement()) {
            mark.execute("INSERT INTO " + upgrades + " VALUES ('" + NAME + "', now()) ON CONFLICT DO NOTHING");
        }
    }

    private void upgrade(Connection connection) throws SQLException {
        List<String> names = new ArrayList<>();
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SELECT table_name FROM " + positions + " UNION SELECT table_name"
                        + " FROM " + tablePositions)) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        }
        if (names.isEmpty()) {
            markDone(connection); // a new target: nothing recorded yet
            return;
        }
        int rekeyed = 0;
        for (String recorded : names) {
            for (TableId table : meant(connection, recorded)) {
                rekeyed += upgrade(connection, recorded, table);
            }
        }
        connection.setAutoCommit(false);
        try {
            try (Statement statement = connection.createStatement()) {
                // what was recorded under a dotted spelling now lives under the quoted names
                for (String recorded : names) {
                    if (!meant(connection, recorded).stream().allMatch(t -> t.toString().equals(recorded))) {
                        delete(connection, recorded);
                    }
                }
            }
            markDone(connection);
            connection.commit();
        } catch (SQLException e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setAutoCommit(true);
        }
        LOG.infof("Positions in %s recorded by an earlier release now use today's row identity: %d tables looked at,"
                + " %d keys spelled anew", schema, names.size(), rekeyed);
    }

    /**
     * The target tables a recorded name may mean: the table it names today, or for {@code a.b.c} every table the
     * earlier spelling could stand for. Empty when none exists (its rows are left as they are).
     */
    private static List<TableId> meant(Connection connection, String recorded) throws SQLException {
        List<TableId> tables = new ArrayList<>();
        try (PreparedStatement query = connection.prepareStatement("SELECT n.nspname, c.relname FROM pg_class c"
                + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')"
                + " AND n.nspname || '.' || c.relname = ? ORDER BY 1, 2")) {
            query.setString(1, recorded);
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    tables.add(new TableId(rs.getString(1), rs.getString(2)));
                }
            }
        }
        return tables;
    }

    /** One recorded name's rows for one table: spelled anew where needed; returns the keys spelled anew. */
    private int upgrade(Connection connection, String recorded, TableId table) throws SQLException {
        Optional<TargetTable> described = TargetCatalog.load(connection, table);
        String name = table.toString();
        connection.setAutoCommit(false);
        try {
            if (!name.equals(recorded)) {
                copy(connection, recorded, name);
            }
            int rekeyed = described.isPresent() && needsRekey(described.get()) ? rekey(connection, described.get()) : 0;
            connection.commit();
            return rekeyed;
        } catch (SQLException e) {
            connection.rollback();
            String state = e.getSQLState() == null ? "" : e.getSQLState();
            if (!state.startsWith("22") && !state.equals("42804") && !state.equals("42846")) {
                throw e;
            }
            // a key that no longer reads as its column's type (the type changed since): its rows stay as they were
            LOG.warnf("The positions of %s recorded by an earlier release keep their spelling: %s", name,
                    TargetTransactions.withoutValues(e));
            return 0;
        } finally {
            connection.setAutoCommit(true);
        }
    }

    /** Whether a key may be spelled anew: a setting changes its text, or its recorded text is now made canonical. */
    private static boolean needsRekey(TargetTable table) {
        for (TargetColumn key : table.keyColumns()) {
            if (key.array() || !PLAIN.contains(key.baseType())
                    || !Sql.keyText(key, "k").equals("(k)::text")) {
                return true;
            }
        }
        return false;
    }

    /** Copies a dotted spelling's rows and truncate to a table's quoted name, the newer position winning. */
    private void copy(Connection connection, String recorded, String name) throws SQLException {
        try (PreparedStatement rows = connection.prepareStatement("INSERT INTO " + positions + " AS p (table_name,"
                + " row_key, commit_pos, change_pos, deleted, updated_at" + lagging + ") SELECT ?, row_key,"
                + " commit_pos, change_pos, deleted, updated_at" + lagging + " FROM " + positions
                + " WHERE table_name = ? " + keepNewer());
                PreparedStatement truncate = connection.prepareStatement("INSERT INTO " + tablePositions + " AS p"
                        + " (table_name, commit_pos, change_pos, updated_at) SELECT ?, commit_pos, change_pos,"
                        + " updated_at FROM " + tablePositions + " WHERE table_name = ? ON CONFLICT (table_name)"
                        + " DO UPDATE SET commit_pos = EXCLUDED.commit_pos, change_pos = EXCLUDED.change_pos"
                        + " WHERE (p.commit_pos, p.change_pos) < (EXCLUDED.commit_pos, EXCLUDED.change_pos)")) {
            for (PreparedStatement statement : List.of(rows, truncate)) {
                statement.setString(1, name);
                statement.setString(2, recorded);
                statement.executeUpdate();
            }
        }
    }

    private void delete(Connection connection, String recorded) throws SQLException {
        for (String table : List.of(positions, tablePositions)) {
            try (PreparedStatement delete = connection.prepareStatement("DELETE FROM " + table
                    + " WHERE table_name = ?")) {
                delete.setString(1, recorded);
                delete.executeUpdate();
            }
        }
    }

    /**
     * Reads each key of the table back with the database's default settings (as it was printed), prints it with the
     * pinned ones, and moves the rows whose spelling changed; returns how many moved.
     */
    private int rekey(Connection connection, TargetTable table) throws SQLException {
        StringJoiner typed = new StringJoiner(", ");
        StringJoiner printed = new StringJoiner(", ", "ARRAY[", "]::text");
        List<TargetColumn> key = table.keyColumns();
        for (int i = 0; i < key.size(); i++) {
            typed.add("(row_key::text[])[" + (i + 1) + "]::" + key.get(i).castType() + " AS k" + (i + 1));
            printed.add(Sql.keyText(key.get(i), "k" + (i + 1)));
        }
        String rekey = "pg_temp.replicator_rekey";
        try (Statement statement = connection.createStatement()) {
            for (String setting : TextSettings.PINNED.keySet()) { // as the earlier release's sessions had them
                statement.execute("SET LOCAL " + setting + " TO DEFAULT");
            }
            statement.execute("SET LOCAL TimeZone = 'UTC'"); // offsets are printed: the zone does not matter
            try (PreparedStatement read = connection.prepareStatement("CREATE TEMP TABLE replicator_rekey"
                    + " ON COMMIT DROP AS SELECT row_key AS old_key, " + typed + " FROM " + positions
                    + " WHERE table_name = ?")) {
                read.setString(1, table.id().toString());
                read.execute();
            }
            statement.execute(TextSettings.SET_LOCAL);
            statement.execute("ALTER TABLE " + rekey + " ADD COLUMN new_key text");
            statement.execute("UPDATE " + rekey + " SET new_key = " + printed);
            statement.execute("DELETE FROM " + rekey + " WHERE new_key = old_key");
        }
        int moved;
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO " + positions + " AS p (table_name,"
                + " row_key, commit_pos, change_pos, deleted, updated_at" + lagging + ") SELECT DISTINCT ON"
                + " (r.new_key) ?, r.new_key, o.commit_pos, o.change_pos, o.deleted, o.updated_at"
                + lagging.replace(", ", ", o.") + " FROM " + rekey + " r JOIN " + positions + " o ON o.table_name = ? AND o.row_key = r.old_key"
                + " ORDER BY r.new_key, o.commit_pos DESC, o.change_pos DESC, o.deleted " + keepNewer());
                PreparedStatement delete = connection.prepareStatement("DELETE FROM " + positions + " o USING "
                        + rekey + " r WHERE o.table_name = ? AND o.row_key = r.old_key")) {
            insert.setString(1, table.id().toString());
            insert.setString(2, table.id().toString());
            insert.executeUpdate();
            delete.setString(1, table.id().toString());
            moved = delete.executeUpdate();
        }
        return moved;
    }

    /** Where a row is recorded twice, the newer position stays (at one position an upsert ranks above a delete). */
    private String keepNewer() {
        return "ON CONFLICT (table_name, row_key) DO UPDATE SET commit_pos = EXCLUDED.commit_pos,"
                + " change_pos = EXCLUDED.change_pos, deleted = EXCLUDED.deleted, updated_at = EXCLUDED.updated_at"
                + (lagging.isEmpty() ? "" : ", " + Sql.LAGGING + " = EXCLUDED." + Sql.LAGGING)
                + " WHERE (p.commit_pos, p.change_pos, NOT p.deleted) < (EXCLUDED.commit_pos, EXCLUDED.change_pos,"
                + " NOT EXCLUDED.deleted)";
    }
}
