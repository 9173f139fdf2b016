package dev.replicator.decode;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import com.fasterxml.jackson.databind.node.TextNode;

/**
 * Decodes the messages of PostgreSQL's built-in output plugin pgoutput (protocol version 1, text values) into
 * {@link RowChange}s, keeping the Relation messages it has seen: each change names its table by relation id only.
 * <p>
 * Positions are those Debezium gives the same changes, so that pushed and pulled changes of one row compare: the
 * change's WAL LSN, and for the transaction the end LSN of the transaction before it in the slot (Debezium's
 * {@code sequence[0]}, the "last commit LSN" it takes from the stream position of the previous Commit message). The
 * reader says where the slot stood before the first transaction with {@link #startAfter(long)}.
 * <p>
 * Not thread-safe: one decoder per slot reading.
 */
public final class PgOutputDecoder {

    /** Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01. */
    private static final long POSTGRES_EPOCH_MICROS = 946_684_800_000_000L;

    /** One column of a Relation message. */
    public record Column(String name, int typeOid, int typmod, boolean key) {
    }

    /** A Relation message: what the relation id of the following changes stands for. */
    public record Relation(int id, TableId table, char replicaIdentity, List<Column> columns) {
    }

    private final String idPrefix;
    private final Map<Integer, Relation> relations = new HashMap<>();
    private final Map<TableId, Relation> byTable = new HashMap<>();
    private long transactionCommit;
    private Instant commitTime;

    /** @param idPrefix how changes are named in errors and logs, followed by {@code @<LSN>} */
    public PgOutputDecoder(String idPrefix) {
        this.idPrefix = Objects.requireNonNull(idPrefix);
    }

    /** The LSN the slot was confirmed up to: the commit position of the first transaction read after it. */
    public void startAfter(long confirmedLsn) {
        transactionCommit = confirmedLsn;
    }

    public Relation relation(int id) {
        return relations.get(id);
    }

    /** The newest Relation message seen for a table, or null. */
    public Relation relationOf(TableId table) {
        return byTable.get(table);
    }

    /**
     * @param lsn  the WAL position the slot gave the message (the {@code lsn} column of
     *             {@code pg_logical_slot_peek_binary_changes}, or the XLogData start of the replication protocol)
     * @param data the message
     */
    public PgOutputMessage decode(long lsn, byte[] data) {
        ByteBuffer in = ByteBuffer.wrap(data);
        String id = idPrefix + "@" + lsnText(lsn);
        try {
            char tag = (char) in.get();
            return switch (tag) {
                case 'B' -> begin(in);
                case 'C' -> commit(in);
                case 'R' -> relation(in);
                case 'I' -> new PgOutputMessage.Changes(insert(id, lsn, in));
                case 'U' -> new PgOutputMessage.Changes(update(id, lsn, in));
                case 'D' -> new PgOutputMessage.Changes(delete(id, lsn, in));
                case 'T' -> new PgOutputMessage.Changes(truncate(id, lsn, in));
                case 'Y', 'O', 'M' -> new PgOutputMessage.Other(tag);
                default -> throw new BadEventException(id, "unknown pgoutput message '" + tag + "'");
            };
        } catch (java.nio.BufferUnderflowException e) {
            throw new BadEventException(id, "pgoutput message ends too early");
        }
    }

    private PgOutputMessage begin(ByteBuffer in) {
        long finalLsn = in.getLong();
        commitTime = time(in.getLong());
        long xid = Integer.toUnsignedLong(in.getInt());
        return new PgOutputMessage.Begin(finalLsn, commitTime, xid);
    }

    private PgOutputMessage commit(ByteBuffer in) {
        in.get(); // flags, unused
        long commitLsn = in.getLong();
        long endLsn = in.getLong();
        Instant time = time(in.getLong());
        transactionCommit = endLsn; // the next transaction's "last commit LSN"
        return new PgOutputMessage.Commit(commitLsn, endLsn, time);
    }

