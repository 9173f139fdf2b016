package dev.replicator.apply;

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

    /** 503 for database trouble, 409 for a change that must wait for another one. */
    public int status() {
        return status;
    }
}
