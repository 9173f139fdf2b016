package dev.replicator.source.rowref;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.replicator.apply.RefreshWriter;
import dev.replicator.decode.BadEventException;
import dev.replicator.source.TwoDatabaseJobs;
import dev.replicator.testing.TestDatabases;

/** Rowref against two real PostgreSQL servers: rows named by key are read from the source and applied, or deleted. */
class RowRefresherTest {

    static final ObjectMapper JSON = new ObjectMapper();

    static final String SCHEMA = """
            CREATE TABLE items (id int PRIMARY KEY, name text, doc jsonb);
            CREATE TABLE lines (order_id int, line_no smallint, sku text, PRIMARY KEY (order_id, line_no));
            """;

    TwoDatabaseJobs jobs;

    @BeforeEach
    void setUp() {
        jobs = new TwoDatabaseJobs("rowref_test", SCHEMA, List.of("public.items", "public.lines"));
        TestDatabases.execute(jobs.source, """
                INSERT INTO items SELECT g, 'item ' || g, '{"b": 1,  "a": [1, 2]}' FROM generate_series(1, 5) g;
                INSERT INTO lines SELECT o, l, 'sku-' || o || '-' || l FROM generate_series(1, 3) o,
                    generate_series(1, 3) l;
                """);
    }

    static List<JsonNode> keys(String... json) throws Exception {
        List<JsonNode> keys = new ArrayList<>();
        for (String key : json) {
            keys.add(JSON.readTree(key));
        }
        return keys;
    }

    @Test
    void readsTheRowsByKeyFromTheSourceAndAppliesThem() throws Exception {
        RefreshWriter.Outcome outcome = jobs.refresher.refresh("rr-1",
                new RowRefRequest("public.items", keys("{\"id\": 2}", "{\"id\": \"4\"}")));

        assertEquals(new RefreshWriter.Outcome(2, 0, 0), outcome);
        assertEquals(TwoDatabaseJobs.rows(jobs.source, "SELECT * FROM items WHERE id IN (2, 4) ORDER BY id"),
                TwoDatabaseJobs.rows(jobs.target, "SELECT * FROM items ORDER BY id"));

        RefreshWriter.Outcome line = jobs.refresher.refresh("rr-2",
                new RowRefRequest("public.lines", keys("{\"order_id\": 3, \"line_no\": 2}")));
        assertEquals(new RefreshWriter.Outcome(1, 0, 0), line);
        assertEquals("3\t2\tsku-3-2\n", TwoDatabaseJobs.rows(jobs.target, "SELECT * FROM lines"));
    }

    @Test
    void aKeyNoLongerInTheSourceDeletesTheTargetRow() throws Exception {
        TestDatabases.execute(jobs.target, "INSERT INTO items VALUES (3, 'stale copy', NULL), (4, 'stale copy', NULL),"
                + " (9, 'gone long ago', NULL)");
        TestDatabases.execute(jobs.source, "DELETE FROM items WHERE id = 3; UPDATE items SET name = 'now' WHERE id = 4");

        RefreshWriter.Outcome outcome = jobs.refresher.refresh("rr-1",
                new RowRefRequest("public.items", keys("{\"id\": 3}", "{\"id\": 4}", "{\"id\": 9}")));

        assertEquals(new RefreshWriter.Outcome(1, 2, 0), outcome);
        assertEquals(TwoDatabaseJobs.rows(jobs.source, "SELECT * FROM items WHERE id = 4"),
                TwoDatabaseJobs.rows(jobs.target, "SELECT * FROM items ORDER BY id"));
    }

    @Test
    void aTableNotReplicatedOrAKeyWithoutItsColumnsIsRejected() throws Exception {
        BadEventException unmapped = assertThrows(BadEventException.class, () -> jobs.refresher.refresh("rr-1",
                new RowRefRequest("public.customers", keys("{\"id\": 1}"))));
        assertEquals("rr-1", unmapped.eventId());
        assertTrue(unmapped.getMessage().contains("public.customers"), unmapped.getMessage());

        BadEventException partial = assertThrows(BadEventException.class, () -> jobs.refresher.refresh("rr-2",
                new RowRefRequest("public.lines", keys("{\"order_id\": 1}"))));
        assertEquals("rr-2", partial.eventId());
        assertTrue(partial.getMessage().contains("line_no"), partial.getMessage());
        assertEquals("", TwoDatabaseJobs.rows(jobs.target, "SELECT * FROM lines"));
    }
}
