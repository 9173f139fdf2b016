package dev.replicator.function;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import javax.sql.DataSource;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

import dev.replicator.testing.PostgresResource;
import dev.replicator.testing.Requests;
import dev.replicator.testing.TableComparison;
import dev.replicator.testing.TestDatabases;

/**
 * The HTTP contract, against two real PostgreSQL servers: the captured Debezium Server requests in each of their
 * shapes replicate the small workload exactly, and bad input gets the status a broker handles right.
 * {@link ReplicationHttpIT} runs the same tests against the packaged application.
 */
@QuarkusTest
@QuarkusTestResource(PostgresResource.class)
class ReplicationHttpTest {

    static final String SMALL = PostgresResource.SMALL;
    static final List<String> TABLES = List.of("customers", "order_lines", "events", "audit", "scratch");

    DataSource source = PostgresResource.source();
    DataSource target = PostgresResource.target();

    @BeforeEach
    void emptyTarget() {
        TestDatabases.execute(target, "TRUNCATE customers, order_lines, events, audit, scratch, guarded");
        TestDatabases.execute(target, "DROP SCHEMA IF EXISTS replicator CASCADE");
    }

    @Test
    void structuredCloudEventsReplicateTheWorkload() {
        for (String request : Requests.folder(SMALL + "cloudevents/", 31)) {
            Requests.replay(request).then().statusCode(204);
        }
        assertTargetEqualsSource();
    }

    @Test
    void binaryModeCloudEventsReplicateTheWorkload() {
        for (String request : Requests.folder(SMALL + "cloudevents/", 31)) {
            Requests.replayBinary(request).then().statusCode(204);
        }
        assertTargetEqualsSource();
    }

    @Test
    void plainJsonEnvelopesReplicateTheWorkload() {
        for (String request : Requests.folder(SMALL + "json-schema/", 31)) {
            Requests.replay(request).then().statusCode(204);
        }
        assertTargetEqualsSource();
    }

    @Test
    void batchOfCloudEventsIsAppliedInOneRequest() {
        // the five scratch inserts that precede the TRUNCATE in the same batch are stale by it; of the tables written
        // with multi-row statements, the row changes overtaken by a newer change of their row are superseded
        Requests.replay(SMALL + "cloudevents-noschema-batch/0001.json").then().statusCode(200)
                .body("applied", equalTo(20)).body("superseded", equalTo(6)).body("stale", equalTo(5));
        assertTargetEqualsSource();
    }

    @Test
    void batchOfPlainEnvelopesIsAppliedInOneRequest() {
        Requests.replay(SMALL + "json-noschema-batch/0001.json").then().statusCode(200);
        assertTargetEqualsSource();
    }

    /**
     * A user table named like Debezium's heartbeat is written like any other, while Debezium's own heartbeats and
     * transaction markers, sent next to its changes, are acknowledged without writing.
     */
    @Test
    void aTableNamedDeviceHeartbeatIsWrittenAndDebeziumsHeartbeatsAreNot() {
        String json = PostgresResource.HEARTBEAT + "json/";
        if (TestDatabases.tables(target).contains("DeviceHeartbeat")) {
            TestDatabases.execute(target, "TRUNCATE \"DeviceHeartbeat\", \"TransactionMetadataValue\", readings");
        } else {
            TestDatabases.runScript(target, PostgresResource.HEARTBEAT + "schema.sql");
        }
        Requests.replay(json + "0001.json").then().statusCode(204); // heartbeat
        Requests.replay(json + "0005.json").then().statusCode(204); // transaction BEGIN
        assertEquals("0\n", TestDatabases.copy(target, "SELECT (SELECT count(*) FROM \"DeviceHeartbeat\")"
                + " + (SELECT count(*) FROM \"TransactionMetadataValue\") + (SELECT count(*) FROM readings)"));
        Requests.replay(json + "0006.json").then().statusCode(204); // the insert of device 1
        assertEquals("1\t2024-01-01 00:00:00+00\t1704067200000\tok\n",
                TestDatabases.copy(target, "SELECT * FROM \"DeviceHeartbeat\""));

        for (String request : Requests.folder(json, 47)) {
            Requests.replay(request).then().statusCode(204);
        }
        assertEquals("1\t2024-01-01 00:01:00+00\t1704067260000\tok\n3\t2024-01-01 00:02:00+00\t1704067320000\t\\N\n",
                TestDatabases.copy(target, "SELECT * FROM \"DeviceHeartbeat\" ORDER BY 1"));
        assertEquals("572:53196000\tEND\t3\t1704067200000\n573:1\tEND\t0\t\\N\n",
                TestDatabases.copy(target, "SELECT * FROM \"TransactionMetadataValue\" ORDER BY 1"));
        assertEquals("3\t3\t0.01\n", TestDatabases.copy(target, "SELECT * FROM readings"));
        // an event without an op that is not one of Debezium's own is refused, not acknowledged
        given().contentType("application/json").body("{\"schema\":{\"type\":\"struct\","
                + "\"name\":\"app.public.DeviceHeartbeat.Envelope\"},\"payload\":{\"ts_ms\":1}}").post("/").then()
                .statusCode(400).body("error", containsString("op"));
    }

