package dev.replicator.apply;

import java.sql.SQLException;

/**
 * The change could not be applied now but may succeed later: the target is unreachable, busy, or a change this one
 * depends on has not arrived yet. Nothing was committed. Answered with a retryable status.
 */
public class TargetUnavailableException extends RuntimeException {

    private final int status;

    public TargetUnavailableException(String problem, Throwable cause) {
        this(problem, cause, 503);
    }

    public TargetUnavailableException(String problem, Throwable cause, int status) {
        super(problem, cause);
        this.status = status;
    }

    /**
     * The target's catalog could not be read (to check or route an event's table): answered as {@link TargetTransactions}
     * says (503 for an unreachable target, 422 for a missing privilege), row contents left out.
     */
    public static RuntimeException catalogUnreadable(String eventId, SQLException e) {
        return TargetTransactions.answer(eventId, "target", "reading its catalog", e);
    }

    /** 503 for database trouble, 409 for a change that must wait for another one. */
    public int status() {
        return status;
    }
}
