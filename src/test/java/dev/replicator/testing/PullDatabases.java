package dev.replicator.testing;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

import javax.sql.DataSource;

/**
 * For tests of the app that pull: a database of one name on the logical-WAL source server and on the target server,
 * made afresh and set up alike, and the settings that point the app and its slot at them.
 */
public final class PullDatabases {

    private PullDatabases() {
    }

    /**
     * @param slot  the slot and publication name (slots of an earlier run keep their database: that slot and every
     *              slot of the database are dropped first)
     * @param setup run on the source, then on the target
     * @param more  further settings of the test
     */
    public static Map<String, String> fresh(String database, String slot, Consumer<DataSource> setup,
            Map<String, String> more) {
        TestDatabases.execute(TestDatabases.dataSource(LogicalSource.server(), "postgres"),
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + slot
                        + "' OR database = '" + database + "'");
        setup.accept(TestDatabases.freshDatabase(LogicalSource.server(), database));
        setup.accept(TestDatabases.freshDatabase(TestDatabases.target(), database));
        Map<String, String> settings = new HashMap<>(Map.of(
                "quarkus.datasource.source.jdbc.url", TestDatabases.jdbcUrl(LogicalSource.server(), database),
                "quarkus.datasource.source.username", "postgres",
                "quarkus.datasource.target.jdbc.url", TestDatabases.jdbcUrl(TestDatabases.target(), database),
                "quarkus.datasource.target.username", "postgres",
                "replicator.allow-all-tables", "true",
                "replicator.pull.slot", slot,
                "replicator.pull.publication", slot,
                "replicator.pull.create", "true"));
        settings.putAll(more);
        return settings;
    }
}
