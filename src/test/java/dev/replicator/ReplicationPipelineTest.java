package dev.replicator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import javax.sql.DataSource;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import dev.replicator.apply.ApplyResult;
import dev.replicator.apply.GroupCommit;
import dev.replicator.apply.RejectedChangeException;
import dev.replicator.apply.RejectedEvents;
import dev.replicator.apply.Sql;
import dev.replicator.apply.TargetSchema;
import dev.replicator.apply.TargetWriter;
import dev.replicator.convert.ConversionOptions;
import dev.replicator.convert.ValueConverter;
import dev.replicator.decode.BadEventException;
import dev.replicator.decode.IncomingEvent;
import dev.replicator.decode.NativeDecoder;
import dev.replicator.observe.ReplicationMetrics;
import dev.replicator.route.TableMappings;
import dev.replicator.route.TableRouter;
import dev.replicator.route.TargetCatalog;
import dev.replicator.testing.TestDatabases;

/**
 * The pipeline below HTTP, built as the wiring builds it, against a real PostgreSQL: one path for single events,
 * strict batches and batches whose bad elements are parked.
 */
class ReplicationPipelineTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    DataSource target;
    GroupCommit groupCommit;

    @BeforeEach
    void setUp() {
        target = TestDatabases.freshDatabase(TestDatabases.target(), "pipeline_test");
        TestDatabases.execute(target, "CREATE TABLE items (id int PRIMARY KEY, qty int CHECK (qty >= 0))");
    }

    @AfterEach
    void tearDown() {
        if (groupCommit != null) {
            groupCommit.close();
        }
    }

    ReplicationPipeline pipeline(boolean applyTruncate) {
        return pipeline(applyTruncate, false);
    }

    ReplicationPipeline pipeline(boolean applyTruncate, boolean acceptUnpositioned) {
        TargetCatalog catalog = new TargetCatalog(target);
        TableRouter router = new TableRouter(TableMappings.of(Map.of("public.items", Optional.empty()), Map.of(),
                false, "replicator"), catalog, new ValueConverter(ConversionOptions.DEFAULTS));
        TargetWriter writer = new TargetWriter(target, new Sql("replicator"), "replicator", catalog::invalidate);
        ReplicationMetrics metrics = new ReplicationMetrics(new SimpleMeterRegistry());
        groupCommit = new GroupCommit(writer, new GroupCommit.Settings(2, 1000, Duration.ofMillis(1), Duration.ofMillis(1), 10_000),
                metrics.groupListener());
        return new ReplicationPipeline(router, groupCommit,
                new RejectedEvents(target, new Sql("replicator"), new TargetSchema(target, new Sql("replicator"), "replicator")),
                null, metrics, applyTruncate, acceptUnpositioned);
    }

    @Test
    void aSingleEventIsCommittedAndAnOlderVersionNeverWinsAfterIt() {
        ReplicationPipeline pipeline = pipeline(true);
        assertCounts(1, 0, 0, 0, pipeline.apply(change("a", "upsert", 1, 2, 5)));
        assertCounts(0, 1, 0, 0, pipeline.apply(change("b", "upsert", 1, 1, 9)));
        assertEquals("1\t5\n", TestDatabases.copy(target, "SELECT * FROM items"));
    }

    @Test
    void aStrictBatchFailsAtItsFirstElementThatCanNeverBeAppliedAndWritesNothing() {
        ReplicationPipeline pipeline = pipeline(true);
        List<BatchElement> batch = elements(change("ok", "upsert", 1, 1, 1), change("bad", "upsert", 2, 1, -1));
        RejectedChangeException refused = assertThrows(RejectedChangeException.class, () -> pipeline.apply(batch));
        assertEquals("bad", refused.eventId());
        List<BatchElement> unknown = elements(change("ok", "upsert", 1, 1, 1),
                event("missing", "{\"table\":\"public.nope\",\"op\":\"upsert\",\"position\":1,\"after\":{\"id\":1}}"));
        BadEventException bad = assertThrows(BadEventException.class, () -> pipeline.apply(unknown));
        assertEquals("missing", bad.eventId());
        assertEquals("", TestDatabases.copy(target, "SELECT * FROM items"));
    }

    @Test
    void aParkingBatchKeepsItsBadElementsWithTheGoodChangesInOneCommit() {
        ReplicationPipeline pipeline = pipeline(true);
        BadEventException unreadable = new BadEventException(null, "batch element 3 is not a JSON object, got NUMBER");
        List<BatchElement> batch = new ArrayList<>(elements(change("ok", "upsert", 1, 1, 1),
                change("refused", "upsert", 2, 1, -1),
                event("unknown", "{\"table\":\"public.nope\",\"op\":\"upsert\",\"position\":1,\"after\":{\"id\":1}}")));
        batch.add(new BatchElement(3, null, unreadable, JSON.getNodeFactory().numberNode(7)));
        ApplyResult result = pipeline.applyParking(batch, Map.of("content-type", "application/json"));
        assertEquals(1, result.applied());
        assertEquals(3, result.parked());
        assertEquals("1\t1\n", TestDatabases.copy(target, "SELECT * FROM items"));
        assertEquals("1\t422\n2\t400\n3\t400\n", TestDatabases.copy(target,
                "SELECT batch_index, status FROM replicator.rejected ORDER BY batch_index"));
    }

    @Test
    void truncatesAreSkippedWhenTurnedOffInEitherMode() {
        ReplicationPipeline pipeline = pipeline(false);
        pipeline.apply(change("a", "upsert", 1, 1, 3));
        String truncate = "{\"table\":\"public.items\",\"op\":\"truncate\",\"position\":2}";
        assertCounts(0, 0, 0, 1, pipeline.apply(event("t-1", truncate).event()));
        assertCounts(0, 0, 0, 1, pipeline.applyParking(elements(event("t-2", truncate)), Map.of()));
        assertEquals("1\t3\n", TestDatabases.copy(target, "SELECT * FROM items"));
    }

    @Test
    void aChangeWithoutPositionIsRefusedUnlessAccepted() {
        ReplicationPipeline pipeline = pipeline(true);
        IncomingEvent unpositioned = event("u-1", "{\"table\":\"public.items\",\"op\":\"upsert\","
                + "\"after\":{\"id\":1,\"qty\":1}}").event();
        BadEventException e = assertThrows(BadEventException.class, () -> pipeline.apply(unpositioned));
        assertTrue(e.getMessage().contains("no position"), e.getMessage());
    }

    /** Without positions nothing but the request tells which change came first: they apply in its order. */
    @Test
    void acceptedUnpositionedChangesApplyInTheOrderOfTheRequest() {
        ReplicationPipeline pipeline = pipeline(true, true);
        pipeline.apply(elements(unpositioned("a", "upsert", 1, 1), unpositioned("b", "delete", 1, 0)));
        assertEquals("", TestDatabases.copy(target, "SELECT * FROM items"), "the delete came after the upsert");
        pipeline.apply(elements(unpositioned("c", "upsert", 3, 3),
                event("t", "{\"table\":\"public.items\",\"op\":\"truncate\"}"), unpositioned("d", "upsert", 4, 4)));
        assertEquals("4\t4\n", TestDatabases.copy(target, "SELECT * FROM items"), "the truncate came between them");
        pipeline.apply(elements(unpositioned("e", "delete", 4, 0), unpositioned("f", "upsert", 4, 5),
                unpositioned("g", "upsert", 4, 6), unpositioned("h", "upsert", 4, 7)));
        assertEquals("4\t7\n", TestDatabases.copy(target, "SELECT * FROM items"), "the last upsert came last");
    }

    private static IncomingEvent unpositioned(String id, String op, int key, int qty) {
        return event(id, "{\"table\":\"public.items\",\"op\":\"" + op + "\","
                + ("delete".equals(op) ? "\"key\":{\"id\":" + key + "}}"
                        : "\"after\":{\"id\":" + key + ",\"qty\":" + qty + "}}")).event();
    }

    private static void assertCounts(int applied, int stale, int superseded, int skipped, ApplyResult result) {
        assertEquals(List.of(applied, stale, superseded, skipped),
                List.of(result.applied(), result.stale(), result.superseded(), result.skipped()), result.toString());
    }

    private static IncomingEvent change(String id, String op, int key, long position, int qty) {
        return event(id, "{\"table\":\"public.items\",\"op\":\"" + op + "\",\"position\":" + position
                + ",\"after\":{\"id\":" + key + ",\"qty\":" + qty + "}}").event();
    }

    private static BatchElement event(String id, String data) {
        try {
            JsonNode node = JSON.readTree(data);
            return new BatchElement(0, new IncomingEvent(id, NativeDecoder.TYPE, "/test", Map.of(), node, Map.of()),
                    null, node);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static List<BatchElement> elements(Object... events) {
        List<BatchElement> elements = new ArrayList<>();
        for (Object event : events) {
            BatchElement element = event instanceof BatchElement given ? given
                    : new BatchElement(0, (IncomingEvent) event, null, JSON.nullNode());
            elements.add(new BatchElement(elements.size(), element.event(), null, element.original()));
        }
        return elements;
    }
}
