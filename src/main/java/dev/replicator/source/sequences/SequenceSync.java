package dev.replicator.source.sequences;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import javax.sql.DataSource;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.annotation.JsonInclude;

import dev.replicator.apply.TargetTransactions;
import dev.replicator.decode.BadEventException;
import dev.replicator.decode.TableId;
import dev.replicator.observe.ReplicationMetrics;
import dev.replicator.route.TableMappings;

/**
 * Moves the target's sequences forward to where the source's are, so that after a cutover the target never hands out
 * a key the source has used. Only the sequences owned by columns of replicated tables (serial and identity columns),
 * each to the sequence owned by the same column of the target table, and only forward: a target sequence ahead of the
 * source's is left alone and reported. {@code setval} is not transactional in PostgreSQL; moving forward only makes
 * the order of syncs irrelevant, so each runs after the writes it follows have committed.
 */
public final class SequenceSync {

    private static final Logger LOG = Logger.getLogger(SequenceSync.class);

    private static final String OWNED_SQL = """
            SELECT sn.nspname, sc.relname, s.last_value, s.increment_by, tn.nspname, t.relname, a.attname
            FROM pg_class sc
            JOIN pg_namespace sn ON sn.oid = sc.relnamespace
            JOIN pg_sequences s ON s.schemaname = sn.nspname AND s.sequencename = sc.relname
            JOIN pg_depend d ON d.objid = sc.oid AND d.classid = 'pg_class'::regclass
                            AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
            JOIN pg_class t ON t.oid = d.refobjid
            JOIN pg_namespace tn ON tn.oid = t.relnamespace
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
            WHERE sc.relkind = 'S'
            ORDER BY 1, 2
            """;
    /**
     * The target's sequence and its last value. {@code pg_sequence_last_value} refuses a role that may not read the
     * sequence (where {@code pg_sequences} would show NULL, as for a sequence never used): a value that cannot be read
     * is never moved, so a sequence ahead is never moved back.
     */
    private static final String TARGET_SQL = """
            SELECT q.seq, pg_sequence_last_value(q.seq::regclass)
            FROM (SELECT pg_get_serial_sequence(?, ?) AS seq) q
            """;

    /**
     * One sequence: the source's and the target's, their values before, and what was done.
     *
     * @param outcome {@code moved} (forward, to the source's value), {@code ahead} (the target's is ahead: left
     *                alone), {@code equal}, {@code unused} (the source's has handed out nothing), {@code missing} (the
     *                target column owns no sequence), {@code refused} (the target role may not read or move it:
     *                {@code error} says why; left as it is)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Synced(String table, String column, String sourceSequence, String targetSequence, Long sourceValue,
            Long targetValue, String outcome, String error) {
    }

    private final DataSource source;
    private final DataSource target;
    private final TableMappings mappings;
    private final ReplicationMetrics metrics;

    public SequenceSync(DataSource source, DataSource target, TableMappings mappings, ReplicationMetrics metrics) {
        this.source = source;
        this.target = target;
        this.mappings = mappings;
        this.metrics = metrics;
    }

    /** Syncs every sequence owned by a replicated table; a database that cannot be reached is answered as such. */
    public List<Synced> run(String eventId) {
        List<Owned> owned;
        try (Connection connection = source.getConnection()) {
            owned = owned(connection);
        } catch (SQLException e) {
            throw TargetTransactions.answer(eventId, "source", "reading the source's sequences", e);
        }
        List<Synced> synced = new ArrayList<>();
        try (Connection connection = target.getConnection()) {
            connection.setAutoCommit(true);
            for (Owned sequence : owned) {
                Optional<TableMappings.Mapping> mapping = replicated(eventId, sequence.table());
                if (mapping.isPresent() && !mapping.get().excludedColumns().contains(sequence.column())) {
                    synced.add(sync(connection, sequence, mapping.get().target()));
                }
            }
        } catch (SQLException e) {
            throw TargetTransactions.answer(eventId, "target", "moving the target's sequences forward", e);
        }
        for (Synced one : synced) {
            if (one.outcome().equals("refused")) {
                LOG.warnf("sequence %s of the target was not synced: %s", one.table() + "." + one.column(), one.error());
            }
            if (one.outcome().equals("moved") || one.outcome().equals("ahead") || one.outcome().equals("refused")) {
                metrics.sequenceSynced(one.targetSequence() != null ? one.targetSequence()
                        : one.table() + "." + one.column(), one.outcome());
            }
            if (one.outcome().equals("ahead")) {
                LOG.infof("sequence %s of the target is ahead of the source's %s (%d > %d): left alone",
                        one.targetSequence(), one.sourceSequence(), one.targetValue(), one.sourceValue());
            } else if (one.outcome().equals("moved")) {
                LOG.debugf("sequence %s moved forward to %d", one.targetSequence(), one.sourceValue());
            }
        }
        return synced;
    }

