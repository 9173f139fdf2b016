package dev.replicator.function;

import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import javax.sql.DataSource;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;

import dev.replicator.testing.PostgresResource;
import dev.replicator.testing.TableComparison;
import dev.replicator.testing.TestDatabases;

/**
 * With parking on, a batch with bad changes applies every good change and parks each bad element on its own, in the
 * same request.
 */
@QuarkusTest
@QuarkusTestResource(PostgresResource.class)
@TestProfile(BatchParkingTest.Parking.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BatchParkingTest {

    public static class Parking implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("replicator.rejected.park", "true");
        }
    }

    DataSource source = PostgresResource.source();
    DataSource target = PostgresResource.target();

    @Test
    @Order(1)
    void goodChangesAreAppliedAndEachBadElementIsParkedOnItsOwn() {
        ArrayNode batch = MixedBatch.mixed();
        JsonPath answer = MixedBatch.post(batch).then().statusCode(200).extract().jsonPath();
        assertEquals(5, answer.getInt("parked"), answer.prettify());
        // 35 elements, 5 parked: the other 30 are each counted once
        assertEquals(30, answer.getInt("applied") + answer.getInt("stale") + answer.getInt("superseded")
                + answer.getInt("skipped"), answer.prettify());
        // the capture's five inserts into scratch before its truncate are stale: the truncate is newer
        assertEquals(5, answer.getInt("stale"), answer.prettify());

        // tables without a bad change hold what the source holds
        for (String table : new String[] { "customers", "events", "scratch" }) {
            TableComparison.assertSameRows(source, target, table);
        }
        // order line (100, 2) keeps the quantity of its insert; its corrupted update is parked
        assertEquals("100\t1\tSKU-0001\t3\t19.99\n100\t2\tSKU-0002\t1\t\\N\n",
                TestDatabases.copy(target, "SELECT * FROM order_lines ORDER BY 1, 2"));
        // audit row 2 keeps its note: the update with an unknown column is parked; row 1's delete is applied
        assertEquals("2\tsecond\t2.5\n", TestDatabases.copy(target, "SELECT * FROM audit ORDER BY 1"));
        assertEquals("2\t5\n", TestDatabases.copy(target, "SELECT * FROM guarded ORDER BY 1"));

        String parked = parkedRows();
        String[] rows = parked.split("\n");
        assertEquals(5, rows.length, parked);
        assertRow(rows[0], MixedBatch.UNCONVERTIBLE, "400", "column qty");
        assertRow(rows[1], MixedBatch.UNKNOWN_COLUMN, "400", "colour");
        assertRow(rows[2], MixedBatch.NOT_AN_OBJECT, "400", "not a JSON object");
        assertRow(rows[3], MixedBatch.TABLE_NOT_IN_TARGET, "400", "missing_table");
        assertRow(rows[4], MixedBatch.REFUSED_BY_TARGET, "422", "check constraint");
        // each parked element is kept as it came, to replay it alone
        String kept = TestDatabases.copy(target, "SELECT event->'body' FROM replicator.rejected WHERE batch_index = "
                + MixedBatch.UNCONVERTIBLE).replace("\\\\", "\\");
        assertEquals(batch.get(MixedBatch.UNCONVERTIBLE), json(kept));
        String metrics = io.restassured.RestAssured.given().get("/q/metrics").then().statusCode(200).extract()
                .asString();
        assertTrue(metrics.contains("replicator_parked_total{status=\"422\"} 1.0"), metrics);
    }

    @Test
    @Order(2)
    void theSameBatchDeliveredAgainParksNothingTwice() {
        String before = TestDatabases.copy(target, "SELECT * FROM order_lines ORDER BY 1, 2");
        JsonPath answer = MixedBatch.post(MixedBatch.mixed()).then().statusCode(200).extract().jsonPath();
        assertEquals(5, answer.getInt("parked"), answer.prettify());
        assertEquals(0, answer.getInt("applied"), answer.prettify());
        assertEquals(5, parkedRows().split("\n").length, "a redelivered bad element keeps its one row");
        assertEquals(before, TestDatabases.copy(target, "SELECT * FROM order_lines ORDER BY 1, 2"));
        TableComparison.assertSameRows(source, target, "customers");
    }

    @Test
    @Order(3)
    void aChangeWaitingForItsRowFailsTheBatchAndParksNothing() {
        ArrayNode batch = MixedBatch.capture();
        ArrayNode waiting = batch.arrayNode();
        waiting.add(MixedBatch.guarded(batch, 3, 7));
        waiting.add(MixedBatch.guarded(batch, 4, -1));
        // customer 99 does not exist in the target, and the update leaves its TOASTed bio out: 409, retried
        var update = batch.get(15).deepCopy();
        ((com.fasterxml.jackson.databind.node.ObjectNode) update.get("after")).put("id", 99);
        waiting.add(update);
        MixedBatch.post(waiting).then().statusCode(409).body("status", equalTo(409));
        assertEquals("2\t5\n", TestDatabases.copy(target, "SELECT * FROM guarded ORDER BY 1"), "nothing applied");
        assertEquals(5, parkedRows().split("\n").length, "nothing parked");
        assertFalse(parkedRows().contains("\t4\t"), "nothing parked");
    }

    private static JsonNode json(String text) {
        try {
            return new ObjectMapper().readTree(text);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private String parkedRows() {
        return TestDatabases.copy(target, "SELECT batch_index, status, reason FROM replicator.rejected"
                + " ORDER BY batch_index");
    }

    private static void assertRow(String row, int index, String status, String reasonPart) {
        String[] fields = row.split("\t");
        assertEquals(String.valueOf(index), fields[0], row);
        assertEquals(status, fields[1], row);
        assertTrue(fields[2].contains(reasonPart), row);
    }
}
