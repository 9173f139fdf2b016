package dev.replicator.observe;

import static io.restassured.RestAssured.given;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Map;

import javax.sql.DataSource;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.restassured.response.Response;

import dev.replicator.testing.LogicalSource;
import dev.replicator.testing.PostgresResource;
import dev.replicator.testing.PullDatabases;
import dev.replicator.testing.Requests;
import dev.replicator.testing.TestDatabases;

/**
 * Real work for the monitoring tests, through the application's HTTP interface: streamed changes (applied, stale and
 * parked), pulls (one drained, one turned away busy with a 503), a backfill of an analyzed table and a verify that
 * finds tampered rows and repairs them. The source is a logical-decoding server, so pull reads a real slot.
 */
public final class MonitoringWorkload {

    static final String DB = "monitoring";
    static final String SLOT = "monitoring";
    static final int ITEMS = 3000;

    private static boolean ran;

    private MonitoringWorkload() {
    }

    public static class Databases implements QuarkusTestResourceLifecycleManager {
        @Override
        public Map<String, String> start() {
            ran = false; // a new application on fresh databases: the work is done again
            return PullDatabases.fresh(DB, SLOT, db -> {
                TestDatabases.runScript(db, PostgresResource.SMALL + "schema.sql");
                TestDatabases.execute(db, "CREATE TABLE items (id int PRIMARY KEY, v text);"
                        + " CREATE TABLE pulled (id int PRIMARY KEY, v text)");
            }, Map.of("replicator.rejected.park", "true"));
        }

        @Override
        public void stop() {
            // the servers live as long as the test JVM
        }
    }

    static DataSource source() {
        return TestDatabases.dataSource(LogicalSource.server(), DB);
    }

    static DataSource target() {
        return TestDatabases.dataSource(TestDatabases.target(), DB);
    }

    /** Runs the work once per application (the tests of a class share it). */
    static synchronized void runOnce() throws SQLException {
        if (ran) {
            return;
        }
        ran = true;
        // streamed: a Debezium change applied (with a source commit time, for the lag), then again: stale
        Requests.replay(PostgresResource.SMALL + "cloudevents/0010.json").then().statusCode(204);
        Requests.replay(PostgresResource.SMALL + "cloudevents/0010.json").then().statusCode(204);
        // a change of a table the target lacks: 400, parked
        change("mon-parked", "{\"table\":\"public.nowhere\",\"op\":\"upsert\",\"position\":1,"
                + "\"after\":{\"id\":1}}").then().statusCode(200);

        // pull: the first creates the slot, the second applies what the source did since
        given().contentType("application/json").body("{}").post("/pull").then().statusCode(200);
        TestDatabases.execute(source(), "INSERT INTO pulled SELECT g, 'p' || g FROM generate_series(1, 50) g");
        given().contentType("application/json").body("{}").post("/pull").then().statusCode(200);
        // a pull while another holds the slot's lock is turned away busy
        try (Connection holder = target().getConnection();
                PreparedStatement lock = holder.prepareStatement(
                        "SELECT pg_advisory_lock(hashtextextended('replicator.pull/' || ?, 0))")) {
            lock.setString(1, SLOT);
            lock.execute();
            given().contentType("application/json").body("{}").post("/pull").then().statusCode(503);
        }

        // backfill an analyzed table in chunks, answer after answer
        TestDatabases.execute(source(), "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, " + ITEMS
                + ") g; ANALYZE items");
        String body = "{\"tables\": [\"public.items\"], \"chunkSize\": 1000}";
        for (int call = 0; call < 100; call++) {
            Response answer = given().contentType("application/json").body(body).post("/backfill");
            answer.then().statusCode(200);
            if (!"replicator.backfill.v1".equals(answer.header("ce-type"))) {
                break;
            }
            body = answer.asString();
        }

        // verify finds tampered rows, and repairs them
        TestDatabases.execute(target(), "DELETE FROM items WHERE id IN (7, 8); UPDATE items SET v = 'x' WHERE id = 9");
        given().contentType("application/json").body("{\"tables\": [\"public.items\"]}").post("/verify").then()
                .statusCode(200);
        given().contentType("application/json").body("{\"tables\": [\"public.items\"], \"repair\": true}")
                .post("/verify").then().statusCode(200);
    }

    static Response change(String id, String data) {
        return given().contentType("application/json").header("ce-specversion", "1.0").header("ce-id", id)
                .header("ce-source", "/monitoring").header("ce-type", "replicator.change.v1").body(data).post("/");
    }
}
