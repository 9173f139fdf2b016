package dev.replicator.function;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import java.util.EnumSet;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusIntegrationTest;

import dev.replicator.testing.DebeziumLoss;
import dev.replicator.testing.LogicalSource;
import dev.replicator.testing.TableComparison;
import dev.replicator.testing.TestDatabases;

/**
 * The pull through the packaged application (the jar, or the native binary with -Dnative). With
 * {@code -Dquarkus.package.jar.aot.enabled=true} it is also the training run of the JVM's AOT cache: a cache built
 * from this suite has seen a pull of some thousands of changes, as a pod scaled from zero meets one.
 */
@QuarkusIntegrationTest
class PullHttpIT extends PullHttpTest {

    @Test
    void aPullOfThousandsOfChangesLandsEqual() {
        DataSource source = TestDatabases.dataSource(LogicalSource.server(), DB);
        DataSource target = TestDatabases.dataSource(TestDatabases.target(), DB);
        String table = "CREATE TABLE trained (id bigint PRIMARY KEY, name text NOT NULL, qty int, price numeric(12,2),"
                + " updated timestamptz)";
        TestDatabases.execute(target, table);
        TestDatabases.execute(source, table);
        for (int from = 1; from <= 20_000; from += 1000) {
            TestDatabases.execute(source, "INSERT INTO trained SELECT g, 'item ' || g, g % 100, g * 0.25, now()"
                    + " FROM generate_series(" + from + ", " + (from + 999) + ") g");
        }
        TestDatabases.execute(source, "UPDATE trained SET qty = qty + 1; DELETE FROM trained WHERE id % 10 = 0");
        given().contentType("application/json").body("{}").post("/pull").then().statusCode(200)
                .body("done", equalTo(true));
        TableComparison.assertSameRows(source, target, "trained", EnumSet.noneOf(DebeziumLoss.class));
    }
}
