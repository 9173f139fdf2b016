package dev.replicator.function;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import javax.sql.DataSource;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;

import dev.replicator.testing.PostgresResource;
import dev.replicator.testing.TableComparison;
import dev.replicator.testing.TestDatabases;

/**
 * The backfill's copy without positions, against two real PostgreSQL servers over HTTP: copied rows record no
 * position, a streamed change wins over a copied row in either order, a streamed delete is never undone, a copy
 * racing a reordered and duplicated stream ends equal to the source, and a chunk cut off in the middle leaves nothing
 * behind. One chunk per invocation, as in {@link SourceJobsTest}.
 */
@QuarkusTest
@QuarkusTestResource(PostgresResource.class)
@TestProfile(SourceJobsTest.OneChunkPerCall.class)
class BackfillCopyTest {

    static final ObjectMapper JSON = new ObjectMapper();

    DataSource source = PostgresResource.source();
    DataSource target = PostgresResource.target();

    @BeforeAll
    static void tables() {
        for (String table : List.of("copy_plain", "copy_fenced", "copy_race", "crash_direct", "crash_staged",
                "copy_twice")) {
            for (DataSource db : List.of(PostgresResource.source(), PostgresResource.target())) {
                TestDatabases.execute(db, "DROP TABLE IF EXISTS " + table + "; CREATE TABLE " + table + " "
                        + SourceJobsTest.TABLE_DDL);
            }
        }
    }

    @Test
    void aSeedCopiesStraightIntoTheTableAndRecordsNoPositions() throws Exception {
        SourceJobsTest.fill(source, "copy_plain", "SELECT generate_series(1, 2500)");
        List<JsonNode> answers = backfill("plain", "{\"tables\":[\"public.copy_plain\"],\"chunkSize\":1000}");

        assertEquals(3, answers.size(), "chunks of 1000, 1000 and 500 rows");
        assertEquals(1, answers.get(2).path("directChunks").asInt(), "the last chunk too went straight into the table: "
                + answers.get(2));
        TableComparison.assertSameRows(source, target, "copy_plain");
        assertEquals(0, positions("public.copy_plain"), "copied rows record no position");
        assertEquals("2500\tt", TestDatabases.copy(target,
                "SELECT rows, done FROM replicator.backfill_progress WHERE table_name = 'public.copy_plain'").trim());
    }

    @Test
    void aStreamedChangeWinsOverACopiedRowInEitherOrderAndAStreamedDeleteIsNeverUndone() throws Exception {
        SourceJobsTest.fill(source, "copy_fenced", "SELECT generate_series(1, 2000)");
        // the stream got there first: a newer row 10 and the delete of row 20 (the source still shows both as the
        // copy's snapshot would, had it been read before those changes)
        stream("copy_fenced", 10, row(10, "streamed"), 1);
        stream("copy_fenced", 20, null, 2);
        List<JsonNode> answers = backfill("fenced", "{\"tables\":[\"public.copy_fenced\"],\"chunkSize\":5000}");

        assertEquals(1, answers.size(), "one chunk: " + answers);
        JsonNode done = answers.get(0);
        assertEquals(0, done.path("directChunks").asInt(-1), "the stream wrote rows of the table, so it is staged");
        assertEquals(1998, done.path("applied").asLong(), done.toString());
        assertEquals(2, done.path("stale").asLong(), "the copy counts the two rows the stream owns stale");
        assertEquals("streamed", TestDatabases.copy(target, "SELECT name FROM copy_fenced WHERE id = 10").trim());
        assertEquals("0", TestDatabases.copy(target, "SELECT count(*) FROM copy_fenced WHERE id = 20").trim(),
                "a copied row never resurrects a streamed delete");
        assertEquals(2, positions("public.copy_fenced"), "only the streamed rows have positions");

        // the copy came first: a streamed change of a copied row is applied over it
        stream("copy_fenced", 30, row(30, "after the copy"), 3);
        stream("copy_fenced", 40, null, 4);
        assertEquals("after the copy", TestDatabases.copy(target, "SELECT name FROM copy_fenced WHERE id = 30").trim());
        assertEquals("0", TestDatabases.copy(target, "SELECT count(*) FROM copy_fenced WHERE id = 40").trim());
    }