    @Test
    void eventarcPubSubMessagesReplicateTheWorkload() {
        // structured CloudEvents and plain envelopes as Debezium Server's Pub/Sub sink publishes them; the key change
        // needs the __debezium.newkey attribute
        int n = 0;
        for (String request : Requests.folder(SMALL + "cloudevents/", 31)) {
            Requests.replayPubSub(request, "msg-" + ++n).then().statusCode(204);
        }
        assertTargetEqualsSource();
        emptyTarget();
        for (String request : Requests.folder(SMALL + "json-schema/", 31)) {
            Requests.replayPubSub(request, "msg-" + ++n).then().statusCode(204);
        }
        assertTargetEqualsSource();
    }

    @Test
    void pubSubAttributesCarryTheNewKeyOfAKeyChange() {
        // the create leaves out the unchanged TOASTed bio: only the delete's __debezium.newkey attribute lets the
        // row move with its bio kept (without it the create would be answered 409)
        TestDatabases.execute(target, "INSERT INTO customers (id, name, bio) VALUES (1, 'Ada', 'kept')");
        String source = "\"source\":{\"schema\":\"public\",\"table\":\"customers\",\"lsn\":500,"
                + "\"sequence\":\"[\\\"400\\\",\\\"500\\\"]\",\"ts_ms\":1795486999432}";
        String delete = "{\"before\":{\"id\":1,\"name\":\"\"},\"after\":null," + source + ",\"op\":\"d\"}";
        String create = "{\"before\":null,\"after\":{\"id\":2,\"name\":\"Ada\",\"bio\":\"__debezium_unavailable_value\"},"
                + source + ",\"op\":\"c\"}";
        Requests.pubSub("mv-1", pubSubMessage(delete, "{\"__debezium.newkey\":\"{\\\"id\\\":2}\"}")).then()
                .statusCode(204);
        Requests.pubSub("mv-2", pubSubMessage(create, "{}")).then().statusCode(204);
        assertEquals("2\tAda\tkept\n", TestDatabases.copy(target, "SELECT id, name, bio FROM customers ORDER BY id"));
    }

    @Test
    void brokenPubSubMessagesAre400NamingTheMessage() {
        Requests.pubSub("ps-1", "{\"subscription\":\"s\"}").then().statusCode(400)
                .body("error", containsString("ps-1")).body("error", containsString("no 'message'"));
        Requests.pubSub("ps-2", "{\"message\":{\"messageId\":\"ps-2\"}}").then().statusCode(400)
                .body("error", containsString("ps-2")).body("error", containsString("no data"));
        Requests.pubSub("ps-3", "{\"message\":{\"data\":\"%%%\"}}").then().statusCode(400)
                .body("error", containsString("not base64"));
        String notJson = java.util.Base64.getEncoder().encodeToString("{oops".getBytes());
        Requests.pubSub("ps-4", "{\"message\":{\"data\":\"" + notJson + "\"}}").then().statusCode(400)
                .body("error", containsString("malformed JSON"));
        String otherType = java.util.Base64.getEncoder().encodeToString(("{\"specversion\":\"1.0\",\"id\":\"x-1\","
                + "\"source\":\"/t\",\"type\":\"com.example.Other\",\"data\":{}}").getBytes());
        Requests.pubSub("ps-5", "{\"message\":{\"data\":\"" + otherType + "\"}}").then().statusCode(400)
                .body("error", containsString("com.example.Other"));
        Requests.pubSub("ps-6", "not json").then().statusCode(400).body("error", containsString("ps-6"));
        assertEquals("", TestDatabases.copy(target, "SELECT * FROM customers"));
    }