    /**
     * The mapping of a replicated table, checked as events' tables are: never one of replicator's own tables or a
     * system schema's, even under allow-all-tables (a source that is also the target holds replicator's own).
     */
    private Optional<TableMappings.Mapping> replicated(String eventId, TableId table) {
        if (mappings.lookup(table).isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(mappings.resolve(eventId, table));
        } catch (BadEventException e) {
            return Optional.empty();
        }
    }

    private record Owned(String sequence, Long lastValue, long increment, TableId table, String column) {
    }

    private static List<Owned> owned(Connection source) throws SQLException {
        List<Owned> owned = new ArrayList<>();
        try (PreparedStatement statement = source.prepareStatement(OWNED_SQL);
                ResultSet rs = statement.executeQuery()) {
            while (rs.next()) {
                long last = rs.getLong(3);
                Long lastValue = rs.wasNull() ? null : last;
                owned.add(new Owned(new TableId(rs.getString(1), rs.getString(2)).toString(), lastValue,
                        rs.getLong(4), new TableId(rs.getString(5), rs.getString(6)), rs.getString(7)));
            }
        }
        return owned;
    }

    private static Synced sync(Connection target, Owned sequence, TableId table) throws SQLException {
        String targetSequence;
        Long targetValue;
        try (PreparedStatement statement = target.prepareStatement(TARGET_SQL)) {
            statement.setString(1, table.sql());
            statement.setString(2, sequence.column());
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                targetSequence = rs.getString(1);
                long value = rs.getLong(2);
                targetValue = rs.wasNull() ? null : value;
            }
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState()) || "42703".equals(e.getSQLState())) {
                targetSequence = null; // no such target table or column: nothing to move
                targetValue = null;
            } else if ("42501".equals(e.getSQLState())) {
                return refused(sequence, table, null, e);
            } else {
                throw e;
            }
        }
        String outcome;
        if (targetSequence == null) {
            outcome = "missing";
        } else if (sequence.lastValue() == null) {
            outcome = "unused";
        } else if (targetValue != null && targetValue.equals(sequence.lastValue())) {
            outcome = "equal";
        } else if (targetValue != null && (sequence.increment() > 0 ? targetValue > sequence.lastValue()
                : targetValue < sequence.lastValue())) {
            outcome = "ahead";
        } else {
            try (PreparedStatement setval = target.prepareStatement("SELECT setval(?::regclass, ?, true)")) {
                setval.setString(1, targetSequence);
                setval.setLong(2, sequence.lastValue());
                setval.execute();
            } catch (SQLException e) {
                if (!"42501".equals(e.getSQLState())) {
                    throw e;
                }
                return refused(sequence, table, targetSequence, e);
            }
            outcome = "moved";
        }
        return new Synced(table.toString(), sequence.column(), sequence.sequence(), targetSequence,
                sequence.lastValue(), targetValue, outcome, null);
    }

    /** A sequence the target role may not read or move: reported with PostgreSQL's reason, the others go on. */
    private static Synced refused(Owned sequence, TableId table, String targetSequence, SQLException e) {
        return new Synced(table.toString(), sequence.column(), sequence.sequence(), targetSequence,
                sequence.lastValue(), null, "refused", TargetTransactions.withoutValues(e));
    }
}