    private PgOutputMessage relation(ByteBuffer in) {
        int id = in.getInt();
        String namespace = string(in);
        String name = string(in);
        char identity = (char) in.get();
        int count = in.getShort();
        List<Column> columns = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            boolean key = (in.get() & 1) != 0;
            String column = string(in);
            int type = in.getInt();
            int typmod = in.getInt(); // values are cast by the target's catalog; this is for schema evolution
            columns.add(new Column(column, type, typmod, key));
        }
        // an empty namespace is pg_catalog
        Relation relation = new Relation(id, new TableId(namespace.isEmpty() ? "pg_catalog" : namespace, name),
                identity, List.copyOf(columns));
        relations.put(id, relation);
        byTable.put(relation.table(), relation);
        return new PgOutputMessage.RelationSeen(relation);
    }

    private List<RowChange> insert(String id, long lsn, ByteBuffer in) {
        Relation relation = known(id, in.getInt());
        expect(id, in, 'N');
        return List.of(change(id, relation, Operation.CREATE, lsn, tuple(id, relation, in), null));
    }

    /**
     * An update carries the old key ('K') or the whole old row ('O', REPLICA IDENTITY FULL) when the key changed or
     * the identity is full; a changed key becomes a delete of the old key that names the new one, then an insert,
     * as Debezium sends it (with the whole new row as the new key: the target's primary key picks its columns).
     */
    private List<RowChange> update(String id, long lsn, ByteBuffer in) {
        Relation relation = known(id, in.getInt());
        char kind = (char) in.get();
        Map<String, FieldValue> old = null;
        if (kind == 'K' || kind == 'O') {
            old = tuple(id, relation, in);
            kind = (char) in.get();
        }
        if (kind != 'N') {
            throw new BadEventException(id, "pgoutput update without a new row");
        }
        Map<String, FieldValue> row = tuple(id, relation, in);
        if (old != null && keyChanged(relation, old, row)) {
            // the new key is read from the new row by the target's primary key, like the old one from the old row
            return List.of(change(id, relation, Operation.DELETE, lsn, old, row),
                    change(id, relation, Operation.CREATE, lsn, row, null));
        }
        return List.of(change(id, relation, Operation.UPDATE, lsn, row, null));
    }

    private List<RowChange> delete(String id, long lsn, ByteBuffer in) {
        Relation relation = known(id, in.getInt());
        char kind = (char) in.get();
        if (kind != 'K' && kind != 'O') {
            throw new BadEventException(id, "pgoutput delete without the old key");
        }
        return List.of(change(id, relation, Operation.DELETE, lsn, tuple(id, relation, in), null));
    }

    private List<RowChange> truncate(String id, long lsn, ByteBuffer in) {
        int count = in.getInt();
        in.get(); // CASCADE / RESTART IDENTITY: the target truncates only what the source names
        List<RowChange> changes = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Relation relation = known(id, in.getInt());
            changes.add(change(id, relation, Operation.TRUNCATE, lsn, Map.of(), null));
        }
        return changes;
    }

    private RowChange change(String id, Relation relation, Operation op, long lsn, Map<String, FieldValue> row,
            Map<String, FieldValue> newKey) {
        return new RowChange(id, relation.table(), op, new Position(transactionCommit, lsn), row, newKey, commitTime,
                ValueEncoding.POSTGRES_TEXT);
    }

    /** REPLICA IDENTITY FULL flags every column: then any change counts, and the reader compares the target's keys. */
    private static boolean keyChanged(Relation relation, Map<String, FieldValue> old, Map<String, FieldValue> row) {
        for (Column column : relation.columns()) {
            FieldValue after = row.get(column.name());
            if (column.key() && !after.unavailable() && !Objects.equals(old.get(column.name()).json(), after.json())) {
                return true;
            }
        }
        return false;
    }

    /** TupleData: per column 'n' (NULL), 'u' (unchanged TOASTed value, not sent) or 't' (text). */
    private static Map<String, FieldValue> tuple(String id, Relation relation, ByteBuffer in) {
        int count = in.getShort();
        if (count != relation.columns().size()) {
            throw new BadEventException(id, "pgoutput row of " + relation.table() + " has " + count
                    + " columns, its Relation message " + relation.columns().size());
        }
        Map<String, FieldValue> row = new LinkedHashMap<>(count * 2);
        for (Column column : relation.columns()) {
            char kind = (char) in.get();
            FieldValue value = switch (kind) {
                case 'n' -> FieldValue.of(null, null);
                case 'u' -> FieldValue.UNAVAILABLE;
                case 't' -> {
                    int length = in.getInt();
                    String text = new String(in.array(), in.position(), length, StandardCharsets.UTF_8);
                    in.position(in.position() + length);
                    yield FieldValue.of(TextNode.valueOf(text), null);
                }
                default -> throw new BadEventException(id, "pgoutput column kind '" + kind
                        + "' is not text (binary mode is not supported)");
            };
            row.put(column.name(), value);
        }
        return row;
    }

    private Relation known(String id, int relationId) {
        Relation relation = relations.get(relationId);
        if (relation == null) {
            throw new BadEventException(id, "pgoutput change of relation " + relationId + " before its Relation message");
        }
        return relation;
    }

    private static void expect(String id, ByteBuffer in, char tag) {
        char got = (char) in.get();
        if (got != tag) {
            throw new BadEventException(id, "pgoutput expected '" + tag + "', got '" + got + "'");
        }
    }

    private static String string(ByteBuffer in) {
        int start = in.position();
        int end = start;
        while (in.get(end) != 0) {
            end++;
        }
        in.position(end + 1);
        return new String(in.array(), start, end - start, StandardCharsets.UTF_8);
    }

    private static Instant time(long postgresMicros) {
        long micros = postgresMicros + POSTGRES_EPOCH_MICROS;
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000);
    }

    /** An LSN as PostgreSQL writes it: {@code 16/B374D848}. */
    public static String lsnText(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase() + "/" + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase();
    }
}