    @Test
    void redeliveryChangesNothing() {
        Requests.replay(SMALL + "cloudevents-noschema-batch/0001.json").then().statusCode(200);
        Requests.replay(SMALL + "cloudevents-noschema-batch/0001.json").then().statusCode(200)
                .body("applied", equalTo(0)).body("stale", equalTo(31));
        for (String request : Requests.folder(SMALL + "cloudevents/", 31)) {
            Requests.replay(request).then().statusCode(204);
        }
        assertTargetEqualsSource();
    }

    @Test
    void cloudEventsBatchMediaTypeIsABatchToo() {
        String batch = "[" + structuredNative("cb-1", "{\"table\":\"public.scratch\",\"op\":\"upsert\","
                + "\"position\":1,\"after\":{\"k\":1,\"v\":\"a\"}}") + ","
                + structuredNative("cb-2", "{\"table\":\"public.scratch\",\"op\":\"upsert\",\"position\":2,"
                        + "\"after\":{\"k\":2,\"v\":\"b\"}}")
                + "]";
        given().contentType("application/cloudevents-batch+json").body(batch).post("/").then().statusCode(200)
                .body("applied", equalTo(2));
        assertEquals("1\ta\n2\tb\n", TestDatabases.copy(target, "SELECT * FROM scratch ORDER BY k"));
    }

    @Test
    void changesOfOneRowInABatchAreWrittenOnceAndTheOlderOnesCountedSuperseded() {
        String batch = "[" + structuredNative("hot-1", "{\"table\":\"public.scratch\",\"op\":\"upsert\","
                + "\"position\":1,\"after\":{\"k\":1,\"v\":\"a\"}}") + ","
                + structuredNative("hot-3", "{\"table\":\"public.scratch\",\"op\":\"upsert\",\"position\":3,"
                        + "\"after\":{\"k\":1,\"v\":\"c\"}}") + ","
                + structuredNative("hot-2", "{\"table\":\"public.scratch\",\"op\":\"upsert\",\"position\":2,"
                        + "\"after\":{\"k\":1,\"v\":\"b\"}}")
                + "]";
        given().contentType("application/cloudevents-batch+json").body(batch).post("/").then().statusCode(200)
                .body("applied", equalTo(1)).body("superseded", equalTo(2)).body("stale", equalTo(0));
        assertEquals("1\tc\n", TestDatabases.copy(target, "SELECT * FROM scratch ORDER BY k"));
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        org.junit.jupiter.api.Assertions.assertTrue(metrics.lines().anyMatch(l -> l.startsWith("replicator_changes_total{")
                && l.contains("outcome=\"superseded\"") && l.contains("table=\"public.scratch\"")), metrics);
        // sent again, every change is older than what the target holds now
        given().contentType("application/cloudevents-batch+json").body(batch).post("/").then().statusCode(200)
                .body("applied", equalTo(0)).body("superseded", equalTo(0)).body("stale", equalTo(3));
    }

