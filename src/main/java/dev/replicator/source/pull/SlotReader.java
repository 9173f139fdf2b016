package dev.replicator.source.pull;

import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import dev.replicator.apply.TargetUnavailableException;
import dev.replicator.decode.BadEventException;
import dev.replicator.decode.Operation;
import dev.replicator.decode.PgOutputDecoder;
import dev.replicator.decode.PgOutputMessage;
import dev.replicator.decode.RowChange;
import dev.replicator.observe.ReplicationMetrics;
import dev.replicator.route.RefusedValueException;
import dev.replicator.route.TableRouter;
import dev.replicator.route.TargetChange;
import dev.replicator.schema.SourceTypes;

/**
 * The reading half of a pull: peeks the slot on a thread of its own, decodes and routes its messages and hands them to
 * the writer as {@link PullStep}s, in slot order, through a short queue. So the next group is read while the last one
 * is written; the writer alone writes, commits and confirms, in commit order. The queue holds at most
 * {@value #QUEUED} steps: with the group being read and the one being written, memory holds about four groups.
 */
final class SlotReader {

    /** Steps waiting for the writer. */
    static final int QUEUED = 2;

    private final LogicalSlot slot;
    private final SlotSettings settings;
    private final TableRouter router;
    private final ReplicationMetrics metrics;
    private final boolean applyTruncate;
    private final String eventId;
    private final long maxChanges;
    private final long deadline;
    private final int groupChanges;
    private final PgOutputDecoder decoder;
    /** Why money cannot be copied between these servers, or null when it can ({@link MoneyFormats}). */
    private final String moneyDiffers;
    /** Changes read (and truncates skipped) in this pull, across peeks; read by the writer after a peek ends. */
    private long changesRead;
    private long skipped;

    SlotReader(LogicalSlot slot, SlotSettings settings, TableRouter router, ReplicationMetrics metrics,
            boolean applyTruncate, String eventId, long maxChanges, long deadline, String moneyDiffers) {
        this.slot = slot;
        this.settings = settings;
        this.router = router;
        this.metrics = metrics;
        this.applyTruncate = applyTruncate;
        this.eventId = eventId;
        this.maxChanges = maxChanges;
        this.deadline = deadline;
        this.groupChanges = Math.max(1, settings.groupChanges());
        this.decoder = new PgOutputDecoder("slot " + settings.slot());
        this.moneyDiffers = moneyDiffers;
    }

    /** maxChanges reached: no further peek. */
    boolean full() {
        return maxChanges > 0 && changesRead >= maxChanges;
    }

    long skipped() {
        return skipped;
    }

    /** Starts one reading from the slot's confirmed position; the steps come from the returned peek. */
    Peek start(SlotReading reading, long confirmedLsn) {
        decoder.startAfter(confirmedLsn);
        Peek peek = new Peek(reading);
        Thread thread = new Thread(peek::read, "pull-" + settings.slot());
        thread.setDaemon(true);
        peek.thread = thread;
        thread.start();
        return peek;
    }

    /** One peek being read. The writer takes its steps until {@link PullStep.End}, and closes it in any case. */
    final class Peek implements AutoCloseable {

        private final SlotReading reading;
        private final BlockingQueue<PullStep> steps = new ArrayBlockingQueue<>(QUEUED);
        private volatile boolean cancelled;
        private Thread thread;
        private List<TargetChange> transaction = new ArrayList<>();
        private long transactionStart;
        private boolean large;
        private List<PullStep.Transaction> group = new ArrayList<>();
        /** Shapes of the tables of this peek, by Relation message (schema evolution). */
        private final java.util.Map<PgOutputDecoder.Relation, RelationShape> shapes = new java.util.HashMap<>();
        private int groupSize;
        private Instant lastCommitTime;
        private boolean stoppedEarly;

        Peek(SlotReading reading) {
            this.reading = reading;
        }

        /** The next step, waiting for it. */
        PullStep next() {
            try {
                return steps.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TargetUnavailableException("pull of slot " + settings.slot() + " interrupted", null);
            }
        }

