package dev.replicator.function;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;

import javax.sql.DataSource;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

import dev.replicator.testing.PostgresResource;
import dev.replicator.testing.TestDatabases;

/**
 * {@code replicator.apply-truncate=false}: a truncate is answered and counted as skipped and empties nothing, both
 * for a single event and inside a batch whose elements stand alone (parking on).
 */
@QuarkusTest
@QuarkusTestResource(PostgresResource.class)
@TestProfile(TruncateOffTest.TruncateOff.class)
class TruncateOffTest {

    public static class TruncateOff implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("replicator.apply-truncate", "false", "replicator.rejected.park", "true");
        }
    }

    DataSource target = PostgresResource.target();

    @BeforeEach
    void oneRow() {
        TestDatabases.execute(target, "DELETE FROM scratch; INSERT INTO scratch VALUES (1, 'kept')");
    }

    @Test
    void aSingleTruncateIsSkipped() {
        ReplicationHttpTest.nativeChange("tr-1", "{\"table\":\"public.scratch\",\"op\":\"truncate\",\"position\":10}")
                .then().statusCode(204);
        assertEquals("1\tkept\n", TestDatabases.copy(target, "SELECT * FROM scratch ORDER BY k"));
    }

    @Test
    void aTruncateInABatchIsSkippedAndTheRestApplied() {
        String batch = "[" + ReplicationHttpTest.structuredNative("trb-1", "{\"table\":\"public.scratch\","
                + "\"op\":\"truncate\",\"position\":20}") + ","
                + ReplicationHttpTest.structuredNative("trb-2", "{\"table\":\"public.scratch\",\"op\":\"upsert\","
                        + "\"position\":21,\"after\":{\"k\":2,\"v\":\"added\"}}") + "]";
        given().contentType("application/json").body(batch).post("/").then().statusCode(200)
                .body("skipped", equalTo(1)).body("applied", equalTo(1)).body("parked", equalTo(0));
        assertEquals("1\tkept\n2\tadded\n", TestDatabases.copy(target, "SELECT * FROM scratch ORDER BY k"));
    }
}
