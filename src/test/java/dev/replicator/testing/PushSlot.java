package dev.replicator.testing;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.replicator.decode.FieldValue;
import dev.replicator.decode.IncomingEvent;
import dev.replicator.decode.Operation;
import dev.replicator.decode.PgOutputDecoder;
import dev.replicator.decode.PgOutputMessage;
import dev.replicator.decode.RowChange;
import dev.replicator.source.pull.LogicalSlot;
import dev.replicator.source.pull.SlotSettings;

/**
 * A second logical slot on the source, standing in for Debezium: the changes waiting in it become the events Debezium
 * would push for them, plain envelopes with Debezium's positions ({@code lsn}, {@code sequence: [last commit LSN,
 * LSN]}), so that a pushed change and the same change pulled compare equal. Integers are JSON numbers, every other
 * value (text, json, jsonb) a string, as Debezium writes them; the delete half of a key change carries the new key in
 * the {@code __debezium.newkey} header, and an unchanged TOASTed value is Debezium's placeholder.
 */
public final class PushSlot {

    /** The header that carries the new key of a key change's delete half. */
    public static final String NEW_KEY_HEADER = "x-debezium-__debezium.newkey";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int INT8 = 20;
    private static final int INT2 = 21;
    private static final int INT4 = 23;

    private final LogicalSlot slot;

    /** The slot {@code name}, already on the source, read through the publication. */
    public PushSlot(DataSource source, String name, String publication) {
        this.slot = new LogicalSlot(source, new SlotSettings(name, publication, false, 100_000, 1000));
    }

    /** Creates the slot {@code name} where the slot {@code of} stands. */
    public static PushSlot copyOf(DataSource source, String of, String name, String publication) {
        TestDatabases.execute(source, "SELECT pg_copy_logical_replication_slot('" + of + "', '" + name + "')");
        return new PushSlot(source, name, publication);
    }

    /** The events of the changes waiting in the slot, in commit order; the slot then stands after them. */
    public List<IncomingEvent> take() throws SQLException {
        PgOutputDecoder decoder = new PgOutputDecoder("push");
        decoder.startAfter(slot.standing().confirmedLsn());
        List<IncomingEvent> events = new ArrayList<>();
        long[] end = { -1 };
        slot.peek(100_000, (lsn, data) -> {
            PgOutputMessage message = decoder.decode(lsn, data);
            if (message instanceof PgOutputMessage.Changes changes) {
                for (RowChange change : changes.changes()) {
                    events.add(envelope(change, decoder.relationOf(change.table())));
                }
            } else if (message instanceof PgOutputMessage.Commit commit) {
                end[0] = commit.endLsn();
            }
            return true;
        });
        if (end[0] > 0) {
            slot.advance(end[0]);
        }
        return events;
    }

    private static IncomingEvent envelope(RowChange change, PgOutputDecoder.Relation relation) {
        Map<String, Integer> types = new TreeMap<>();
        List<String> key = new ArrayList<>();
        for (PgOutputDecoder.Column column : relation.columns()) {
            types.put(column.name(), column.typeOid());
            if (column.key()) {
                key.add(column.name());
            }
        }
        ObjectNode payload = JSON.createObjectNode();
        payload.put("op", change.op().code());
        if (change.op() != Operation.TRUNCATE) {
            ObjectNode row = JSON.createObjectNode();
            change.row().forEach((column, value) -> put(row, column, value, types.get(column)));
            payload.set(change.op() == Operation.DELETE ? "before" : "after", row);
        }
        ObjectNode source = payload.putObject("source");
        source.put("schema", change.table().schema()).put("table", change.table().table())
                .put("lsn", change.position().change())
                .put("sequence", "[\"" + change.position().commit() + "\",\"" + change.position().change() + "\"]")
                .put("ts_ms", change.sourceTime().toEpochMilli());
        Map<String, String> headers = new TreeMap<>();
        if (change.newKey() != null) {
            ObjectNode newKey = JSON.createObjectNode();
            for (String column : key) {
                put(newKey, column, change.newKey().get(column), types.get(column));
            }
            headers.put(NEW_KEY_HEADER,
                    Base64.getEncoder().encodeToString(newKey.toString().getBytes(StandardCharsets.UTF_8)));
        }
        ObjectNode envelope = JSON.createObjectNode();
        envelope.set("payload", payload);
        return new IncomingEvent(null, null, null, Map.of(), envelope, headers);
    }

    private static void put(ObjectNode row, String column, FieldValue value, int type) {
        if (value.isNull()) {
            row.putNull(column);
        } else if (value.unavailable()) {
            row.put(column, "__debezium_unavailable_value");
        } else if (type == INT2 || type == INT4 || type == INT8) {
            row.put(column, Long.parseLong(value.json().textValue()));
        } else {
            row.put(column, value.json().textValue());
        }
    }
}
