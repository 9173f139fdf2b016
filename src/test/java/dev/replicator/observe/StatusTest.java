package dev.replicator.observe;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

import dev.replicator.testing.LogicalSource;
import dev.replicator.testing.TestDatabases;

/** {@code GET /status} shows what the work did: the slot, the pulls, the backfill, the verify and the parked event. */
@QuarkusTest
@QuarkusTestResource(value = MonitoringWorkload.Databases.class, restrictToAnnotatedClass = true)
class StatusTest {

    @Test
    void statusShowsTheFiguresTheWorkProduced() throws Exception {
        MonitoringWorkload.runOnce();
        String text = given().get("/status").then().statusCode(200).contentType("application/json").extract()
                .asString();
        JsonNode status = new ObjectMapper().readTree(text);
        System.out.println("GET /status after the work:\n" + new ObjectMapper().writerWithDefaultPrettyPrinter()
                .writeValueAsString(status));

        assertTrue(status.at("/databases/target/reachable").asBoolean(), text);
        assertTrue(status.at("/databases/source/reachable").asBoolean(), text);
        assertTrue(status.at("/versions/target").asText().startsWith("17."), text);
        assertEquals(Runtime.version().toString(), status.at("/versions/java").asText());

        JsonNode slot = status.at("/slots/0");
        assertEquals(MonitoringWorkload.SLOT, slot.path("slot").asText());
        assertTrue(slot.path("exists").asBoolean(), text);
        String confirmed = TestDatabases.copy(TestDatabases.dataSource(LogicalSource.server(), MonitoringWorkload.DB),
                "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" + MonitoringWorkload.SLOT
                        + "'").trim();
        assertEquals(confirmed, slot.path("confirmedLsn").asText(), "the slot as the source's catalog has it");
        assertTrue(slot.path("lagBytes").asLong() > 0, "the backfill's rows were written to the source since: " + text);
        assertEquals("failed", slot.at("/lastPull/outcome").asText(), "the last pull was turned away busy: " + text);
        assertTrue(slot.at("/lastPull/error").asText().contains("another pull"), text);
        assertTrue(slot.path("pulledTables").asLong() >= 1, "pull wrote its coverage of the pulled table: " + text);

        JsonNode backfill = only(status.path("backfill"), "public.items");
        assertEquals(MonitoringWorkload.ITEMS, backfill.path("rows").asLong());
        assertTrue(backfill.path("done").asBoolean());
        assertEquals(100.0, backfill.path("percent").asDouble());
        assertEquals(MonitoringWorkload.ITEMS, backfill.path("estimatedRows").asLong());
        assertTrue(backfill.at("/lastRun/rowsPerSecond").asDouble() > 0, text);

        // the last verify is the one that repaired: it found the two deleted rows and the changed one
        JsonNode verify = only(status.path("verify"), "public.items");
        assertEquals(2, verify.path("missing").asLong(), text);
        assertEquals(1, verify.path("changed").asLong(), text);
        assertEquals(3, verify.path("repaired").asLong(), text);
        assertEquals(MonitoringWorkload.ITEMS, verify.path("rowsCompared").asLong(), text);

        assertEquals(1, status.at("/parked/total").asLong(), text);
        JsonNode reason = status.at("/parked/byReason/0");
        assertEquals(400, reason.path("status").asInt());
        assertEquals(1, reason.path("count").asLong());
        assertTrue(reason.path("reason").asText().contains("public.nowhere"), text);
        assertFalse(reason.path("reason").asText().startsWith("event "), "one line per cause, not per event: " + text);

        JsonNode settings = status.at("/settings/replicator");
        assertEquals(MonitoringWorkload.SLOT, settings.at("/pull/slot").asText());
        assertTrue(settings.at("/rejected/park").asBoolean());
        assertEquals(100000, settings.at("/backfill/chunk-size").asInt(), "defaults are shown too: " + text);
        assertEquals("PT1M", settings.at("/backfill/time-budget").asText(), "durations as ISO-8601");
        assertEquals(12 * 1024 * 1024, settings.at("/admission/max-bytes-in-flight").asLong(), "sizes in bytes");
        assertTrue(status.at("/settings/datasources/target/server").asText().endsWith("/" + MonitoringWorkload.DB),
                text);

        // no secret, no connection string, no row value
        for (String never : List.of("password", "jdbc:", "postgres@", "item 1", "'p1'")) {
            assertFalse(text.toLowerCase().contains(never), "status shows " + never + ": " + text);
        }

        // one of replicator's tables dropped (it is made again when next written): the others are still shown
        TestDatabases.execute(MonitoringWorkload.target(), "DROP TABLE replicator.pull_coverage");
        JsonNode without = new ObjectMapper().readTree(given().get("/status").then().statusCode(200).extract()
                .asString());
        assertEquals(0, without.at("/slots/0/pulledTables").asLong());
        assertEquals(1, without.at("/parked/total").asLong());
        assertEquals(MonitoringWorkload.ITEMS, only(without.path("backfill"), "public.items").path("rows").asLong());
    }

    static JsonNode only(JsonNode tables, String table) {
        List<JsonNode> found = new ArrayList<>();
        tables.forEach(t -> {
            if (table.equals(t.path("table").asText())) {
                found.add(t);
            }
        });
        assertEquals(1, found.size(), table + " in " + tables);
        return found.get(0);
    }
}
