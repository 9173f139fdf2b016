package dev.replicator.function;

import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

import dev.replicator.testing.PostgresResource;
import dev.replicator.testing.TableComparison;
import dev.replicator.testing.TestDatabases;

/** With parking off, a batch is all or nothing: one bad change and the target is left as it was. */
@QuarkusTest
@QuarkusTestResource(PostgresResource.class)
@TestProfile(StrictBatchTest.Strict.class)
class StrictBatchTest {

    /** Its own profile, so that it starts on empty target tables that no other test writes. */
    public static class Strict implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("replicator.rejected.park", "false");
        }
    }

    DataSource source = PostgresResource.source();
    DataSource target = PostgresResource.target();

    @Test
    void aBatchWithABadChangeLeavesTheTargetUnchanged() {
        MixedBatch.post(MixedBatch.mixed()).then().statusCode(400);
        assertTargetEmpty();
        MixedBatch.post(MixedBatch.withUnconvertibleValue()).then().statusCode(400)
                .body("error", containsString("column qty"));
        assertTargetEmpty();
        MixedBatch.post(MixedBatch.withRefusedChange()).then().statusCode(422)
                .body("error", containsString("check constraint"));
        assertTargetEmpty();

        // the same capture without the bad change is applied whole
        MixedBatch.post(MixedBatch.capture()).then().statusCode(200).body("parked", equalTo(0));
        TableComparison.assertSameRows(source, target);
    }

    private void assertTargetEmpty() {
        for (String table : TestDatabases.tables(target)) {
            assertEquals("", TestDatabases.copy(target, "SELECT * FROM public." + table), table);
        }
        assertEquals("0\n", TestDatabases.copy(target, "SELECT count(*) FROM replicator.rejected"));
    }
}
