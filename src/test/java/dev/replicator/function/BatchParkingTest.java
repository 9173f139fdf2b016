package dev.replicator.function;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Base64;
import java.util.Map;

import javax.sql.DataSource;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;

import dev.replicator.testing.PostgresResource;
import dev.replicator.testing.Requests;
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
        String kept = TestDatabases.copy(target, "SELECT convert_from(body, 'UTF8') FROM replicator.rejected"
                + " WHERE batch_index = " + MixedBatch.UNCONVERTIBLE).replace("\\\\", "\\");
        assertEquals(batch.get(MixedBatch.UNCONVERTIBLE), json(kept));
        // and can be queried as jsonb
        assertEquals(batch.get(MixedBatch.UNCONVERTIBLE), json(TestDatabases.copy(target, "SELECT event->'body'"
                + " FROM replicator.rejected WHERE batch_index = " + MixedBatch.UNCONVERTIBLE).replace("\\\\", "\\")));
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

    /**
     * An element jsonb cannot hold (a text value with {@code \u0000}, which the target refuses) no longer fails the
     * batch: the good changes beside it land, and it is kept as the bytes it was within the batch.
     */
    @Test
    @Order(4)
    void anElementJsonbCannotHoldIsKeptByteForByteBesideTheGoodChanges() throws Exception {
        ArrayNode capture = MixedBatch.capture();
        ObjectNode bad = MixedBatch.guarded(capture, 22, 3);
        ((ObjectNode) bad.get("source")).put("table", "scratch");
        bad.putObject("after").put("k", 22).put("v", "caf\u00e9 \u0000 b");
        // as a sender may write it: indented, spaced, its own key order; kept as these bytes, not as parsed
        String badText = new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(bad);
        String body = "[\n  " + MixedBatch.guarded(capture, 20, 1) + " ,\n  " + badText + ",\n"
                + MixedBatch.guarded(capture, 21, 2) + "\n]";
        JsonPath answer = given().contentType("application/json").body(body.getBytes(StandardCharsets.UTF_8))
                .post("/").then().statusCode(200).extract().jsonPath();
        assertEquals(2, answer.getInt("applied"), answer.prettify());
        assertEquals(1, answer.getInt("parked"), answer.prettify());
        assertEquals("2\t5\n20\t1\n21\t2\n", TestDatabases.copy(target, "SELECT * FROM guarded ORDER BY 1"));
        assertEquals("", TestDatabases.copy(target, "SELECT * FROM scratch WHERE k = 22"));

        String row = TestDatabases.copy(target, "SELECT batch_index, status, encode(headers, 'escape'), event"
                + " FROM replicator.rejected WHERE reason LIKE '%public.scratch%' AND batch_index = 1");
        assertEquals("1\t422\tcontent-type: application/json\\r\\n\t\\N\n", row);
        assertArrayEquals(badText.getBytes(StandardCharsets.UTF_8), keptBody(1, "public.scratch"));

        // delivered again: nothing applied twice, the element keeps its one row
        answer = given().contentType("application/json").body(body.getBytes(StandardCharsets.UTF_8)).post("/")
                .then().statusCode(200).extract().jsonPath();
        assertEquals(1, answer.getInt("parked"), answer.prettify());
        assertEquals("1\n", TestDatabases.copy(target, "SELECT count(*) FROM replicator.rejected"
                + " WHERE reason LIKE '%public.scratch%' AND batch_index = 1"));
        // the same batch published to Pub/Sub: the element is found within the message's data, the same bytes
        answer = Requests.pubSub("batch-message-1", "{\"message\":{\"data\":\"" + Base64.getEncoder().encodeToString(
                body.getBytes(StandardCharsets.UTF_8)) + "\"}}").then().statusCode(200).extract().jsonPath();
        assertEquals(1, answer.getInt("parked"), answer.prettify());
        assertEquals("1\n", TestDatabases.copy(target, "SELECT count(*) FROM replicator.rejected"
                + " WHERE reason LIKE '%public.scratch%' AND batch_index = 1"));
    }

    /**
     * An element the target will not keep for good (a check constraint an operator put on the table): the good
     * changes and the elements that can be kept are committed, and the batch is answered with that element's own
     * status and reason, so that the sender dead-letters the batch instead of redelivering it forever.
     */
    @Test
    @Order(5)
    void anElementThatCannotBeKeptAnswersTheBatchWithItsOwnStatus() {
        ArrayNode capture = MixedBatch.capture();
        ArrayNode batch = capture.arrayNode();
        batch.add(MixedBatch.guarded(capture, 30, 1));
        ObjectNode unkeepable = MixedBatch.guarded(capture, 31, 1);
        ((ObjectNode) unkeepable.get("source")).put("table", "unkeepable_table");
        batch.add(unkeepable);
        ObjectNode keepable = MixedBatch.guarded(capture, 32, 1);
        ((ObjectNode) keepable.get("source")).put("table", "another_missing_table");
        batch.add(keepable);
        TestDatabases.execute(target, "ALTER TABLE replicator.rejected ADD CONSTRAINT keep_test"
                + " CHECK (reason NOT LIKE '%unkeepable_table%')");
        try {
            MixedBatch.post(batch).then().statusCode(400).body("status", equalTo(400))
                    .body("error", containsString("unkeepable_table")).body("error", containsString("not kept"));
        } finally {
            TestDatabases.execute(target, "ALTER TABLE replicator.rejected DROP CONSTRAINT keep_test");
        }
        assertEquals("2\t5\n20\t1\n21\t2\n30\t1\n", TestDatabases.copy(target, "SELECT * FROM guarded ORDER BY 1"));
        assertEquals("2\t400\n", TestDatabases.copy(target, "SELECT batch_index, status FROM replicator.rejected"
                + " WHERE reason LIKE '%another_missing_table%'"));
        assertEquals("0\n", TestDatabases.copy(target, "SELECT count(*) FROM replicator.rejected"
                + " WHERE reason LIKE '%unkeepable_table%'"));
    }

    private byte[] keptBody(int batchIndex, String reasonPart) throws SQLException {
        try (Connection connection = target.getConnection();
                PreparedStatement select = connection.prepareStatement("SELECT body FROM replicator.rejected"
                        + " WHERE batch_index = ? AND reason LIKE '%' || ? || '%'")) {
            select.setInt(1, batchIndex);
            select.setString(2, reasonPart);
            try (ResultSet rs = select.executeQuery()) {
                assertTrue(rs.next(), "no row");
                return rs.getBytes(1);
            }
        }
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