    /**
     * The source changes while the backfill runs; every change becomes an event carrying the row as it is after the
     * change (or a delete), and the events arrive shuffled and duplicated, some during the copy and the rest after it.
     */
    @Test
    void aBackfillRacingAReorderedDuplicatedStreamEndsEqualToTheSource() throws Exception {
        // json without spacing of its own: the events carry rows as row_to_json prints them
        TestDatabases.execute(source, "INSERT INTO copy_race SELECT g, 'n' || g, g, jsonb_build_object('g', g),"
                + " ('{\"g\":' || g || '}')::json, ARRAY['t' || g], timestamptz '2024-01-01 00:00:00+00'"
                + " + g * interval '1 second' FROM generate_series(1, 3000) g");
        Random random = new Random(18);
        List<ObjectNode> events = Collections.synchronizedList(new ArrayList<>());
        Set<Integer> streamedKeys = Collections.synchronizedSet(new TreeSet<>());
        AtomicBoolean copying = new AtomicBoolean(true);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        Future<Integer> stream = pool.submit(() -> {
            int position = 0;
            int sent = 0;
            while (copying.get() || position < 300) {
                int id = 1 + random.nextInt(3300);
                int roll = random.nextInt(100);
                if (roll < 55) {
                    TestDatabases.execute(source, "UPDATE copy_race SET name = name || '+', qty = coalesce(qty, 0) + 1"
                            + " WHERE id = " + id);
                } else if (roll < 75) {
                    TestDatabases.execute(source, "INSERT INTO copy_race (id, name, qty) VALUES (" + id + ", 'new', 1)"
                            + " ON CONFLICT (id) DO UPDATE SET name = 'again', doc = '{\"again\": true}'");
                } else {
                    TestDatabases.execute(source, "DELETE FROM copy_race WHERE id = " + id);
                }
                events.add(event("copy_race", id, currentRow("copy_race", id), ++position));
                streamedKeys.add(id);
                // deliver some of what happened so far, out of order and some of it twice
                if (position % 10 == 0) {
                    List<ObjectNode> pending = new ArrayList<>(events);
                    Collections.shuffle(pending, random);
                    for (ObjectNode event : pending.subList(0, Math.min(6, pending.size()))) {
                        post(event);
                        sent++;
                    }
                }
            }
            return sent;
        });
        List<JsonNode> answers = backfill("race", "{\"tables\":[\"public.copy_race\"],\"chunkSize\":400}");
        copying.set(false);
        int sentDuringCopy = stream.get(180, TimeUnit.SECONDS);
        pool.shutdown();
        // then everything, shuffled, as a broker's retries would deliver it in the end
        List<ObjectNode> all = new ArrayList<>(events);
        all.addAll(events.subList(0, events.size() / 3));
        Collections.shuffle(all, random);
        for (ObjectNode event : all) {
            post(event);
        }

        assertTrue(answers.size() >= 8, "one chunk per invocation: " + answers.size());
        assertTrue(sentDuringCopy > 0, "changes arrived while the copy ran");
        TableComparison.assertSameRows(source, target, "copy_race");
        assertEquals(streamedKeys.size(), positions("public.copy_race"),
                "positions only for the rows the stream changed, none for copied rows");
    }

