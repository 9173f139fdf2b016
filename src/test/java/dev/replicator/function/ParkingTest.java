package dev.replicator.function;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

import dev.replicator.testing.PostgresResource;
import dev.replicator.testing.TestDatabases;

/** Cloud Run mode: events that can never be applied are kept in the target and answered 200. */
@QuarkusTest
@QuarkusTestResource(PostgresResource.class)
@TestProfile(ParkingTest.Parking.class)
class ParkingTest {

    public static class Parking implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("replicator.rejected.park", "true");
        }
    }

    DataSource target = PostgresResource.target();

    @Test
    void rejectedEventsAreParkedWithTheirReasonAndTheRequest() {
        given().contentType("application/json").header("ce-id", "p-1").header("ce-specversion", "1.0")
                .header("ce-source", "/t").header("ce-type", "com.example.Unknown").body("{\"a\": 1}")
                .post("/").then().statusCode(200).body("parked", notNullValue()).body("status", equalTo(400));
        ReplicationHttpTest.nativeChange("p-2", "{\"table\":\"public.guarded\",\"op\":\"upsert\",\"position\":1,"
                + "\"after\":{\"id\":1,\"qty\":-1}}").then().statusCode(200).body("status", equalTo(422));
        given().contentType("application/cloudevents+json").body("{\"specversion\": ").post("/").then()
                .statusCode(200).body("status", equalTo(400));

        String parked = TestDatabases.copy(target, "SELECT event_id, event_type, status, reason,"
                + " event->'headers'->>'ce-type', event->'body' FROM replicator.rejected ORDER BY id");
        String[] rows = parked.split("\n");
        assertEquals(3, rows.length, parked);
        assertTrue(rows[0].startsWith("p-1\tcom.example.Unknown\t400\tevent p-1: unsupported CloudEvent type"), rows[0]);
        assertTrue(rows[0].endsWith("\t{\"a\": 1}"), rows[0]);
        assertTrue(rows[1].startsWith("p-2\treplicator.change.v1\t422\t"), rows[1]);
        assertTrue(rows[1].contains("check constraint"), rows[1]);
        assertTrue(rows[2].contains("malformed JSON") && rows[2].endsWith("\"{\\\\\"specversion\\\\\": \""), rows[2]);
        assertEquals("", TestDatabases.copy(target, "SELECT * FROM guarded"), "nothing of a rejected event is applied");
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.contains("replicator_parked_total{status=\"400\"} 2.0"), metrics);
    }
}
