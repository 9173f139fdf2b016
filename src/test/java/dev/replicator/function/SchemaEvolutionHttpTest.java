package dev.replicator.function;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.EnumSet;
import java.util.Map;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;

import dev.replicator.testing.DebeziumLoss;
import dev.replicator.testing.LogicalSource;
import dev.replicator.testing.PullDatabases;
import dev.replicator.testing.TableComparison;
import dev.replicator.testing.TestDatabases;

/**
 * {@code replicator.schema.evolution=add} through the app: a column, an enum column and a table added on the source
 * reach the target through POST /pull, and a pushed change with a column the target lacks adds it; the metric counts
 * each addition.
 */
@QuarkusTest
@QuarkusTestResource(value = SchemaEvolutionHttpTest.Databases.class, restrictToAnnotatedClass = true)
class SchemaEvolutionHttpTest {

    static final String DB = "evolve_http";

    public static class Databases implements QuarkusTestResourceLifecycleManager {
        @Override
        public Map<String, String> start() {
            return PullDatabases.fresh(DB, DB, db -> TestDatabases.execute(db, "CREATE TABLE items (id int PRIMARY KEY,"
                    + " v text); CREATE TABLE pushed (id int PRIMARY KEY, v text)"),
                    Map.of("replicator.schema.evolution", "add"));
        }

        @Override
        public void stop() {
            // the servers live as long as the test JVM
        }
    }

    @Test
    void columnsTypesAndTablesAddedOnTheSourceArriveThroughPull() {
        DataSource source = TestDatabases.dataSource(LogicalSource.server(), DB);
        DataSource target = TestDatabases.dataSource(TestDatabases.target(), DB);
        given().contentType("application/json").body("{}").post("/pull").then().statusCode(200);
        TestDatabases.execute(source, "INSERT INTO items VALUES (1, 'a'), (2, 'b')");
        TestDatabases.execute(source, "ALTER TABLE items ADD COLUMN qty int NOT NULL DEFAULT 7");
        TestDatabases.execute(source, "CREATE TYPE shade AS ENUM ('light', 'dark');"
                + " ALTER TABLE items ADD COLUMN shade shade, ADD COLUMN sizes int[]");
        TestDatabases.execute(source, "INSERT INTO items VALUES (3, 'c', 30, 'dark', '{1,2}')");
        TestDatabases.execute(source, "CREATE TABLE notes (id bigint PRIMARY KEY, body text, at timestamptz);"
                + " INSERT INTO notes VALUES (1, 'first', '2024-03-01 10:00:00+00')");

        given().contentType("application/json").body("{}").post("/pull").then().statusCode(200)
                .header("ce-type", "replicator.pull.done.v1").body("done", equalTo(true)).body("applied", equalTo(4));

        TableComparison.assertSameRows(source, target, "items", EnumSet.noneOf(DebeziumLoss.class));
        TableComparison.assertSameRows(source, target, "notes", EnumSet.noneOf(DebeziumLoss.class));
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertEquals(true, metrics.contains("replicator_schema_changes_total{kind=\"create_table\",object=\"public.notes\"}"),
                "the created table is counted");
    }

    @Test
    void aPushedChangeWithAColumnTheTargetLacksAddsItFromTheSourcesCatalog() {
        DataSource source = TestDatabases.dataSource(LogicalSource.server(), DB);
        DataSource target = TestDatabases.dataSource(TestDatabases.target(), DB);
        TestDatabases.execute(source, "ALTER TABLE pushed ADD COLUMN price numeric(8,2)");

        given().contentType("application/json").header("ce-specversion", "1.0").header("ce-id", "push-1")
                .header("ce-type", "replicator.change.v1").header("ce-source", "/test")
                .body("{\"table\":\"public.pushed\",\"op\":\"upsert\",\"position\":1,"
                        + "\"after\":{\"id\":1,\"v\":\"x\",\"price\":\"12.50\"}}")
                .post("/").then().statusCode(204);

        assertEquals("1|x|12.50|numeric(8,2)\n", TestDatabases.copy(target, "SELECT id, v, price,"
                + " pg_typeof(price)::text || '(8,2)' FROM pushed").replace('\t', '|'));
    }
}