    @Test
    void binaryEventsSmallAndLargeAreCheckedAndApplied() {
        // small events are checked on the event loop, larger ones on a worker thread: both reach the function
        String large = "x".repeat(IngressRoute.MAX_READ_ON_EVENT_LOOP + 1);
        nativeChange("size-1", "{\"table\":\"public.scratch\",\"op\":\"upsert\",\"position\":1,"
                + "\"after\":{\"k\":1,\"v\":\"small\"}}").then().statusCode(204);
        nativeChange("size-2", "{\"table\":\"public.scratch\",\"op\":\"upsert\",\"position\":2,"
                + "\"after\":{\"k\":2,\"v\":\"" + large + "\"}}").then().statusCode(204);
        assertEquals("1\t5\n2\t" + large.length() + "\n",
                TestDatabases.copy(target, "SELECT k, length(v) FROM scratch ORDER BY k"));
        // and a bad one of either size is a 400 naming it
        nativeChange("size-3", "{\"table\":\"public.scratch\"").then().statusCode(400)
                .body("error", containsString("size-3"));
        nativeChange("size-4", "{\"table\":\"public.scratch\",\"v\":\"" + large + "\"").then().statusCode(400)
                .body("error", containsString("size-4"));
    }

    @Test
    void metricsCountOutcomesPerTable() {
        Requests.replay(SMALL + "cloudevents/0010.json").then().statusCode(204);
        Requests.replay(SMALL + "cloudevents/0010.json").then().statusCode(204);
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        org.junit.jupiter.api.Assertions.assertTrue(metrics.lines().anyMatch(l -> l.startsWith("replicator_changes_total{")
                && l.contains("outcome=\"stale\"") && l.contains("table=\"public.scratch\"")), metrics);
        org.junit.jupiter.api.Assertions.assertTrue(metrics.contains("replicator_apply_latency_seconds_bucket"));
        org.junit.jupiter.api.Assertions.assertTrue(metrics.contains("replicator_lag_seconds{table=\"public.scratch\"}"));
    }

    @Test
    void malformedJsonIsA400() {
        given().contentType("application/cloudevents+json").body("{\"specversion\": \"1.0\", ")
                .post("/").then().statusCode(400).body("error", containsString("malformed JSON"));
        given().contentType("application/json").header("ce-id", "bin-1").header("ce-specversion", "1.0")
                .header("ce-source", "/t").header("ce-type", "replicator.change.v1").body("{not json")
                .post("/").then().statusCode(400).body("error", containsString("bin-1"));
    }

    @Test
    void unknownEventTypeIsA400NamingTheEvent() {
        given().contentType("application/json").header("ce-id", "odd-1").header("ce-specversion", "1.0")
                .header("ce-source", "/t").header("ce-type", "com.example.Unknown").body("{}")
                .post("/").then().statusCode(400)
                .body("error", containsString("odd-1"))
                .body("error", containsString("com.example.Unknown"));
    }

    @Test
    void unknownTableOrColumnOrMissingKeyIsA400AndWritesNothing() {
        nativeChange("n-1", "{\"table\":\"public.nope\",\"op\":\"upsert\",\"position\":1,\"after\":{\"k\":1}}")
                .then().statusCode(400).body("error", containsString("public.nope"));
        nativeChange("n-2", "{\"table\":\"public.scratch\",\"op\":\"upsert\",\"position\":1,"
                + "\"after\":{\"k\":1,\"v\":\"x\",\"bogus\":2}}")
                .then().statusCode(400).body("error", containsString("bogus"));
        nativeChange("n-3", "{\"table\":\"public.scratch\",\"op\":\"upsert\",\"position\":1,\"after\":{\"v\":\"x\"}}")
                .then().statusCode(400).body("error", containsString("n-3"));
        assertEquals("", TestDatabases.copy(target, "SELECT * FROM scratch"));
    }

    @Test
    void dataTheTargetRefusesIsA422AndTheBatchWritesNothing() {
        nativeChange("g-1", "{\"table\":\"public.guarded\",\"op\":\"upsert\",\"position\":1,"
                + "\"after\":{\"id\":1,\"qty\":-1}}")
                .then().statusCode(422).body("error", containsString("g-1"))
                .body("error", containsString("check constraint"));
        String batch = "[" + structuredNative("b-1", "{\"table\":\"public.guarded\",\"op\":\"upsert\",\"position\":2,"
                + "\"after\":{\"id\":2,\"qty\":5}}") + ","
                + structuredNative("b-2", "{\"table\":\"public.guarded\",\"op\":\"upsert\",\"position\":3,"
                        + "\"after\":{\"id\":3,\"qty\":-5}}")
                + "]";
        given().contentType("application/cloudevents+json").body(batch).post("/").then().statusCode(422)
                .body("error", containsString("b-2"));
        assertEquals("", TestDatabases.copy(target, "SELECT * FROM guarded"));
    }

