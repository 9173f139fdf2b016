package dev.replicator.apply;

import java.sql.SQLException;

/**
 * The target would not keep a rejected event for a reason retrying cannot fix (a constraint or trigger on the rejected
 * table, a missing privilege). The event is then answered as it would be without parking, with its own status (400
 * or 422) and reason, so that the sender dead-letters it rather than redelivering it forever; never 503.
 */
public class NotKeptException extends RuntimeException {

    private final transient ParkedEvent event;

    NotKeptException(ParkedEvent event, SQLException cause) {
        super(event.reason() + (event.batchIndex() == null ? "; " : "; batch element " + event.batchIndex() + " ")
                + "not kept for replay: the target refused to store it: "
                + TargetTransactions.withoutValues(cause)
                + (cause.getSQLState() == null ? "" : " (SQLSTATE " + cause.getSQLState() + ")"), cause);
        this.event = event;
    }

    /** The event's own answer: 400 or 422. */
    public int status() {
        return event.status();
    }

    public ParkedEvent event() {
        return event;
    }
}
