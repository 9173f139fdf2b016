package dev.replicator.apply;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import dev.replicator.route.TargetChange;
import dev.replicator.schema.SchemaChange;

/**
 * Makes the additions to the target's schema that changes count on ({@code replicator.schema.evolution=add}) at the
 * start of the transaction that writes them, so no change is ever written to a half-made schema and a rolled-back
 * write leaves no addition behind. Each addition is made under a transaction-scoped advisory lock on what it makes,
 * after a second look: of two writers that need the same column, the second finds it there.
 */
public final class SchemaApplier {

    /** Does nothing: no change counts on an addition. */
    public static final SchemaApplier NONE = new SchemaApplier(change -> {
    });

    private final Consumer<SchemaChange> committed;
    private final Consumer<SchemaChange> foundMade;

    /** @param committed told of each addition once the transaction that made it committed (logs, metrics, caches) */
    public SchemaApplier(Consumer<SchemaChange> committed) {
        this(committed, change -> {
        });
    }

    /**
     * @param foundMade told of an addition another writer (or another replicator) made first, when it is found made:
     *                  it is committed already, so what waited for it (a plan, a cached catalog) can be dropped
     */
    public SchemaApplier(Consumer<SchemaChange> committed, Consumer<SchemaChange> foundMade) {
        this.committed = committed;
        this.foundMade = foundMade;
    }

    /** The additions the changes count on, made in order; returns those this transaction made. */
    public List<SchemaChange> apply(Connection connection, List<TargetChange> changes) throws SQLException {
        Map<SchemaChange, TargetChange> pending = new LinkedHashMap<>();
        for (TargetChange change : changes) {
            for (SchemaChange addition : change.table().pending()) {
                pending.putIfAbsent(addition, change);
            }
        }
        if (pending.isEmpty()) {
            return List.of();
        }
        List<SchemaChange> made = new ArrayList<>();
        for (Map.Entry<SchemaChange, TargetChange> entry : pending.entrySet()) {
            try {
                make(connection, entry.getKey(), made);
            } catch (SQLException e) {
                // the first change that needs it answers for it (a missing privilege: 422 for that request alone)
                throw new FailedChangeException(entry.getValue(), e);
            }
        }
        return made;
    }

    /** Makes the additions in order, each once (for jobs that copy rows, in a transaction of their own). */
    public List<SchemaChange> applyAll(Connection connection, List<SchemaChange> additions) throws SQLException {
        List<SchemaChange> made = new ArrayList<>();
        for (SchemaChange addition : additions) {
            make(connection, addition, made);
        }
        return made;
    }

    /** Under the addition's lock, a second look; then makes it, adding it to {@code made}, unless it is there. */
    private void make(Connection connection, SchemaChange addition, List<SchemaChange> made) throws SQLException {
        lock(connection, addition.lockKey());
        if (addition.done(connection)) {
            foundMade.accept(addition);
            return;
        }
        run(connection, addition.statements());
        made.add(addition);
    }

    /** Ends the additions this transaction made, last before its commit ({@link SchemaChange#closing()}). */
    public void close(Connection connection, List<SchemaChange> made) throws SQLException {
        if (made.isEmpty()) {
            return;
        }
        for (SchemaChange addition : made) {
            run(connection, addition.closing());
        }
    }

    /** After the commit of the transaction that made them. */
    public void committed(List<SchemaChange> made) {
        made.forEach(committed);
    }

    private static void run(Connection connection, List<String> statements) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            for (String ddl : statements) {
                statement.execute(ddl);
            }
        }
    }

    private static void lock(Connection connection, String key) throws SQLException {
        try (PreparedStatement lock = connection.prepareStatement(
                "SELECT pg_advisory_xact_lock(hashtextextended('replicator.schema/' || ?, 0))")) {
            lock.setString(1, key);
            lock.execute();
        }
    }
}
