package dev.replicator.convert;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

import org.postgresql.PGConnection;

/**
 * The session settings that change how PostgreSQL prints a value as text (or reads it back), each pinned to one value
 * wherever replicator makes or reads such text: on every target connection, where row keys become the text that
 * positions are recorded under and where values are read as text input, and on the source sessions that print rows
 * (backfill, verify, refresh) or decode the slot (pull). Otherwise the text would follow the instance (pgjdbc sends
 * the JVM's time zone) or the servers' defaults, and one row would get two identities, or a value would land as
 * another.
 * <ul>
 * <li>{@code TimeZone}: timestamptz output, and input without an offset;
 * <li>{@code DateStyle}: date and timestamp output, and the field order of ambiguous input;
 * <li>{@code IntervalStyle}: interval output, and the sign rules of interval input;
 * <li>{@code extra_float_digits}: float4/float8 output (3: the shortest text that reads back exactly);
 * <li>{@code bytea_output}: bytea output;
 * <li>{@code lc_monetary}: money output and input.
 * </ul>
 * Nothing else of the built-in types prints differently by setting ({@code client_encoding} is always UTF8 with the
 * driver). {@code search_path} is left as configured: replicator names every table with its schema.
 */
public final class TextSettings {

    /** Setting to the value it is pinned to, as SQL literals. */
    public static final Map<String, String> PINNED;

    static {
        Map<String, String> pinned = new LinkedHashMap<>();
        pinned.put("TimeZone", "'UTC'");
        pinned.put("DateStyle", "'ISO, MDY'");
        pinned.put("IntervalStyle", "'postgres'");
        pinned.put("extra_float_digits", "3");
        pinned.put("bytea_output", "'hex'");
        pinned.put("lc_monetary", "'C'");
        PINNED = Collections.unmodifiableMap(pinned);
    }

    /** The pins for a session, one statement. */
    public static final String SET = statement("SET ");

    /** The pins for one transaction (they end with it), one statement. */
    public static final String SET_LOCAL = statement("SET LOCAL ");

    /** Physical connections already pinned for their whole session. */
    private static final Map<Object, Boolean> PINNED_SESSIONS = Collections.synchronizedMap(new WeakHashMap<>());

    private TextSettings() {
    }

    private static String statement(String set) {
        return String.join("; ", PINNED.entrySet().stream().map(e -> set + e.getKey() + " = " + e.getValue())
                .toList());
    }

    /** The pins for one transaction, statement by statement. */
    public static List<String> setLocal() {
        return PINNED.entrySet().stream().map(e -> "SET LOCAL " + e.getKey() + " = " + e.getValue()).toList();
    }

    /**
     * Pins the settings for the session of this connection, once per physical connection (a pooled connection keeps
     * them): every transaction on it then prints and reads text alike, whatever the instance or the server's defaults.
     */
    public static Connection pin(Connection connection) throws SQLException {
        Object session = connection.isWrapperFor(PGConnection.class) ? connection.unwrap(PGConnection.class)
                : connection;
        if (PINNED_SESSIONS.containsKey(session)) {
            return connection;
        }
        boolean autoCommit = connection.getAutoCommit();
        try (Statement statement = connection.createStatement()) {
            // outside a transaction, so that a rollback of the caller's first transaction cannot undo it
            if (!autoCommit) {
                connection.setAutoCommit(true);
            }
            statement.execute(SET);
        } finally {
            if (!autoCommit) {
                connection.setAutoCommit(false);
            }
        }
        PINNED_SESSIONS.put(session, Boolean.TRUE);
        return connection;
    }
}
