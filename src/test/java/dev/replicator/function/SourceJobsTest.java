package dev.replicator.function;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import javax.sql.DataSource;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;

import dev.replicator.testing.PostgresResource;
import dev.replicator.testing.TableComparison;
import dev.replicator.testing.TestDatabases;

/**
 * Backfill, verify/repair and key-only events against two real PostgreSQL servers, over HTTP as a broker delivers
 * them. The time budgets are tiny, so every backfill or verify invocation does one chunk or range and answers with a
 * continuation: the tests follow the chain as a Trigger would. {@link SourceJobsIT} runs them against the package.
 */
@QuarkusTest
@QuarkusTestResource(PostgresResource.class)
@TestProfile(SourceJobsTest.OneChunkPerCall.class)
class SourceJobsTest {

    public static class OneChunkPerCall implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("replicator.backfill.time-budget", "1ms", "replicator.verify.time-budget", "1ms");
        }
    }

    static final ObjectMapper JSON = new ObjectMapper();
    static final String TABLE_DDL = "(id int PRIMARY KEY, name text NOT NULL, qty int, doc jsonb, raw json,"
            + " tags text[], at timestamptz)";

    DataSource source = PostgresResource.source();
    DataSource target = PostgresResource.target();

    @TestHTTPResource("/")
    URL root;

    @BeforeAll
    static void tables() {
        for (String table : List.of("seed_items", "seed_resume", "verify_items", "ref_items", "multi_a", "multi_b")) {
            for (DataSource db : List.of(PostgresResource.source(), PostgresResource.target())) {
                TestDatabases.execute(db, "DROP TABLE IF EXISTS " + table + "; CREATE TABLE " + table + " " + TABLE_DDL);
            }
        }
    }

    /** Rows with every kind of value the copy must keep exactly; json text with its own spacing. */
    static void fill(DataSource db, String table, String ids) {
        // ids: a query of the keys
        TestDatabases.execute(db, "INSERT INTO " + table + " SELECT g, 'name ' || g || CASE WHEN g % 7 = 0 THEN"
                + " ' \"q\" \\ tab\t' ELSE '' END, CASE WHEN g % 5 = 0 THEN NULL ELSE g * 3 END,"
                + " jsonb_build_object('g', g, 'list', jsonb_build_array(g, 'x')),"
                + " CASE WHEN g % 3 = 0 THEN '{\"b\":1,  \"a\" : [1, 2]}' ELSE '{\"g\":' || g || '}' END::json,"
                + " ARRAY['t' || g, NULL, 'with,comma'], timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute'"
                + " FROM (" + ids + ") s(g)");
    }

    // ---- backfill -------------------------------------------------------------------------------------------------

    @Test
    void backfillOfATableLargerThanOneChunkWhileChangesStreamEndsEqualToTheSource() throws Exception {
        TestDatabases.execute(source, "INSERT INTO seed_items SELECT g, 'n' || g, g, jsonb_build_object('g', g),"
                + " ('{\"g\":' || g || '}')::json, ARRAY['t' || g], timestamptz '2024-01-01 00:00:00+00'"
                + " + g * interval '1 second' FROM generate_series(1, 2500) g");
        AtomicBoolean backfillDone = new AtomicBoolean();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        Future<Integer> stream = pool.submit(() -> streamChanges("seed_items", backfillDone));
        List<JsonNode> answers = backfillChain("{\"tables\":[\"public.seed_items\"],\"chunkSize\":150}");
        backfillDone.set(true);
        int changes = stream.get(120, TimeUnit.SECONDS);
        pool.shutdown();

        assertTrue(changes >= 50, "the stream made " + changes + " changes");
        assertTrue(answers.size() > 5, "one chunk per invocation, so a chain of invocations: " + answers.size());
        JsonNode done = answers.get(answers.size() - 1);
        assertTrue(done.path("finished").asBoolean(), done.toString());
        TableComparison.assertSameRows(source, target, "seed_items");
    }

    /**
     * The source's changes while the backfill runs, each committed and then posted as a streamed change (position
     * above every snapshot read), as Debezium would send them. Runs until the backfill is done and 50 changes were made.
     */
    private int streamChanges(String table, AtomicBoolean backfillDone) throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        Random random = new Random(5);
        AtomicLong commit = new AtomicLong();
        int nextId = 100_000;
        int changes = 0;
        List<Integer> inserted = new ArrayList<>();
        while (!backfillDone.get() || changes < 50) {
            int roll = random.nextInt(100);
            int id;
            ObjectNode data = JSON.createObjectNode().put("table", "public." + table);
            if (roll < 50) {
                id = 1 + random.nextInt(2500);
                TestDatabases.execute(source, "UPDATE " + table + " SET name = name || '+', qty = coalesce(qty, 0) + 1,"
                        + " tags = tags || 'u'::text WHERE id = " + id);
            } else if (roll < 75) {
                id = random.nextBoolean() || inserted.isEmpty() ? nextId++ : 1 + random.nextInt(2500);
                TestDatabases.execute(source, "INSERT INTO " + table + " VALUES (" + id + ", 'new', 1, '{\"new\": true}',"
                        + " '{\"new\":true}', '{a,b}', now()) ON CONFLICT (id) DO UPDATE SET name = 'again'");
                inserted.add(id);
            } else {
                id = random.nextBoolean() && !inserted.isEmpty() ? inserted.get(random.nextInt(inserted.size()))
                        : 1 + random.nextInt(2500);
                TestDatabases.execute(source, "DELETE FROM " + table + " WHERE id = " + id);
            }
            JsonNode row = currentRow(table, id);
            data.putArray("position").add(commit.incrementAndGet()).add(0);
            if (row == null) {
                data.put("op", "delete").putObject("key").put("id", id);
            } else {
                data.put("op", "upsert").set("after", row);
            }
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(root.toURI())
                    .header("Content-Type", "application/json").header("ce-specversion", "1.0")
                    .header("ce-id", "stream-" + commit.get()).header("ce-source", "/test")
                    .header("ce-type", "replicator.change.v1")
                    .POST(HttpRequest.BodyPublishers.ofString(data.toString())).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(204, response.statusCode(), response.body());
            changes++;
        }
        return changes;
    }

    private JsonNode currentRow(String table, int id) throws SQLException {
        try (Connection connection = source.getConnection();
                PreparedStatement select = connection.prepareStatement(
                        "SELECT row_to_json(t)::text FROM " + table + " t WHERE id = ?")) {
            select.setInt(1, id);
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() ? readTree(rs.getString(1)) : null;
            }
        }
    }

    @Test
    void aResumedBackfillDoesNotRedoFinishedChunks() throws Exception {
        fill(source, "seed_resume", "SELECT generate_series(1, 1000)");
        String request = "{\"tables\":[\"public.seed_resume\"],\"chunkSize\":100}";
        Response first = job("resume-1", "replicator.backfill.v1", request);
        first.then().statusCode(200).header("ce-type", "replicator.backfill.v1");
        assertEquals("100", TestDatabases.copy(target, "SELECT count(*) FROM seed_resume").trim());

        // a row of the finished chunk changed on the target only: a resumed backfill must not copy that chunk again
        TestDatabases.execute(target, "UPDATE seed_resume SET name = 'kept' WHERE id = 50");
        List<JsonNode> rest = followBackfill(first);
        assertEquals(10, rest.size(), "chunks 2 to 10 and the empty chunk that finds the end");
        assertEquals("kept", TestDatabases.copy(target, "SELECT name FROM seed_resume WHERE id = 50").trim());
        assertEquals("1000\tt", TestDatabases.copy(target,
                "SELECT rows, done FROM replicator.backfill_progress WHERE table_name = 'public.seed_resume'").trim());

        // a repeated backfill of a done table has nothing to do
        job("resume-again", "replicator.backfill.v1", request).then().statusCode(200)
                .header("ce-type", "replicator.backfill.done.v1");
        assertEquals("kept", TestDatabases.copy(target, "SELECT name FROM seed_resume WHERE id = 50").trim());
    }

    /** A finished backfill moves the target's sequences forward: its next key is one the source never used. */
    @Test
    void aFinishedBackfillMovesTheTargetsSequencesForward() throws Exception {
        for (DataSource db : List.of(source, target)) {
            TestDatabases.execute(db, "DROP TABLE IF EXISTS seq_items; CREATE TABLE seq_items (id serial PRIMARY KEY,"
                    + " name text)");
        }
        TestDatabases.execute(source, "INSERT INTO seq_items (name) SELECT 'n' || g FROM generate_series(1, 300) g");

        Response first = job("seq-1", "replicator.backfill.v1", "{\"tables\":[\"public.seq_items\"]}");
        List<JsonNode> answers = new ArrayList<>(List.of(readTree(first.then().statusCode(200).extract().asString())));
        answers.addAll(followBackfill(first));

        JsonNode done = answers.get(answers.size() - 1);
        JsonNode synced = null;
        for (JsonNode sequence : done.path("sequences")) {
            if (sequence.path("table").asText().equals("public.seq_items")) {
                synced = sequence;
            }
        }
        assertTrue(synced != null, done.toString());
        assertEquals("moved", synced.path("outcome").asText());
        assertEquals(300, synced.path("sourceValue").asLong());
        TestDatabases.execute(target, "INSERT INTO seq_items (name) VALUES ('on the target')");
        assertEquals("301", TestDatabases.copy(target, "SELECT max(id) FROM seq_items").trim());
    }

    private List<JsonNode> backfillChain(String request) throws Exception {
        Response first = job("chain-start", "replicator.backfill.v1", request);
        List<JsonNode> answers = new ArrayList<>();
        answers.add(readTree(first.then().statusCode(200).extract().asString()));
        answers.addAll(followBackfill(first));
        return answers;
    }

    /** Posts each continuation back, as the Trigger for replicator.backfill.v1 does, until the done answer. */
    private List<JsonNode> followBackfill(Response answer) throws Exception {
        List<JsonNode> answers = new ArrayList<>();
        Response current = answer;
        for (int call = 0; "replicator.backfill.v1".equals(current.header("ce-type")); call++) {
            assertTrue(call < 200, "backfill does not finish");
            current = job("chain-" + call, "replicator.backfill.v1", current.asString());
            current.then().statusCode(200);
            answers.add(readTree(current.asString()));
        }
        assertEquals("replicator.backfill.done.v1", current.header("ce-type"));
        return answers;
    }

    // ---- verify and repair ----------------------------------------------------------------------------------------

    @Test
    void verifyFindsExactlyTheTamperedRowsAndRepairFixesThem() throws Exception {
        fill(source, "verify_items", "SELECT g FROM generate_series(1, 999) g WHERE g % 100 <> 0 UNION ALL SELECT 1000");
        followBackfill(job("v-seed", "replicator.backfill.v1", "{\"tables\":[\"public.verify_items\"],\"chunkSize\":400}"));
        JsonNode clean = verifyChain("{\"tables\":[\"public.verify_items\"],\"chunkSize\":150}");
        assertEquals(0, clean.path("differing").asLong(), "a fresh copy, json spacing included, verifies clean: " + clean);
        assertEquals(991, clean.path("rowsCompared").asLong());

        TestDatabases.execute(target, """
                UPDATE verify_items SET name = 'changed' WHERE id IN (3, 404);
                UPDATE verify_items SET raw = '{"b":1, "a" : [1, 2]}' WHERE id = 999;
                DELETE FROM verify_items WHERE id IN (1, 650);
                INSERT INTO verify_items (id, name) VALUES (100, 'extra'), (500, 'extra'), (5000, 'extra');
                """);
        JsonNode report = verifyChain("{\"tables\":[\"public.verify_items\"],\"chunkSize\":150,\"sampleKeys\":50}");
        assertEquals(3, report.path("changed").asLong(), report.toString());
        assertEquals(2, report.path("missing").asLong(), report.toString());
        assertEquals(3, report.path("extra").asLong(), report.toString());
        assertEquals(Set.of("changed:3", "changed:404", "changed:999", "missing:1", "missing:650", "extra:100",
                "extra:500", "extra:5000"), sampleKeys(report));

        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("replicator_verify_rows_total{")
                && l.contains("result=\"extra\"") && l.contains("table=\"public.verify_items\"") && l.endsWith(" 3.0")),
                "verify counts reach the metrics");

        JsonNode repair = verifyChain("{\"tables\":[\"public.verify_items\"],\"chunkSize\":150,\"repair\":true}");
        assertEquals(8, repair.path("repaired").asLong(), repair.toString());
        TableComparison.assertSameRows(source, target, "verify_items");
        assertEquals(0, verifyChain("{\"tables\":[\"public.verify_items\"]}").path("differing").asLong());

        // a repaired row stays under position fencing: the stream's next change of it still applies
        ReplicationHttpTest.nativeChange("after-repair", "{\"table\":\"public.verify_items\",\"op\":\"upsert\","
                + "\"position\":[1,0],\"after\":{\"id\":3,\"name\":\"streamed\"}}").then().statusCode(204);
        assertEquals("streamed", TestDatabases.copy(target, "SELECT name FROM verify_items WHERE id = 3").trim());
    }

    @Test
    void aVerifyOfSeveralTablesContinuesFromOneTableToTheNext() throws Exception {
        for (DataSource db : List.of(source, target)) {
            fill(db, "multi_a", "SELECT generate_series(1, 5)");
            fill(db, "multi_b", "SELECT generate_series(1, 4)");
        }
        TestDatabases.execute(target, "DELETE FROM multi_b WHERE id = 4");
        JsonNode report = verifyChain("{\"tables\":[\"public.multi_a\",\"public.multi_b\"],\"chunkSize\":2,"
                + "\"sampleKeys\":5}");
        assertEquals(9, report.path("rowsCompared").asLong(), report.toString());
        assertEquals(1, report.path("missing").asLong(), report.toString());
        assertEquals(0, report.path("changed").asLong() + report.path("extra").asLong(), report.toString());
        assertEquals("[{\"table\":\"public.multi_b\",\"difference\":\"missing\",\"key\":{\"id\":\"4\"}}]",
                report.path("sampleKeys").toString());
    }

    /** Follows verify continuations and adds up their reports into one. */
    private JsonNode verifyChain(String request) throws Exception {
        ObjectNode total = JSON.createObjectNode();
        List<String> samples = new ArrayList<>();
        Response answer = job("verify-0", "replicator.verify.v1", request);
        for (int call = 1;; call++) {
            answer.then().statusCode(200);
            JsonNode body = readTree(answer.asString());
            boolean more = "replicator.verify.v1".equals(answer.header("ce-type"));
            JsonNode report = more ? body.path("report") : body;
            for (String count : List.of("rowsCompared", "ranges", "changed", "missing", "extra", "repaired")) {
                total.put(count, total.path(count).asLong() + report.path(count).asLong());
            }
            report.path("sampleKeys").forEach(s -> samples.add(s.toString()));
            if (!more) {
                assertEquals("replicator.verify.report.v1", answer.header("ce-type"));
                break;
            }
            assertTrue(call < 200, "verify does not finish");
            answer = job("verify-" + call, "replicator.verify.v1", body.toString());
        }
        total.put("differing", total.path("changed").asLong() + total.path("missing").asLong()
                + total.path("extra").asLong());
        total.set("sampleKeys", readTree(samples.toString()));
        return total;
    }

    private static Set<String> sampleKeys(JsonNode report) {
        Set<String> keys = new TreeSet<>();
        report.path("sampleKeys").forEach(s -> {
            assertEquals("public.verify_items", s.path("table").asText());
            keys.add(s.path("difference").asText() + ":" + s.path("key").path("id").asText());
        });
        return keys;
    }

    // ---- key-only events ------------------------------------------------------------------------------------------

    @Test
    void keyOnlyEventsConvergeToTheSourceRow() throws Exception {
        fill(source, "ref_items", "SELECT generate_series(1, 5)");
        // rowref: rows the target never saw, a row changed and a row deleted at the source without an event
        job("ref-1", "replicator.rowref.v1", "{\"table\":\"public.ref_items\",\"keys\":[{\"id\":1},{\"id\":2},"
                + "{\"id\":3}]}").then().statusCode(204);
        TestDatabases.execute(source, "UPDATE ref_items SET name = 'renamed', raw = '{ \"spaced\" :  1 }' WHERE id = 2;"
                + " DELETE FROM ref_items WHERE id = 3");
        job("ref-2", "replicator.rowref.v1", "{\"table\":\"public.ref_items\",\"keys\":[{\"id\":2},{\"id\":3}]}")
                .then().statusCode(204);
        assertEquals("1\n2\n", TestDatabases.copy(target, "SELECT id FROM ref_items ORDER BY id"));

        // a Debezium update whose image holds nothing but the key (every other column unavailable)
        TestDatabases.execute(source, "UPDATE ref_items SET qty = 77 WHERE id = 4");
        Response debezium = given().contentType("application/cloudevents+json").body(incompleteDebezium(4, 900))
                .post("/");
        debezium.then().statusCode(204);
        // the same event again changes nothing (stale); a plain HTTP rowref brings row 5
        given().contentType("application/cloudevents+json").body(incompleteDebezium(4, 900)).post("/").then()
                .statusCode(204);
        given().contentType("application/json").body("{\"table\":\"public.ref_items\",\"key\":{\"id\":5}}")
                .post("/rowref").then().statusCode(204);
        TableComparison.assertSameRows(source, target, "ref_items");
        assertEquals("900\t900\tf", TestDatabases.copy(target, "SELECT commit_pos, change_pos, deleted FROM"
                + " replicator.row_position WHERE table_name = 'public.ref_items' AND row_key = '{4}'").trim());
    }

    private static String incompleteDebezium(int id, long lsn) {
        String unavailable = "\"__debezium_unavailable_value\"";
        return "{\"specversion\":\"1.0\",\"id\":\"dbz-" + id + "-" + lsn + "\",\"source\":\"/debezium\","
                + "\"type\":\"io.debezium.connector.postgresql.DataChangeEvent\",\"datacontenttype\":\"application/json\","
                + "\"iodebeziumop\":\"u\",\"iodebeziumschema\":\"public\",\"iodebeziumtable\":\"ref_items\","
                + "\"iodebeziumlsn\":\"" + lsn + "\",\"iodebeziumsequence\":\"[\\\"" + lsn + "\\\",\\\"" + lsn + "\\\"]\","
                + "\"data\":{\"before\":null,\"after\":{\"id\":" + id + ",\"name\":" + unavailable + ",\"qty\":"
                + unavailable + ",\"doc\":" + unavailable + ",\"raw\":" + unavailable + ",\"tags\":[" + unavailable
                + "],\"at\":" + unavailable + "}}}";
    }

    // ---- the HTTP contract ----------------------------------------------------------------------------------------

    @Test
    void badRequestsAreA400NamingTheEventAndTheProblem() {
        job("bad-1", "replicator.backfill.v1", "{\"tables\":[\"public.nope\"]}").then().statusCode(400)
                .body("error", containsString("bad-1")).body("error", containsString("public.nope"));
        job("bad-2", "replicator.backfill.v1", "{\"chunkSize\":0}").then().statusCode(400)
                .body("error", containsString("bad-2")).body("error", containsString("chunkSize"));
        job("bad-3", "replicator.verify.v1", "{\"tables\":\"some\"}").then().statusCode(400)
                .body("error", containsString("tables"));
        job("bad-4", "replicator.rowref.v1", "{\"table\":\"public.ref_items\",\"key\":{\"name\":\"x\"}}").then()
                .statusCode(400).body("error", containsString("key column id"));
        job("bad-5", "replicator.rowref.v1", "[1]").then().statusCode(400).body("error", containsString("bad-5"));
        given().contentType("application/json").body("{\"tables\": 7}").post("/backfill").then().statusCode(400)
                .body("error", containsString("tables"));
    }

    @Test
    void structuredEventsPlainHttpAndThePingSourceGetAnAnswerEvent() {
        String structured = "{\"specversion\":\"1.0\",\"id\":\"s-1\",\"source\":\"/test\",\"type\":"
                + "\"replicator.verify.v1\",\"datacontenttype\":\"application/json\",\"data\":{\"tables\":"
                + "[\"public.ref_items\"],\"chunkSize\":100000}}";
        // the answer event comes in binary mode whatever mode the request came in
        given().contentType("application/cloudevents+json").body(structured).post("/").then().statusCode(200)
                .header("ce-type", "replicator.verify.report.v1").body("finished", org.hamcrest.Matchers.equalTo(true));
        given().contentType("application/json").body("{\"tables\":[\"public.ref_items\"],\"chunkSize\":100000}")
                .post("/verify").then().statusCode(200).header("ce-type", "replicator.verify.report.v1")
                .body("finished", org.hamcrest.Matchers.equalTo(true));
        given().contentType("application/json").header("ce-id", "ping-1").header("ce-specversion", "1.0")
                .header("ce-source", "/apis/v1/namespaces/default/pingsources/replicator-verify-nightly")
                .header("ce-type", "dev.knative.sources.ping").header("ce-replicatorjob", "verify")
                .body("{\"tables\":[\"public.ref_items\"],\"chunkSize\":100000}").post("/").then().statusCode(200)
                .header("ce-type", "replicator.verify.report.v1");
    }

    @Test
    void anUnreachableSourceIsA503() throws InterruptedException {
        DataSource admin = TestDatabases.dataSource(TestDatabases.source(), "postgres");
        TestDatabases.execute(admin, "ALTER DATABASE " + PostgresResource.SOURCE_DB + " ALLOW_CONNECTIONS false");
        try {
            TestDatabases.execute(admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"
                    + PostgresResource.SOURCE_DB + "'");
            job("down-1", "replicator.rowref.v1", "{\"table\":\"public.ref_items\",\"key\":{\"id\":1}}").then()
                    .statusCode(503).body("error", containsString("source database unavailable"));
        } finally {
            TestDatabases.execute(admin, "ALTER DATABASE " + PostgresResource.SOURCE_DB + " ALLOW_CONNECTIONS true");
            // the pool checks a connection idle for longer than its foreground-validation-interval (2 s) before
            // lending it: past that, the next test gets a live one instead of one this test's terminate ended (503)
            Thread.sleep(2100);
        }
    }

    /** A binary-mode CloudEvent, as a Knative broker delivers it. */
    static Response job(String id, String type, String data) {
        return given().contentType("application/json").header("ce-id", id).header("ce-specversion", "1.0")
                .header("ce-source", "/test").header("ce-type", type).body(data).post("/");
    }

    static JsonNode readTree(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
