package dev.replicator.decode;

import java.time.Instant;
import java.util.List;

/** What one pgoutput message means to a reader of the slot: a transaction's bounds, its changes, or nothing. */
public sealed interface PgOutputMessage {

    /** A transaction starts; its changes follow, then its {@link Commit}. */
    record Begin(long finalLsn, Instant commitTime, long xid) implements PgOutputMessage {
    }

    /** The transaction ends; {@code endLsn} is where the slot can be confirmed once its changes are committed. */
    record Commit(long commitLsn, long endLsn, Instant commitTime) implements PgOutputMessage {
    }

    /** Row changes (one, or two for a key change) or the truncates of one Truncate message. */
    record Changes(List<RowChange> changes) implements PgOutputMessage {
    }

    /** A Relation message: what a table's columns are from here on (sent again after the table changed). */
    record RelationSeen(PgOutputDecoder.Relation relation) implements PgOutputMessage {
    }

    /** A message that changes nothing on the target (Type, Origin, logical decoding message). */
    record Other(char tag) implements PgOutputMessage {
    }
}
