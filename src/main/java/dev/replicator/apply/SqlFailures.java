package dev.replicator.apply;

import java.sql.SQLException;

/** Kept for callers not yet moved to {@link TargetTransactions}, which holds the SQLSTATE table now. */
public final class SqlFailures {

    private SqlFailures() {
    }

    public static RuntimeException answer(String eventId, String database, String doing, SQLException e) {
        return TargetTransactions.answer(eventId, database, doing, e);
    }

    public static String withoutValues(SQLException e) {
        return TargetTransactions.withoutValues(e);
    }
}
