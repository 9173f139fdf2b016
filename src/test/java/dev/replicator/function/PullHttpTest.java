package dev.replicator.function;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.EnumSet;
import java.util.Map;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;

import dev.replicator.testing.DebeziumLoss;
import dev.replicator.testing.LogicalSource;
import dev.replicator.testing.TableComparison;
import dev.replicator.testing.TestDatabases;

/** The pull through the app: POST /pull with a JSON body, and a replicator.pull.v1 CloudEvent in binary mode. */
@QuarkusTest
@QuarkusTestResource(value = PullHttpTest.Databases.class, restrictToAnnotatedClass = true)
class PullHttpTest {

    static final String DB = "pull_http";

    public static class Databases implements QuarkusTestResourceLifecycleManager {
        @Override
        public Map<String, String> start() {
            try (Connection connection = LogicalSource.server().getPostgresDatabase().getConnection()) {
                connection.createStatement().execute("SELECT pg_drop_replication_slot(slot_name)"
                        + " FROM pg_replication_slots WHERE slot_name = '" + DB + "'");
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
            DataSource source = TestDatabases.freshDatabase(LogicalSource.server(), DB);
            DataSource target = TestDatabases.freshDatabase(TestDatabases.target(), DB);
            TestDatabases.execute(source, "CREATE TABLE items (id int PRIMARY KEY, v text)");
            TestDatabases.execute(target, "CREATE TABLE items (id int PRIMARY KEY, v text)");
            return Map.of(
                    "quarkus.datasource.source.jdbc.url", TestDatabases.jdbcUrl(LogicalSource.server(), DB),
                    "quarkus.datasource.source.username", "postgres",
                    "quarkus.datasource.target.jdbc.url", TestDatabases.jdbcUrl(TestDatabases.target(), DB),
                    "quarkus.datasource.target.username", "postgres",
                    "replicator.allow-all-tables", "true",
                    "replicator.pull.slot", DB,
                    "replicator.pull.publication", DB,
                    "replicator.pull.create", "true");
        }

        @Override
        public void stop() {
            // the servers live as long as the test JVM
        }
    }

    @Test
    void pullOverHttpAndAsCloudEvent() {
        DataSource source = TestDatabases.dataSource(LogicalSource.server(), DB);
        DataSource target = TestDatabases.dataSource(TestDatabases.target(), DB);
        given().contentType("application/json").body("{}").post("/pull").then().statusCode(200)
                .header("ce-type", "replicator.pull.done.v1").body("done", equalTo(true));
        TestDatabases.execute(source, "INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 30) g");
        given().contentType("application/json").body("{\"maxChanges\": 10}").post("/pull").then().statusCode(200)
                .header("ce-type", "replicator.pull.v1").body("done", equalTo(false)).body("applied", equalTo(30))
                .body("confirmedLsn", startsWith("0/"));
        TestDatabases.execute(source, "UPDATE items SET v = 'w' WHERE id <= 5");
        given().contentType("application/json").header("ce-specversion", "1.0").header("ce-id", "pull-1")
                .header("ce-type", "replicator.pull.v1").header("ce-source", "/test").body("{}").post("/")
                .then().statusCode(200).header("ce-type", "replicator.pull.done.v1").body("applied", equalTo(5))
                .body("done", equalTo(true));
        TestDatabases.execute(source, "DELETE FROM items WHERE id > 27");
        // a PingSource's event whose replicatorjob extension is pull pulls instead of verifying
        given().contentType("application/json").header("ce-specversion", "1.0").header("ce-id", "ping-1")
                .header("ce-type", "dev.knative.sources.ping").header("ce-source", "/ping")
                .header("ce-replicatorjob", "pull").body("{}").post("/")
                .then().statusCode(200).header("ce-type", "replicator.pull.done.v1").body("applied", equalTo(3));
        given().contentType("application/json").body("[1]").post("/pull").then().statusCode(400);
        TableComparison.assertSameRows(source, target, "items", EnumSet.noneOf(DebeziumLoss.class));
    }
}
