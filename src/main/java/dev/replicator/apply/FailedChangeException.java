package dev.replicator.apply;

import java.sql.SQLException;

import dev.replicator.route.TargetChange;

/** A statement failed while writing this change: the failure, and the change it names. */
final class FailedChangeException extends SQLException {

    private final transient TargetChange change;
    private final SQLException cause;

    FailedChangeException(TargetChange change, SQLException cause) {
        super(cause.getMessage(), cause.getSQLState(), cause);
        this.change = change;
        this.cause = cause;
    }

    TargetChange change() {
        return change;
    }

    SQLException cause() {
        return cause;
    }
}
