package dev.replicator.testing;

import java.util.Map;

import javax.sql.DataSource;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Gives the application under test (in-process or the packaged jar) a source and a target database on two separate
 * PostgreSQL servers, both with the schema of the small Debezium workload; the source has also run the workload.
 */
public class PostgresResource implements QuarkusTestResourceLifecycleManager {

    public static final String SOURCE_DB = "http_source";
    public static final String TARGET_DB = "http_target";
    public static final String SMALL = "/fixtures/debezium-server-3.6/small/";
    /** Tables named like Debezium's own events; a test that uses them creates them on the target itself. */
    public static final String HEARTBEAT = "/fixtures/debezium-server-3.6/heartbeat/";

    @Override
    public Map<String, String> start() {
        DataSource source = TestDatabases.freshDatabase(TestDatabases.source(), SOURCE_DB);
        DataSource target = TestDatabases.freshDatabase(TestDatabases.target(), TARGET_DB);
        TestDatabases.runScript(source, SMALL + "schema.sql");
        TestDatabases.runScript(source, SMALL + "workload.sql");
        TestDatabases.runScript(target, SMALL + "schema.sql");
        TestDatabases.execute(target, "CREATE TABLE guarded (id int PRIMARY KEY, qty int NOT NULL CHECK (qty >= 0))");
        return Map.of(
                "quarkus.datasource.source.jdbc.url", TestDatabases.jdbcUrl(TestDatabases.source(), SOURCE_DB),
                "quarkus.datasource.source.username", "postgres",
                "quarkus.datasource.target.jdbc.url", TestDatabases.jdbcUrl(TestDatabases.target(), TARGET_DB),
                "quarkus.datasource.target.username", "postgres",
                "replicator.allow-all-tables", "true");
    }

    public static DataSource source() {
        return TestDatabases.dataSource(TestDatabases.source(), SOURCE_DB);
    }

    public static DataSource target() {
        return TestDatabases.dataSource(TestDatabases.target(), TARGET_DB);
    }

    @Override
    public void stop() {
        // the servers live as long as the test JVM
    }
}
