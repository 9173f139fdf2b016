package dev.replicator.decode;

import java.time.Instant;
import java.util.Map;

/**
 * One change of one row (or, for TRUNCATE, of one table) decoded from an event, before it is routed to the target.
 *
 * @param eventId        the CloudEvent id (or a description of the event) for error messages and logs
 * @param table          the source table
 * @param op             what happened
 * @param position       where the change stands in the source's history; null when the event gave none
 * @param row            the row image: {@code after} for create/read/update, {@code before} for delete (often only the
 *                       key plus type defaults); empty for truncate. Column order as in the event.
 * @param newKey         for a delete that is the first half of a primary-key change: the key the row moves to
 *                       (Debezium's {@code __debezium.newkey} header); otherwise null
 * @param sourceTime     when the change was committed at the source, if known (for lag metrics)
 * @param encoding       how the values are written: Debezium's JSON encodings or the native format's
 */
public record RowChange(
        String eventId,
        TableId table,
        Operation op,
        Position position,
        Map<String, FieldValue> row,
        Map<String, FieldValue> newKey,
        Instant sourceTime,
        ValueEncoding encoding) {

    public RowChange {
        row = row == null ? Map.of() : row;
    }
}
