package dev.replicator.source.pull;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import javax.sql.DataSource;

/**
 * Whether a money value means the same amount on both servers. PostgreSQL stores money as a count of the currency's
 * smallest unit, which {@code lc_monetary} names: with other monetary conventions on the two servers (another number of
 * fractional digits, another currency) the same count is another amount. Pull copies the count exactly (both sessions
 * print and read money under {@code lc_monetary = 'C'}), so it refuses money columns when the servers' own conventions
 * differ, instead of writing a different value.
 */
final class MoneyFormats {

    /** An amount printed in each server's own conventions (the database's or role's default lc_monetary). */
    private static final String SAMPLE = "BEGIN; SET LOCAL lc_monetary TO DEFAULT;"
            + " SELECT 12345.67::numeric::money::text, current_setting('lc_monetary'); COMMIT";

    private MoneyFormats() {
    }

    /** Null when both servers print money alike; otherwise why a money value cannot be copied. */
    static String difference(DataSource source, DataSource target) throws SQLException {
        String[] onSource = sample(source);
        String[] onTarget = sample(target);
        return compare(onSource, onTarget);
    }

    static String compare(String[] onSource, String[] onTarget) {
        if (onSource[0].equals(onTarget[0])) {
            return null;
        }
        return "the source writes money as '" + onSource[0] + "' (lc_monetary '" + onSource[1] + "') and the target as '"
                + onTarget[0] + "' (lc_monetary '" + onTarget[1] + "'): a money value would land as another amount;"
                + " give both servers the same lc_monetary";
    }

    /** {amount as printed, lc_monetary}. */
    private static String[] sample(DataSource db) throws SQLException {
        try (Connection connection = db.getConnection(); Statement statement = connection.createStatement()) {
            connection.setAutoCommit(true);
            statement.execute(SAMPLE);
            while (!statement.getMoreResults() && statement.getUpdateCount() != -1) {
                // past BEGIN and SET to the SELECT
            }
            try (ResultSet rs = statement.getResultSet()) {
                rs.next();
                return new String[] { rs.getString(1), rs.getString(2) };
            }
        }
    }
}
