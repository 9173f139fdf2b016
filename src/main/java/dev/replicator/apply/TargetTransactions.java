package dev.replicator.apply;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import org.jboss.logging.Logger;
import org.postgresql.util.PSQLException;

import dev.replicator.convert.TextSettings;
import dev.replicator.decode.TableId;
import dev.replicator.route.TargetChange;

/**
 * The one failure policy for the databases: how a target transaction is run (retried, rolled back) and what a
 * failed statement is answered with.
 * <p>
 * A transaction is retried a few times after what a retry can fix: serialization failures and deadlocks (after a
 * short pause), dropped connections (at once, on a new connection: the pool discards the broken one), and, once,
 * a table or column that went away (42P01, 42703) after its table's description is read again. Everything else is
 * rolled back and answered.
 * <p>
 * The answer comes from one table from SQLSTATE to status, used wherever the target or the source is read or
 * written. What retrying cannot fix (the data, a missing privilege, an unsupported feature) is answered 422 and
 * dead-lettered; what a retry can fix (connections, locks, serialization, resource shortage) is answered 503 and
 * redelivered. A permanent error must never be 503: the broker would redeliver it forever.
 */
public final class TargetTransactions {

    private static final Logger LOG = Logger.getLogger(TargetTransactions.class);

    /** Attempts of one transaction, the first included. */
    public static final int ATTEMPTS = 4;

    /** The work of one transaction, run on its connection; it must not commit or roll back itself. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    /**
     * A writer's own way around a failure, asked before the failure is retried or answered: true when the next
     * attempt is written differently (and should be made), false to leave the failure to the policy.
     */
    @FunctionalInterface
    public interface Fallback {
        boolean writeDifferently(SQLException failure);
    }

    private static final Fallback NO_FALLBACK = failure -> false;

    private final DataSource target;
    private final TargetSchema schema;
    private final Consumer<TableId> catalogInvalidator;

    /**
     * @param catalogInvalidator forgets a table's description, so the next use reads the catalog again
     */
    public TargetTransactions(DataSource target, TargetSchema schema, Consumer<TableId> catalogInvalidator) {
        this.target = target;
        this.schema = schema;
        this.catalogInvalidator = catalogInvalidator;
    }

    /** As {@link #run(TableId, Work, Fallback)} without a fallback. */
    public <T> T run(TableId table, Work<T> work) throws SQLException {
        return run(table, work, NO_FALLBACK);
    }

    /**
     * Runs the work in one transaction on a connection of its own and returns its result after the commit. Retries as
     * the policy says; a failure that stays is rolled back and thrown for the caller to answer ({@link #answer}).
     * A {@link RuntimeException} of the work is rolled back and thrown at once.
     *
     * @param table the table the work writes, read again after a 42P01/42703 (null: only the table a
     *              {@link FailedChangeException} names)
     */
    public <T> T run(TableId table, Work<T> work, Fallback fallback) throws SQLException {
        boolean lookedAgain = false;
        for (int attempt = 1;; attempt++) {
            try {
                return once(work);
            } catch (SQLException e) {
                String state = sqlState(e);
                if (retryable(state) && attempt < ATTEMPTS) {
                    LOG.debugf("retrying after SQLSTATE %s (attempt %d)", state, attempt);
                    if (state.startsWith("40")) {
                        pause(attempt); // let the other transaction finish; a dropped connection needs no wait
                    }
                    continue;
                }
                if (fallback.writeDifferently(e)) {
                    attempt--; // not a retry of the same thing
                    continue;
                }
                if ((state.equals("42P01") || state.equals("42703")) && !lookedAgain) {
                    // a table changed or replicator's own tables were dropped: look again, once
                    lookedAgain = true;
                    schema.forget();
                    TableId changed = e instanceof FailedChangeException failed ? failed.change().table().id() : table;
                    if (changed != null) {
                        catalogInvalidator.accept(changed);
                    }
                    continue;
                }
                throw e;
            }
        }
    }