    /** Two chains of invocations on one table at once, as two Triggers or a retried request would run them. */
    @Test
    void concurrentBackfillsOfOneTableCountEveryChunkOnceAndEndEqual() throws Exception {
        SourceJobsTest.fill(source, "copy_twice", "SELECT generate_series(1, 3000)");
        String request = "{\"tables\":[\"public.copy_twice\"],\"chunkSize\":500}";
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<List<JsonNode>> a = pool.submit(() -> backfill("twice-a", request));
            Future<List<JsonNode>> b = pool.submit(() -> backfill("twice-b", request));
            a.get(120, TimeUnit.SECONDS);
            b.get(120, TimeUnit.SECONDS);
        } finally {
            pool.shutdown();
        }
        TableComparison.assertSameRows(source, target, "copy_twice");
        assertEquals("3000\tt", TestDatabases.copy(target,
                "SELECT rows, done FROM replicator.backfill_progress WHERE table_name = 'public.copy_twice'").trim());
        assertEquals(0, positions("public.copy_twice"));
    }

    @Test
    void aChunkCutOffAfterItsRowsWereCopiedLeavesNothingAndTheRerunEndsEqual() throws Exception {
        cutOffInTheMiddle("crash_direct", false);
    }

    @Test
    void aStagedChunkCutOffAfterItsRowsWereMergedLeavesNothingAndTheRerunEndsEqual() throws Exception {
        cutOffInTheMiddle("crash_staged", true);
    }

    /**
     * Copies the first chunk, then holds the table's checkpoint row so that the second chunk's transaction waits at
     * its checkpoint, after its rows are written, and terminates that target connection there. The failure policy
     * retries a dropped connection: the retry copies the chunk again and waits at the checkpoint again; nothing of the
     * cut-off attempt is left, and once the row is released the chunk commits once.
     */
    private void cutOffInTheMiddle(String table, boolean streamFirst) throws Exception {
        SourceJobsTest.fill(source, table, "SELECT generate_series(1, 3000)");
        String name = "public." + table;
        if (streamFirst) {
            TestDatabases.execute(source, "UPDATE " + table + " SET name = 'streamed' WHERE id = 2999");
            stream(table, 2999, currentRow(table, 2999), 1);
        }
        String request = "{\"tables\":[\"" + name + "\"],\"chunkSize\":1000}";
        Response first = job(table + "-1", request);
        first.then().statusCode(200).header("ce-type", "replicator.backfill.v1");
        String continuation = first.asString();
        int before = count(table);

        ExecutorService pool = Executors.newSingleThreadExecutor();
        Response secondAnswer;
        try (Connection holder = target.getConnection()) {
            holder.setAutoCommit(false);
            try (Statement hold = holder.createStatement()) {
                hold.execute("SELECT * FROM replicator.backfill_progress WHERE table_name = '" + name + "' FOR UPDATE");
            }
            Future<Response> second = pool.submit(() -> job(table + "-2", continuation));
            int waiting = waitForCheckpointWait(-1);
            assertEquals(before, count(table), "the chunk is not visible before it commits");
            TestDatabases.execute(target, "SELECT pg_terminate_backend(" + waiting + ")");
            int retry = waitForCheckpointWait(waiting);
            assertTrue(retry != waiting, "the chunk is tried again on another connection");
            assertEquals(before, count(table), "no half chunk");
            assertEquals("1000\tf", TestDatabases.copy(target,
                    "SELECT rows, done FROM replicator.backfill_progress WHERE table_name = '" + name + "'").trim());
            holder.rollback();
            secondAnswer = second.get(60, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        secondAnswer.then().statusCode(200).header("ce-type", "replicator.backfill.v1");
        assertEquals("2000\tf", TestDatabases.copy(target,
                "SELECT rows, done FROM replicator.backfill_progress WHERE table_name = '" + name + "'").trim(),
                "the retried chunk counted once");

        Response again = job(table + "-again", secondAnswer.asString());
        for (int call = 0; "replicator.backfill.v1".equals(again.header("ce-type")); call++) {
            assertTrue(call < 10, "backfill does not finish");
            again = job(table + "-next-" + call, again.asString());
        }
        again.then().statusCode(200).header("ce-type", "replicator.backfill.done.v1");
        assertEquals(streamFirst ? 0 : 1, readTree(again.asString()).path("directChunks").asInt(-1),
                "the last chunk is " + (streamFirst ? "staged" : "copied straight into the table") + ": "
                        + again.asString());
        TableComparison.assertSameRows(source, target, table);
        assertEquals(streamFirst ? 1 : 0, positions(name));
        assertEquals("3000\tt", TestDatabases.copy(target,
                "SELECT rows, done FROM replicator.backfill_progress WHERE table_name = '" + name + "'").trim());
    }

    /** The target backend (other than {@code not}) that waits for the held checkpoint row, once one does. */
    private int waitForCheckpointWait(int not) throws Exception {
        long start = System.nanoTime();
        while (System.nanoTime() - start < 60_000_000_000L) {
            String pid = TestDatabases.copy(target, "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                    + " AND wait_event_type = 'Lock' AND query LIKE '%backfill_progress%' AND pid <> " + not
                    + " LIMIT 1").trim();
            if (!pid.isEmpty()) {
                return Integer.parseInt(pid);
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the chunk never reached its checkpoint");
    }

    private int count(String table) {
        return Integer.parseInt(TestDatabases.copy(target, "SELECT count(*) FROM " + table).trim());
    }

    private long positions(String table) {
        return Long.parseLong(TestDatabases.copy(target,
                "SELECT count(*) FROM replicator.row_position WHERE table_name = '" + table + "'").trim());
    }

    private List<JsonNode> backfill(String id, String request) {
        List<JsonNode> answers = new ArrayList<>();
        Response answer = job(id + "-0", request);
        for (int call = 1;; call++) {
            answer.then().statusCode(200);
            answers.add(readTree(answer.asString()));
            if (!"replicator.backfill.v1".equals(answer.header("ce-type"))) {
                assertEquals("replicator.backfill.done.v1", answer.header("ce-type"));
                return answers;
            }
            assertTrue(call < 200, "backfill does not finish");
            answer = job(id + "-" + call, answer.asString());
        }
    }

    private static ObjectNode row(int id, String name) {
        return JSON.createObjectNode().put("id", id).put("name", name).put("qty", 1);
    }

    private void stream(String table, int id, JsonNode row, long position) {
        post(event(table, id, row, position));
    }

    private static ObjectNode event(String table, int id, JsonNode row, long position) {
        ObjectNode data = JSON.createObjectNode().put("table", "public." + table);
        data.putArray("position").add(position).add(0);
        if (row == null) {
            data.put("op", "delete").putObject("key").put("id", id);
        } else {
            data.put("op", "upsert").set("after", row);
        }
        return data;
    }

    private static void post(ObjectNode event) {
        given().contentType("application/json").header("ce-id", "stream-" + event.path("position").get(0).asLong())
                .header("ce-specversion", "1.0").header("ce-source", "/test").header("ce-type", "replicator.change.v1")
                .body(event.toString()).post("/").then().statusCode(204);
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

    static Response job(String id, String data) {
        return SourceJobsTest.job(id, "replicator.backfill.v1", data);
    }

    static JsonNode readTree(String text) {
        return SourceJobsTest.readTree(text);
    }
}
