package dev.replicator.function;

import static io.restassured.RestAssured.given;

import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.restassured.response.Response;

import dev.replicator.testing.PostgresResource;
import dev.replicator.testing.Requests;

/**
 * The captured batch of the small Debezium workload (schemas off, 31 plain envelopes) with bad changes of every
 * kind mixed in, and good changes for a table the capture does not touch.
 */
final class MixedBatch {

    static final String CAPTURE = PostgresResource.SMALL + "json-noschema-batch/0001.json";

    /** Element 20: the last update of order line (100, 2), one value corrupted so that it cannot be converted. */
    static final int UNCONVERTIBLE = 20;
    /** Element 21: the update of audit row 2, with a column the target does not have. */
    static final int UNKNOWN_COLUMN = 21;
    static final int NOT_AN_OBJECT = 31;
    static final int TABLE_NOT_IN_TARGET = 32;
    /** guarded (qty >= 0) row 1 with qty -1: the target refuses it. */
    static final int REFUSED_BY_TARGET = 33;
    /** guarded row 2, good. */
    static final int GOOD_GUARDED = 34;

    private MixedBatch() {
    }

    /** The capture as it was sent. */
    static ArrayNode capture() {
        return (ArrayNode) Requests.fixture(CAPTURE).get("body").deepCopy();
    }

    /** The capture with element 20 corrupted (an array where the integer qty belongs). */
    static ArrayNode withUnconvertibleValue() {
        ArrayNode batch = capture();
        ((ObjectNode) batch.get(UNCONVERTIBLE).get("after")).putArray("qty").add(1).add(2);
        return batch;
    }

    static ArrayNode mixed() {
        ArrayNode batch = withUnconvertibleValue();
        ((ObjectNode) batch.get(UNKNOWN_COLUMN).get("after")).put("colour", "red");
        batch.add("not an event");
        batch.add(scratchInsertAs(batch, "missing_table", 1));
        batch.add(guarded(batch, 1, -1));
        batch.add(guarded(batch, 2, 5));
        return batch;
    }

    /** The capture plus a change of guarded that the target refuses (check constraint). */
    static ArrayNode withRefusedChange() {
        ArrayNode batch = capture();
        batch.add(guarded(batch, 1, -1));
        return batch;
    }

    static ObjectNode guarded(ArrayNode batch, int id, int qty) {
        ObjectNode envelope = scratchInsertAs(batch, "guarded", id);
        ObjectNode after = JsonNodeFactory.instance.objectNode();
        after.put("id", id).put("qty", qty);
        envelope.set("after", after);
        return envelope;
    }

    /** The capture's last insert into scratch, as an insert into another table. */
    private static ObjectNode scratchInsertAs(ArrayNode batch, String table, int id) {
        ObjectNode envelope = batch.get(27).deepCopy();
        ObjectNode source = (ObjectNode) envelope.get("source");
        source.put("table", table);
        source.put("lsn", 26493712L + id);
        source.put("sequence", "[\"26493712\",\"" + (26493712L + id) + "\"]");
        return envelope;
    }

    static Response post(ArrayNode batch) {
        return given().contentType("application/json").body(batch.toString().getBytes(StandardCharsets.UTF_8))
                .post("/");
    }
}
