package dev.replicator.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import dev.replicator.decode.BadEventException;
import dev.replicator.route.TableMappings;

/** Requests may only name replicated tables: the rest is a 400 naming the table, before any database is asked. */
class JobTablesTest {

    @Test
    void aTableThatIsNotReplicatedIsRejectedByName() {
        TableMappings mappings = TableMappings.of(Map.of("public.orders", Optional.empty()), Map.of(), false);
        JobTables tables = new JobTables(mappings, null, null, null, "replicator");
        BadEventException e = assertThrows(BadEventException.class,
                () -> tables.resolve("req-1", List.of("public.customers")));
        assertEquals("req-1", e.eventId());
        assertTrue(e.getMessage().contains("public.customers") && e.getMessage().contains("not replicated"),
                e.getMessage());
    }
}
