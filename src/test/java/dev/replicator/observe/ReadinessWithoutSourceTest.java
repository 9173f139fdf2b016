package dev.replicator.observe;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

import dev.replicator.testing.PostgresResource;

/**
 * Change events need only the target, so a source outage must not make instances unready (Knative would not route to
 * them, nor finish a scale from zero). The source here refuses every connection: the server has no TLS and the
 * profile demands it.
 */
@QuarkusTest
@QuarkusTestResource(PostgresResource.class)
@TestProfile(ReadinessWithoutSourceTest.SourceDown.class)
class ReadinessWithoutSourceTest {

    public static class SourceDown implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.datasource.source.jdbc.additional-jdbc-properties.sslmode", "require");
        }
    }

    @Test
    void readyAndApplyingChangesWhileTheSourceIsDown() throws InterruptedException {
        // the source really is unreachable: a job that reads it is answered as a transient failure
        given().contentType("application/json").body("{\"table\": \"public.customers\", \"key\": {\"id\": 1}}")
                .post("/rowref").then().statusCode(503);

        given().get("/q/health/ready").then().statusCode(200);
        // status answers all the same, saying which database does not answer and why
        given().get("/status").then().statusCode(200).body("databases.source.reachable", equalTo(false))
                .body("databases.source.error", containsString("SSL")).body("databases.target.reachable", equalTo(true));
        // and the metric the unreachable-database alert watches says so (probed once metrics are read)
        String metrics = "";
        for (int i = 0; i < 100 && !metrics.contains("replicator_database_up{database=\"source\"} 0.0"); i++) {
            Thread.sleep(100);
            metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        }
        assertTrue(metrics.contains("replicator_database_up{database=\"source\"} 0.0"), metrics);
        assertTrue(metrics.contains("replicator_database_up{database=\"target\"} 1.0"), metrics);
        given().contentType("application/json").header("ce-id", "ready-1").header("ce-specversion", "1.0")
                .header("ce-source", "/t").header("ce-type", "replicator.change.v1")
                .body("{\"table\":\"public.guarded\",\"op\":\"upsert\",\"position\":1,\"after\":{\"id\":1,\"qty\":1}}")
                .post("/").then().statusCode(204);
    }
}