    @Test
    void olderChangeNeverOverwritesNewer() {
        nativeChange("o-2", "{\"table\":\"public.scratch\",\"op\":\"upsert\",\"position\":20,"
                + "\"after\":{\"k\":7,\"v\":\"new\"}}").then().statusCode(204);
        nativeChange("o-1", "{\"table\":\"public.scratch\",\"op\":\"upsert\",\"position\":10,"
                + "\"after\":{\"k\":7,\"v\":\"old\"}}").then().statusCode(204);
        nativeChange("o-3", "{\"table\":\"public.scratch\",\"op\":\"delete\",\"position\":30,\"key\":{\"k\":7}}")
                .then().statusCode(204);
        nativeChange("o-0", "{\"table\":\"public.scratch\",\"op\":\"upsert\",\"position\":5,"
                + "\"after\":{\"k\":7,\"v\":\"resurrected?\"}}").then().statusCode(204);
        assertEquals("", TestDatabases.copy(target, "SELECT * FROM scratch"));
    }

    @Test
    void targetOutageIsA503AndTheRedeliverySucceeds() {
        DataSource admin = TestDatabases.dataSource(TestDatabases.target(), "postgres");
        TestDatabases.execute(admin, "ALTER DATABASE " + PostgresResource.TARGET_DB + " ALLOW_CONNECTIONS false");
        try {
            TestDatabases.execute(admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"
                    + PostgresResource.TARGET_DB + "'");
            nativeChange("down-1", "{\"table\":\"public.scratch\",\"op\":\"upsert\",\"position\":1,"
                    + "\"after\":{\"k\":1,\"v\":\"x\"}}").then().statusCode(503)
                    .body("error", containsString("unavailable"));
        } finally {
            TestDatabases.execute(admin, "ALTER DATABASE " + PostgresResource.TARGET_DB + " ALLOW_CONNECTIONS true");
        }
        // the broker redelivers a 503; pooled connections broken by the outage may fail one more attempt
        int status = 0;
        for (int attempt = 0; attempt < 5 && status != 204; attempt++) {
            status = nativeChange("down-1", "{\"table\":\"public.scratch\",\"op\":\"upsert\",\"position\":1,"
                    + "\"after\":{\"k\":1,\"v\":\"x\"}}").statusCode();
        }
        assertEquals(204, status);
        assertEquals("1\tx\n", TestDatabases.copy(target, "SELECT * FROM scratch"));
    }

    @Test
    void bodiesOverTheLimitAre413() {
        byte[] body = new byte[17 * 1024 * 1024];
        java.util.Arrays.fill(body, (byte) ' ');
        body[0] = '[';
        body[body.length - 1] = ']';
        given().contentType("application/json").body(body).post("/").then().statusCode(413);
    }

    @Test
    void readinessReportsTheTargetOnly() {
        given().get("/q/health/ready").then().statusCode(200)
                .body(not(containsString("source"))).body(containsString("target"));
        given().get("/q/health/live").then().statusCode(200);
    }

    private void assertTargetEqualsSource() {
        for (String table : TABLES) {
            TableComparison.assertSameRows(source, target, table);
        }
    }

    static io.restassured.response.Response nativeChange(String id, String data) {
        return given().contentType("application/json").header("ce-id", id).header("ce-specversion", "1.0")
                .header("ce-source", "/test").header("ce-type", "replicator.change.v1").body(data).post("/");
    }

    static String structuredNative(String id, String data) {
        return "{\"specversion\":\"1.0\",\"id\":\"" + id + "\",\"source\":\"/test\",\"type\":\"replicator.change.v1\","
                + "\"datacontenttype\":\"application/json\",\"data\":" + data + "}";
    }

    static String pubSubMessage(String body, String attributes) {
        return "{\"message\":{\"data\":\"" + java.util.Base64.getEncoder().encodeToString(body.getBytes())
                + "\",\"attributes\":" + attributes + "}}";
    }
}
