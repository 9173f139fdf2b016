package dev.replicator.source.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.replicator.decode.BadEventException;
import dev.replicator.source.backfill.BackfillRequest;
import dev.replicator.source.rowref.RowRefRequest;
import dev.replicator.source.verify.VerifyRequest;

/** Request data of the source-side events: defaults, and a 400 naming the field when wrong. */
class JobRequestsTest {

    static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }

    @Test
    void backfillDefaultsToAllTablesAndTheConfiguredChunk() throws Exception {
        assertEquals(new BackfillRequest(List.of(), 1000, false), JobRequests.backfill("e", null, 1000));
        assertEquals(new BackfillRequest(List.of(), 1000, false),
                JobRequests.backfill("e", json("{\"tables\":\"all\"}"), 1000));
        assertEquals(new BackfillRequest(List.of("public.a", "b"), 50, true), JobRequests.backfill("e",
                json("{\"tables\":[\"public.a\",\"b\",\"b\"],\"chunkSize\":50,\"restart\":true,\"report\":[]}"), 1000));
    }

    @Test
    void badBackfillFieldsAreRejectedByName() {
        for (String bad : List.of("{\"tables\":[]}", "{\"tables\":[1]}", "{\"tables\":\"some\"}",
                "{\"chunkSize\":0}", "{\"chunkSize\":\"10\"}", "{\"chunkSize\":100001}", "{\"restart\":\"yes\"}",
                "[1]", "{\"tables\":[\"a.b.c\"]}")) {
            BadEventException e = assertThrows(BadEventException.class,
                    () -> JobRequests.backfill("bf-1", json(bad), 1000), bad);
            assertEquals("bf-1", e.eventId());
        }
    }

    @Test
    void verifyCarriesRepairSamplesAndWhereToResume() throws Exception {
        VerifyRequest request = JobRequests.verify("v", json("{\"tables\":[\"public.a\"],\"repair\":true,"
                + "\"sampleKeys\":3,\"resume\":{\"table\":\"public.a\",\"after\":[\"41\"]}}"), 500, 20);
        assertEquals(new VerifyRequest(List.of("public.a"), 500, true, 3,
                new VerifyRequest.Resume("public.a", List.of("41"))), request);
        assertThrows(BadEventException.class, () -> JobRequests.verify("v", json("{\"resume\":{\"table\":1}}"),
                500, 20));
    }

    @Test
    void rowRefNeedsATableAndKeyObjects() throws Exception {
        RowRefRequest one = JobRequests.rowRef("r", json("{\"table\":\"public.a\",\"key\":{\"id\":1}}"));
        assertEquals(1, one.keys().size());
        RowRefRequest many = JobRequests.rowRef("r",
                json("{\"table\":\"public.a\",\"keys\":[{\"id\":1},{\"id\":2}]}"));
        assertEquals(2, many.keys().size());
        for (String bad : List.of("{\"key\":{\"id\":1}}", "{\"table\":\"public.a\"}",
                "{\"table\":\"public.a\",\"key\":1}", "{\"table\":\"public.a\",\"keys\":{}}")) {
            BadEventException e = assertThrows(BadEventException.class, () -> JobRequests.rowRef("r-9", json(bad)));
            assertTrue(e.getMessage().contains("key") || e.getMessage().contains("table"), e.getMessage());
        }
    }
}