    /**
     * A connection in a new transaction, for a caller that holds it open across several writes: not retried, the
     * caller answers its failures ({@link #answer(TargetChange, SQLException)}) and closes it.
     */
    Connection begin() throws SQLException {
        schema.ensure();
        Connection connection = target.getConnection();
        try {
            TextSettings.pin(connection);
            connection.setAutoCommit(false);
            return connection;
        } catch (SQLException e) {
            connection.close();
            throw e;
        }
    }

    private <T> T once(Work<T> work) throws SQLException {
        schema.ensure();
        try (Connection connection = target.getConnection()) {
            TextSettings.pin(connection);
            connection.setAutoCommit(false);
            try {
                T result = work.run(connection);
                connection.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(connection);
                throw e;
            }
        }
    }

    /**
     * The answer for a change write that failed for good (the change may be null when no single change caused it):
     * as {@link #answer(String, String, String, SQLException)}, naming the column of a value its type refuses, and
     * reading the table's description again when it changed.
     */
    public RuntimeException answer(TargetChange change, SQLException e) {
        if (kind(e) == Kind.TABLE_CHANGED && change != null) {
            // the table changed under us: read the catalog again on the next delivery
            catalogInvalidator.accept(change.table().id());
        }
        String doing = change == null ? "the transaction" : "writing " + change.table().id();
        String state = sqlState(e);
        String keptColumn = change != null && state.equals("23502") && change.op().isUpsert()
                && e instanceof PSQLException p && p.getServerErrorMessage() != null
                && change.kept().contains(p.getServerErrorMessage().getColumn())
                        ? p.getServerErrorMessage().getColumn() : null;
        if (keptColumn != null) {
            // a change that leaves a NOT NULL column out can only update its row: that row has not arrived yet
            return new TargetUnavailableException("event " + change.eventId() + ": row of " + change.table().id()
                    + " is not in the target yet and the event leaves out column " + Sql.quote(keptColumn)
                    + ", which cannot be null; it needs the change that created the row first", e, 409);
        }
        if (change != null && state.startsWith("22") && e.getMessage() != null && !e.getMessage().contains("column")) {
            // a value the column's type cannot take: name the column, since the message must lose the value
            String column = ValueDiagnosis.columnAtFault(target, change);
            doing += column == null ? "" : ", " + column;
        }
        return answer(change == null ? null : change.eventId(), "target", doing, e);
    }

    /** Serialization failures, deadlocks and dropped connections: worth another attempt of the transaction. */
    public static boolean isTransient(SQLException e) {
        return retryable(sqlState(e));
    }

    private static boolean retryable(String state) {
        return state.equals("40001") || state.equals("40P01") || state.startsWith("08") || state.equals("57P01");
    }

    /** The target refuses this change (422), or it needs a row another change has not created yet (409). */
    public static boolean refusesTheChange(RuntimeException answer) {
        return answer instanceof RejectedChangeException
                || answer instanceof TargetUnavailableException unavailable && unavailable.status() == 409;
    }

    private static String sqlState(SQLException e) {
        return e.getSQLState() == null ? "" : e.getSQLState();
    }

    private static void rollbackQuietly(Connection connection) {
        try {
            connection.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; the pool discards it and the transaction is gone with it
        }
    }

