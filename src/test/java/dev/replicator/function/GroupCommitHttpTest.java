package dev.replicator.function;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

import jakarta.inject.Inject;

import javax.sql.DataSource;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;

import dev.replicator.apply.GroupCommit;
import dev.replicator.observe.ReplicationMetrics;
import dev.replicator.testing.PostgresResource;
import dev.replicator.testing.TestDatabases;

/**
 * Group commit over HTTP, made deterministic by holding the table's lock from the test: while the one writer is
 * stuck behind it, further requests queue up, and are then written together in one transaction. No timing is
 * asserted; the test only waits for states it can observe.
 */
@QuarkusTest
@QuarkusTestResource(PostgresResource.class)
@TestProfile(GroupCommitHttpTest.OneWriterSmallCap.class)
class GroupCommitHttpTest {

    /** One writer, so that the queue is easy to reason about, and a cap of ten changes in flight. */
    public static class OneWriterSmallCap implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("replicator.group-commit.writers", "1",
                    "replicator.group-commit.max-changes-in-flight", "10");
        }
    }

    static final ExecutorService CLIENTS = Executors.newFixedThreadPool(8);

    DataSource target = PostgresResource.target();

    @Inject
    GroupCommit groupCommit;

    @Inject
    ReplicationMetrics metrics;

    @BeforeEach
    void emptyTable() {
        TestDatabases.execute(target, "TRUNCATE guarded");
        TestDatabases.execute(target, "CREATE SCHEMA IF NOT EXISTS replicator");
        TestDatabases.execute(target, "DELETE FROM replicator.row_position WHERE table_name = 'public.guarded'");
    }

    @AfterAll
    static void stopClients() {
        CLIENTS.shutdownNow();
    }

    @Test
    void concurrentRequestsShareATransactionAndABadChangeFailsOnlyItsOwnRequest() throws Exception {
        long groups = metrics.groups();
        long grouped = metrics.groupedRequests();
        CompletableFuture<Integer> first;
        List<CompletableFuture<Integer>> queued = new ArrayList<>();
        try (Connection holder = lockTable("public.guarded")) {
            first = async(1, 5);
            waitUntil(() -> groupCommit.writing() == 1);
            queued.add(async(2, 5));
            queued.add(async(3, -1)); // violates CHECK (qty >= 0): 422
            queued.add(async(4, 5));
            queued.add(async(5, 5));
            waitUntil(() -> groupCommit.queued() == 4);
            holder.commit();
        }
        assertEquals(204, first.get());
        List<Integer> statuses = new ArrayList<>();
        for (CompletableFuture<Integer> request : queued) {
            statuses.add(request.get());
        }
        assertEquals(List.of(204, 422, 204, 204), statuses, "only the request with the bad change fails");
        assertEquals("1\t5\n2\t5\n4\t5\n5\t5\n", TestDatabases.copy(target, "SELECT id, qty FROM guarded ORDER BY id"));
        assertEquals(2, metrics.groups() - groups, "the first request alone, then the three good ones together");
        assertEquals(4, metrics.groupedRequests() - grouped);
    }

    @Test
    void beyondTheCapOnChangesInFlightARequestIsAnswered503AndLaterSucceeds() throws Exception {
        CompletableFuture<Response> batch;
        try (Connection holder = lockTable("public.guarded")) {
            StringBuilder events = new StringBuilder("[");
            for (int id = 11; id <= 20; id++) {
                events.append(id == 11 ? "" : ",").append(structured(id, 1));
            }
            String body = events.append("]").toString();
            batch = CompletableFuture.supplyAsync(() -> given().contentType("application/cloudevents-batch+json")
                    .body(body).post("/"), CLIENTS);
            waitUntil(() -> groupCommit.inFlight() == 10 && groupCommit.writing() == 1);

            Response refused = single(21, 1);
            assertEquals(503, refused.statusCode());
            assertEquals("1", refused.header("Retry-After"));
            holder.commit();
        }
        batch.get().then().statusCode(200).body("applied", equalTo(10));
        assertEquals(204, single(21, 1).statusCode(), "the broker's redelivery");
        assertEquals("11\n", TestDatabases.copy(target, "SELECT count(*) FROM guarded"));
    }

    private Connection lockTable(String table) throws SQLException {
        Connection holder = target.getConnection();
        holder.setAutoCommit(false);
        try (PreparedStatement lock = holder.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
            lock.setString(1, table);
            lock.execute();
        }
        return holder;
    }

    private CompletableFuture<Integer> async(int id, int qty) {
        return CompletableFuture.supplyAsync(() -> single(id, qty).statusCode(), CLIENTS);
    }

    /** A binary-mode CloudEvent, as a Knative broker delivers it. */
    private static Response single(int id, int qty) {
        return given().contentType("application/json").header("ce-id", "g-" + id).header("ce-specversion", "1.0")
                .header("ce-source", "/test").header("ce-type", "replicator.change.v1")
                .body(data(id, qty)).post("/");
    }

    private static String data(int id, int qty) {
        return "{\"table\":\"public.guarded\",\"op\":\"upsert\",\"position\":[" + id + ",1],\"after\":{\"id\":" + id
                + ",\"qty\":" + qty + "}}";
    }

    private static String structured(int id, int qty) {
        return "{\"specversion\":\"1.0\",\"id\":\"g-" + id + "\",\"source\":\"/test\",\"type\":\"replicator.change.v1\","
                + "\"datacontenttype\":\"application/json\",\"data\":" + data(id, qty) + "}";
    }

    /** Waits for a state the test can observe (bounded, so a broken build fails instead of hanging). */
    private static void waitUntil(BooleanSupplier state) throws InterruptedException {
        for (int i = 0; i < 6000 && !state.getAsBoolean(); i++) {
            Thread.sleep(5);
        }
        if (!state.getAsBoolean()) {
            throw new AssertionError("the expected state was not reached within 30 s");
        }
    }
}