        /** Stops the reading (if it still runs) and waits for it, so that the peek's connection is back. */
        @Override
        public void close() {
            cancelled = true;
            steps.clear();
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void read() {
            try {
                long messages = reading.read(this::accept, () -> cancelled);
                sendGroup();
                put(new PullStep.End(messages, stoppedEarly));
            } catch (Stopped | Cancelled e) {
                // the writer has what it needs, or wants nothing more
            } catch (SQLException | RuntimeException e) {
                try {
                    put(new PullStep.Failed(e));
                } catch (Cancelled ignored) {
                    // the writer stopped first
                }
            }
        }

        private boolean accept(long lsn, byte[] data) {
            if (cancelled) {
                throw new Cancelled();
            }
            PgOutputMessage message;
            try {
                message = decoder.decode(lsn, data);
            } catch (BadEventException e) {
                throw stop(PgOutputDecoder.lsnText(lsn), e);
            }
            if (message instanceof PgOutputMessage.RelationSeen seen && router.evolves()) {
                checkTypes(lsn, seen.relation());
            } else if (message instanceof PgOutputMessage.Begin) {
                transaction = new ArrayList<>();
                transactionStart = lsn;
            } else if (message instanceof PgOutputMessage.Changes changes) {
                for (RowChange change : changes.changes()) {
                    route(change);
                }
                if (transaction.size() >= groupChanges) {
                    // too large to hold: the whole transactions before it go first, then it goes in pieces
                    sendGroup();
                    put(new PullStep.Piece(transaction, transactionStart));
                    transaction = new ArrayList<>();
                    large = true;
                }
            } else if (message instanceof PgOutputMessage.Commit commit) {
                lastCommitTime = commit.commitTime();
                if (large) {
                    if (!transaction.isEmpty()) {
                        put(new PullStep.Piece(transaction, transactionStart));
                    }
                    put(new PullStep.LargeCommit(commit.endLsn(), commit.commitTime()));
                    large = false;
                } else {
                    group.add(new PullStep.Transaction(transaction, transactionStart, commit.endLsn()));
                    groupSize += transaction.size();
                    if (groupSize >= groupChanges) {
                        sendGroup();
                    }
                }
                transaction = new ArrayList<>();
                if (System.nanoTime() >= deadline || full()) {
                    stoppedEarly = true;
                    return false;
                }
            }
            return true;
        }

        private void route(RowChange change) {
            changesRead++;
            if (change.op() == Operation.TRUNCATE && !applyTruncate) {
                // replicator.apply-truncate=false: counted as skipped, never written, as pushed truncates are
                skipped++;
                metrics.record(ReplicationMetrics.Outcome.SKIPPED, change.table().toString(), change.op().code());
                return;
            }
            TargetChange routed;
            try {
                routed = router.evolves() ? router.route(change, shapeOf(change)) : router.route(change);
            } catch (BadEventException | RefusedValueException e) {
                String id = change.eventId();
                throw stop(id.substring(id.lastIndexOf('@') + 1), e);
            } catch (SQLException e) {
                throw TargetUnavailableException.catalogUnreadable(eventId, e);
            }
            if (moneyDiffers != null) {
                for (String column : routed.values().keySet()) {
                    if ("money".equals(routed.table().column(column).baseType())) {
                        String id = change.eventId();
                        throw stop(id.substring(id.lastIndexOf('@') + 1), new RefusedValueException(id, "column \""
                                + column + "\" (money) of " + routed.table().id() + ": " + moneyDiffers));
                    }
                }
            }
            if (routed.movesToItsOwnKey()) {
                return; // an update under REPLICA IDENTITY FULL that kept the target's key: the insert after it is it
            }
            transaction.add(routed);
        }

        /** The shape of the change's table as its Relation message gives it, for what the target lacks. */
        private RelationShape shapeOf(RowChange change) {
            PgOutputDecoder.Relation relation = decoder.relationOf(change.table());
            return shapes.computeIfAbsent(relation, r -> new RelationShape(r, slot.source()));
        }

        /**
         * A Relation message says what a table's columns are from here on: a column whose type changed to one the
         * target cannot take stops the pull here (422), before any change made with the new type.
         */
        private void checkTypes(long lsn, PgOutputDecoder.Relation relation) {
            List<String> names = new ArrayList<>();
            int[] oids = new int[relation.columns().size()];
            int[] typmods = new int[oids.length];
            for (int i = 0; i < oids.length; i++) {
                PgOutputDecoder.Column column = relation.columns().get(i);
                names.add(column.name());
                oids[i] = column.typeOid();
                typmods[i] = column.typmod();
            }
            String id = "slot " + settings.slot() + "@" + PgOutputDecoder.lsnText(lsn);
            try (java.sql.Connection source = slot.source().getConnection()) {
                router.checkTypes(id, relation.table(), SourceTypes.formatTypes(source, names, oids, typmods));
            } catch (RefusedValueException e) {
                throw stop(PgOutputDecoder.lsnText(lsn), e);
            } catch (SQLException e) {
                throw TargetUnavailableException.catalogUnreadable(eventId, e);
            }
        }

        private void sendGroup() {
            if (group.isEmpty()) {
                return;
            }
            put(new PullStep.Group(group, lastCommitTime));
            group = new ArrayList<>();
            groupSize = 0;
        }

        /** What came before is handed on; then the stop, and the peek ends. */
        private Stopped stop(String at, RuntimeException cause) {
            sendGroup(); // nothing while a large transaction is read: its pieces are rolled back
            put(new PullStep.Stop(at, cause));
            return new Stopped();
        }

        /** A source that lost its connection meanwhile fails the next read, which says so. */
        private void keepAlive() {
            try {
                reading.waiting();
            } catch (SQLException e) {
                // the next read fails with the source's own error
            }
        }

        private void put(PullStep step) {
            try {
                while (!steps.offer(step, 100, TimeUnit.MILLISECONDS)) {
                    if (cancelled) {
                        throw new Cancelled();
                    }
                    keepAlive();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Cancelled();
            }
        }
    }

    /** Ends the peek after a {@link PullStep.Stop}. */
    private static final class Stopped extends RuntimeException {
        Stopped() {
            super(null, null, false, false);
        }
    }

    /** Ends the peek when the writer no longer wants it. */
    private static final class Cancelled extends RuntimeException {
        Cancelled() {
            super(null, null, false, false);
        }
    }
}
