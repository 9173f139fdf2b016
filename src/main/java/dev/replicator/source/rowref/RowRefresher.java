package dev.replicator.source.rowref;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import dev.replicator.apply.RefreshWriter;
import dev.replicator.apply.TargetUnavailableException;
import dev.replicator.decode.FieldValue;
import dev.replicator.decode.Operation;
import dev.replicator.decode.Position;
import dev.replicator.decode.RowChange;
import dev.replicator.decode.TableId;
import dev.replicator.decode.ValueEncoding;
import dev.replicator.observe.ReplicationMetrics;
import dev.replicator.route.TableRouter;
import dev.replicator.route.TargetChange;
import dev.replicator.source.JobTable;
import dev.replicator.source.JobTables;
import dev.replicator.source.RowReader;

/**
 * Brings rows named by key to the source's current state: for {@code replicator.rowref.v1} events, for Debezium
 * changes whose row image is incomplete, and for verify's repairs. The rows are locked in the target before they
 * are read from the source ({@link RefreshWriter}), so a concurrent streamed change is never lost.
 */
public class RowRefresher {

    private final JobTables tables;
    private final RowReader reader;
    private final RefreshWriter writer;
    private final TableRouter router;
    private final ReplicationMetrics metrics;

    public RowRefresher(JobTables tables, RowReader reader, RefreshWriter writer, TableRouter router,
            ReplicationMetrics metrics) {
        this.tables = tables;
        this.reader = reader;
        this.writer = writer;
        this.router = router;
        this.metrics = metrics;
    }

    /** A rowref event: the keys are checked and converted like a delete event's key. */
    public RefreshWriter.Outcome refresh(String eventId, RowRefRequest request) {
        JobTable table = tables.resolve(eventId, JobTables.parse(eventId, request.table()));
        List<List<String>> keys = new ArrayList<>();
        for (JsonNode key : request.keys()) {
            keys.add(keyOf(eventId, table.sourceId(), key));
        }
        return refresh(eventId, table, keys, null);
    }

    /**
     * A change whose row image is incomplete (no column value besides the key): the source's current row stands in
     * for it. Skipped when the target already holds the row at the change's position or later.
     */
    public RefreshWriter.Outcome refresh(TargetChange incomplete) {
        JobTable table = tables.resolve(incomplete.eventId(), TableId.parse(incomplete.sourceTable()));
        return refresh(incomplete.eventId(), table, List.of(incomplete.key()), incomplete.position());
    }

    /** Rows by key text (verify's repairs). */
    public RefreshWriter.Outcome refresh(String eventId, JobTable table, List<List<String>> keys, Position floor) {
        RefreshWriter.Outcome outcome = writer.refresh(table.written(), keys, floor,
                wanted -> reader.rows(eventId, table, wanted));
        String name = table.sourceId().toString();
        metrics.refreshed(name, "written", outcome.written());
        metrics.refreshed(name, "deleted", outcome.deleted());
        metrics.refreshed(name, "stale", outcome.stale());
        return outcome;
    }

    /** True for an insert or update that carries no value besides its key (every other column unavailable). */
    public static boolean isIncomplete(TargetChange change) {
        return change.op().isUpsert() && !change.unavailable().isEmpty()
                && change.table().primaryKey().containsAll(change.values().keySet());
    }

    private List<String> keyOf(String eventId, TableId source, JsonNode key) {
        Map<String, FieldValue> row = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> fields = key.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            row.put(field.getKey(), FieldValue.of(field.getValue(), null));
        }
        try {
            return router.route(new RowChange(eventId, source, Operation.DELETE, null, row, null, null,
                    ValueEncoding.NATIVE)).key();
        } catch (SQLException e) {
            throw TargetUnavailableException.catalogUnreadable(eventId, e);
        }
    }
}