    private static void pause(int attempt) {
        try {
            Thread.sleep(10L * attempt * attempt + (long) (Math.random() * 20));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** What a failure means for the request. */
    public enum Kind {
        /** The statement and its data can never succeed: 422. */
        REFUSED(422),
        /** The database user lacks a privilege: 422, naming the grant. */
        NOT_PERMITTED(422),
        /** The database does not support what the statement asks of this table: 422, naming the feature. */
        UNSUPPORTED(422),
        /** The table or a column went away after it was looked up: 503, the redelivery looks again. */
        TABLE_CHANGED(503),
        /** The database cannot take it now (connection, lock, serialization, resources, shutdown): 503. */
        TRANSIENT(503);

        private final int status;

        Kind(int status) {
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    /** By SQLSTATE class (the first two characters), PostgreSQL's list of classes. */
    private static final Map<String, Kind> BY_CLASS = Map.ofEntries(
            Map.entry("08", Kind.TRANSIENT), // connection exception
            Map.entry("09", Kind.REFUSED), // triggered action exception
            Map.entry("0A", Kind.UNSUPPORTED), // feature not supported
            Map.entry("0B", Kind.TRANSIENT), // invalid transaction initiation
            Map.entry("0F", Kind.REFUSED), // locator exception
            Map.entry("0L", Kind.NOT_PERMITTED), // invalid grantor
            Map.entry("0P", Kind.NOT_PERMITTED), // invalid role specification
            Map.entry("0Z", Kind.REFUSED), // diagnostics exception
            Map.entry("20", Kind.REFUSED), // case not found (a trigger's PL/pgSQL)
            Map.entry("21", Kind.REFUSED), // cardinality violation
            Map.entry("22", Kind.REFUSED), // data exception
            Map.entry("23", Kind.REFUSED), // integrity constraint violation
            Map.entry("24", Kind.TRANSIENT), // invalid cursor state
            Map.entry("25", Kind.TRANSIENT), // invalid transaction state (25006: a read-only standby, until failover)
            Map.entry("26", Kind.TRANSIENT), // invalid SQL statement name (a prepared statement a pooler lost)
            Map.entry("27", Kind.REFUSED), // triggered data change violation
            Map.entry("28", Kind.TRANSIENT), // invalid authorization: credentials are fixed without the event
            Map.entry("2B", Kind.REFUSED), // dependent privilege descriptors still exist
            Map.entry("2D", Kind.REFUSED), // invalid transaction termination
            Map.entry("2F", Kind.REFUSED), // SQL routine exception (a trigger)
            Map.entry("34", Kind.TRANSIENT), // invalid cursor name
            Map.entry("38", Kind.REFUSED), // external routine exception
            Map.entry("39", Kind.REFUSED), // external routine invocation exception
            Map.entry("3B", Kind.TRANSIENT), // savepoint exception
            Map.entry("3D", Kind.TRANSIENT), // invalid catalog name: the database is not there (yet)
            Map.entry("3F", Kind.TABLE_CHANGED), // invalid schema name
            Map.entry("40", Kind.TRANSIENT), // transaction rollback: serialization failure, deadlock
            Map.entry("42", Kind.REFUSED), // syntax error or access rule violation (42501, 42P01, 42703 below)
            Map.entry("44", Kind.REFUSED), // WITH CHECK OPTION violation
            Map.entry("53", Kind.TRANSIENT), // insufficient resources: disk full, out of memory, too many connections
            Map.entry("54", Kind.REFUSED), // program limit exceeded: key too large for its index, too many columns
            Map.entry("55", Kind.REFUSED), // object not in prerequisite state (55P03, 55006 below)
            Map.entry("57", Kind.TRANSIENT), // operator intervention: statement timeout, shutdown, restart
            Map.entry("58", Kind.TRANSIENT), // system error: I/O error
            Map.entry("72", Kind.TRANSIENT), // snapshot failure
            Map.entry("F0", Kind.TRANSIENT), // configuration file error
            Map.entry("HV", Kind.TRANSIENT), // foreign data wrapper error (the remote end)
            Map.entry("P0", Kind.REFUSED), // PL/pgSQL error: a trigger raised
            Map.entry("XX", Kind.TRANSIENT)); // internal error

    /** Single states that differ from their class. */
    private static final Map<String, Kind> BY_STATE = Map.of(
            "42501", Kind.NOT_PERMITTED, // insufficient privilege
            "42P01", Kind.TABLE_CHANGED, // undefined table
            "42703", Kind.TABLE_CHANGED, // undefined column
            "55P03", Kind.TRANSIENT, // lock not available
            "55006", Kind.TRANSIENT); // object in use

    /** Quoted text PostgreSQL puts after these words is a name (kept); any other quoted text may be a value. */
    private static final Pattern QUOTED = Pattern.compile("(\\S*)(\\s*)\"((?:[^\"]|\"\")*)\"");
    private static final Set<String> NAME_WORDS = Set.of("relation", "table", "constraint",
            "column", "index", "type", "schema", "encoding", "database", "role", "domain", "view", "sequence",
            "function", "operator", "trigger", "collation", "extension", "publication", "tablespace", "enum");
    private static final int MAX_MESSAGE = 240;

    /**
     * The answer for a SQLSTATE. Without one (the pool timed out, the driver lost the connection) it is transient;
     * so is a class PostgreSQL does not document, which the broker's retry limit dead-letters in the end.
     */
    public static Kind kind(String sqlState) {
        if (sqlState == null || sqlState.length() != 5) {
            return Kind.TRANSIENT;
        }
        Kind kind = BY_STATE.get(sqlState);
        if (kind != null) {
            return kind;
        }
        return BY_CLASS.getOrDefault(sqlState.substring(0, 2), Kind.TRANSIENT);
    }

    /**
     * As {@link #kind(String)}, except that an error that ended the session (severity FATAL or PANIC: the database
     * is not accepting connections, shut down, or refused the login) is transient whatever its class: it says
     * nothing about the statement, and another connection may succeed.
     */
    public static Kind kind(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof PSQLException p && p.getServerErrorMessage() != null
                    && p.getServerErrorMessage().getSeverity() != null
                    && (p.getServerErrorMessage().getSeverity().startsWith("FATAL")
                            || p.getServerErrorMessage().getSeverity().startsWith("PANIC"))) {
                return Kind.TRANSIENT;
            }
        }
        return kind(e.getSQLState());
    }

    /**
     * The exception to answer a failed statement with: {@link RejectedChangeException} (422) or
     * {@link TargetUnavailableException} (503).
     *
     * @param eventId  the event the statement served, or null
     * @param database "target" or "source"
     * @param doing    what was done, for the message ("writing public.orders")
     */
    public static RuntimeException answer(String eventId, String database, String doing, SQLException e) {
        String state = e.getSQLState();
        String prefix = eventId == null ? "" : "event " + eventId + ": ";
        String suffix = ": " + withoutValues(e) + (state == null ? "" : " (SQLSTATE " + state + ")");
        return switch (kind(e)) {
            case REFUSED -> new RejectedChangeException(eventId, prefix + database + " refused " + doing + suffix);
            case NOT_PERMITTED -> new RejectedChangeException(eventId, prefix + database + " refused " + doing
                    + ": permission denied; grant replicator's database user the privilege it needs" + suffix);
            case UNSUPPORTED -> new RejectedChangeException(eventId, prefix + database
                    + " does not support " + doing + " (feature not supported)" + suffix);
            case TABLE_CHANGED -> new TargetUnavailableException(prefix + database + " table changed " + doing
                    + suffix, e);
            case TRANSIENT -> new TargetUnavailableException(prefix + database + " database unavailable " + doing
                    + suffix, e);
        };
    }

    /**
     * PostgreSQL's primary message without the values it may quote ({@code value "77777777777" is out of range for
     * type integer}, {@code invalid input syntax for type integer: "abc"}): quoted text is kept only where it names a
     * relation, column, constraint, type ...; text after the first ": " is dropped. The detail, which holds whole
     * rows, is never used. One line, bounded length.
     */
    public static String withoutValues(SQLException e) {
        String message = e instanceof PSQLException p && p.getServerErrorMessage() != null
                ? p.getServerErrorMessage().getMessage()
                : e.getMessage();
        if (message == null) {
            return e.getClass().getSimpleName();
        }
        int newline = message.indexOf('\n');
        message = newline >= 0 ? message.substring(0, newline) : message;
        Matcher quoted = QUOTED.matcher(message);
        StringBuilder kept = new StringBuilder();
        while (quoted.find()) {
            String word = quoted.group(1).toLowerCase(Locale.ROOT);
            String replacement = NAME_WORDS.contains(word) ? quoted.group() : quoted.group(1) + quoted.group(2) + "\"...\"";
            quoted.appendReplacement(kept, Matcher.quoteReplacement(replacement));
        }
        quoted.appendTail(kept);
        message = kept.toString();
        int colon = message.indexOf(": ");
        if (colon >= 0) {
            message = message.substring(0, colon).stripTrailing();
        }
        message = message.replaceAll("\\p{Cntrl}", " ");
        return message.length() > MAX_MESSAGE ? message.substring(0, MAX_MESSAGE) + "..." : message;
    }
}
