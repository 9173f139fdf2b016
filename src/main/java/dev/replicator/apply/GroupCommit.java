package dev.replicator.apply;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import org.jboss.logging.Logger;

import dev.replicator.route.TargetChange;

/**
 * Coalesces the changes of concurrent requests into shared target transactions. A request thread queues its changes
 * and waits; a few writer threads each take what is queued (up to a maximum number of changes, waiting for more only
 * while another group is being written, and at most a moment, longer while the writers wait for CPUs: see
 * {@link CpuContention}) and write it in one transaction with
 * {@link TargetWriter}, whose stable lock order holds across the whole group. Each request is answered only after
 * the commit that holds all of its changes, and a request stays one unit: when a change of one request makes the group
 * fail, that request gets the failure and the others are written again without it.
 * <p>
 * Changes in flight are capped: beyond the cap a request is refused at once with a retryable answer instead of
 * queueing without bound.
 */
public final class GroupCommit implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(GroupCommit.class);

    /**
     * @param writers            groups written at once, each on its own target connection
     * @param maxChanges         most changes in one group (a larger request is a group of its own)
     * @param maxWait            longest a group waits for more requests while other groups are being written
     * @param maxWaitCpuBound    the same while the writers mostly wait for a CPU, not for the target; never shorter
     *                           than {@code maxWait}
     * @param maxChangesInFlight changes admitted at once (queued or being written); a request alone is always admitted
     */
    public record Settings(int writers, int maxChanges, Duration maxWait, Duration maxWaitCpuBound,
            int maxChangesInFlight) {
        public Settings {
            if (maxWaitCpuBound.compareTo(maxWait) < 0) {
                maxWaitCpuBound = maxWait; // a longer max-wait set before this setting existed keeps its meaning
            }
        }
    }

    /** What happens to groups, for metrics. */
    public interface Listener {
        /** A group committed, holding this many requests and changes. */
        void committed(int requests, int changes);

        /** A request was refused because the cap on changes in flight was reached. */
        void refused(int changes);
    }

    /** A change the target refused, taken out of a request that parks what it cannot apply. */
    public record Refusal(TargetChange change, RejectedChangeException reason) {
    }

    /**
     * What a parking request adds to the transaction of its good changes: keeping what it could not apply, so that
     * both commit together. Runs again on every attempt of the transaction, with the changes refused so far.
     */
    public interface Parking {
        /** Whether there is something to keep even if the target refuses none of the changes. */
        boolean hasParked();

        void park(Connection connection, List<Refusal> refusedByTarget) throws SQLException;
    }

    /** The outcomes of the changes written (in the order given, refused ones left out) and the refused ones. */
    public record Tolerated(List<ChangeOutcome> outcomes, List<Refusal> refused) {
    }

    /** {@code parking} is null for a request that is all or nothing; then {@code refused} stays empty. */
    private record Request(List<TargetChange> changes, CompletableFuture<List<ChangeOutcome>> answer, Parking parking,
            List<Refusal> refused) {
        Request(List<TargetChange> changes, CompletableFuture<List<ChangeOutcome>> answer) {
            this(changes, answer, null, List.of());
        }
    }

    private final TargetWriter writer;
    private final Settings settings;
    private final Listener listener;
    private final CpuContention contention;
    private final LinkedBlockingQueue<Request> queue = new LinkedBlockingQueue<>();
    private final ReentrantLock gathering = new ReentrantLock();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger writing = new AtomicInteger();
    /** Changes in the queue, so that a gatherer asleep for more is woken once they would fill its group. */
    private final AtomicInteger queuedChanges = new AtomicInteger();
    /** The gatherer while it sleeps for more requests, and how many more changes would fill its group. */
    private volatile Thread sleeping;
    private volatile int wanted;
    private final List<Thread> threads = new ArrayList<>();
    /** A request taken from the queue that did not fit into the group being gathered: it starts the next one. */
    private volatile Request carried;
    private volatile boolean closed;

    public GroupCommit(TargetWriter writer, Settings settings, Listener listener) {
        this(writer, settings, listener, new CpuContention());
    }

    GroupCommit(TargetWriter writer, Settings settings, Listener listener, CpuContention contention) {
        this.writer = writer;
        this.settings = settings;
        this.listener = listener;
        this.contention = contention;
        for (int i = 1; i <= settings.writers(); i++) {
            Thread thread = new Thread(this::run, "replicator-group-commit-" + i);
            thread.setDaemon(true);
            threads.add(thread);
            thread.start();
        }
    }

    /**
     * Writes the request's changes in a shared transaction and returns their outcomes in the order given, after the
     * commit; throws as {@link TargetWriter#write} does, or {@link TargetUnavailableException} (503) when too many
     * changes are in flight.
     */
    public List<ChangeOutcome> write(List<TargetChange> changes) {
        return await(writeLater(changes));
    }

    /**
     * As {@link #write}, without holding the calling thread: the future completes after the commit, on the writer's
     * thread, with the outcomes or the failure {@code write} would throw. A refusal for too many changes in flight is
     * thrown at once.
     */
    public CompletableFuture<List<ChangeOutcome>> writeLater(List<TargetChange> changes) {
        if (changes.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        return submit(new Request(changes, new CompletableFuture<>()));
    }

    /**
     * Like {@link #write}, but a change the target refuses (422) is taken out and the others are written without
     * it, in the same transaction as what {@code parking} keeps; a change that waits for its row (409) or a failure
     * that names no change still fails the whole request.
     */
    public Tolerated writeParking(List<TargetChange> changes, Parking parking) {
        Request request = new Request(new ArrayList<>(changes), new CompletableFuture<>(), parking, new ArrayList<>());
        List<ChangeOutcome> outcomes = await(submit(request));
        return new Tolerated(outcomes, List.copyOf(request.refused()));
    }

    private CompletableFuture<List<ChangeOutcome>> submit(Request request) {
        int size = request.changes().size();
        admit(size);
        // counted out before anyone waiting for the answer goes on
        CompletableFuture<List<ChangeOutcome>> answered = request.answer()
                .whenComplete((outcomes, failure) -> inFlight.addAndGet(-size));
        queue.add(request);
        int queued = queuedChanges.addAndGet(size);
        Thread gatherer = sleeping;
        if (gatherer != null && queued >= wanted) {
            LockSupport.unpark(gatherer);
        }
        if (closed) {
            fail(List.of(request), new TargetUnavailableException("replicator is shutting down", null));
        }
        return answered;
    }

    /** Requests waiting for a writer. */
    public int queued() {
        return queue.size() + (carried == null ? 0 : 1);
    }

    /** Groups being written now. */
    public int writing() {
        return writing.get();
    }

    /** Changes admitted and not yet answered. */
    public int inFlight() {
        return inFlight.get();
    }

    /** The share of recent group writes that their writers spent waiting for a CPU (0 when not known). */
    public double cpuWaitShare() {
        return contention.share();
    }

    private void admit(int changes) {
        int now = inFlight.addAndGet(changes);
        if (now > settings.maxChangesInFlight() && now != changes) {
            inFlight.addAndGet(-changes);
            listener.refused(changes);
            throw new TargetUnavailableException("replicator is busy: " + (now - changes) + " changes in flight, at most "
                    + settings.maxChangesInFlight() + " (replicator.group-commit.max-changes-in-flight); try again", null);
        }
    }

    /**
     * Waits for an answer of {@link #writeLater} (or one built on it) and throws its failure as it is, as
     * {@link #write} does.
     */
    public static <T> T await(CompletableFuture<T> answer) {
        try {
            return answer.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException failure) {
                throw failure;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            // the group may still commit; the redelivery will then be stale, which is harmless
            throw new TargetUnavailableException("interrupted while waiting for the commit", e);
        }
    }

    private void run() {
        try (CpuWait cpu = CpuWait.ofThisThread()) {
            while (!closed) {
                List<Request> group;
                try {
                    group = gather();
                } catch (InterruptedException e) {
                    break;
                }
                long waited = cpu.waited();
                long started = System.nanoTime();
                writeGroup(group);
                contention.record(waited < 0 ? -1 : cpu.waited() - waited, System.nanoTime() - started);
            }
        }
    }

    private void writeGroup(List<Request> group) {
        writing.incrementAndGet();
        try {
            commit(group);
        } catch (RuntimeException | Error e) {
            LOG.error("writing a group failed unexpectedly", e);
            fail(group, e instanceof RuntimeException r ? r : new IllegalStateException(e));
        } finally {
            if (writing.decrementAndGet() == 0) {
                Thread gatherer = sleeping; // read after the count, which the gatherer reads after setting this
                if (gatherer != null) {
                    LockSupport.unpark(gatherer); // nothing is being written: the group gathered so far goes now
                }
            }
        }
    }

    /** Takes the next group off the queue; one writer gathers at a time. */
    private List<Request> gather() throws InterruptedException {
        gathering.lockInterruptibly();
        try {
            Request first = carried != null ? carried : take(queue.take());
            carried = null;
            List<Request> group = new ArrayList<>();
            group.add(first);
            int changes = first.changes().size();
            // while the writers mostly wait for CPUs, groups side by side would only compete for them
            Duration wait = contention.high() ? settings.maxWaitCpuBound() : settings.maxWait();
            long deadline = System.nanoTime() + wait.toNanos();
            while (changes < settings.maxChanges()) {
                Request next = queue.poll();
                if (next == null) {
                    long left = deadline - System.nanoTime();
                    // alone, there is nothing to wait for: a single client's request is written at once
                    if (writing.get() == 0 || left <= 0) {
                        break;
                    }
                    sleepForMore(settings.maxChanges() - changes, left);
                    continue;
                }
                take(next);
                if (changes + next.changes().size() > settings.maxChanges()) {
                    carried = next;
                    break;
                }
                group.add(next);
                changes += next.changes().size();
            }
            return group;
        } finally {
            gathering.unlock();
        }
    }

    private Request take(Request request) {
        queuedChanges.addAndGet(-request.changes().size());
        return request;
    }

    /**
     * Sleeps until the deadline, until no other group is being written any more, or until the queue holds the changes
     * that would fill the group. So while one group is written the next one gathers, and groups are written side by
     * side only when they are full or the target is slower than the longest wait. The gatherer does not wait on the
     * queue itself: there every request arriving would wake it, a thread switch per request.
     */
    private void sleepForMore(int changes, long nanos) throws InterruptedException {
        wanted = changes;
        sleeping = Thread.currentThread();
        try {
            if (queuedChanges.get() < changes && writing.get() > 0) {
                LockSupport.parkNanos(this, nanos);
            }
        } finally {
            sleeping = null;
        }
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
    }

    /**
     * Writes the group in one transaction. If one request's change is refused, that request alone gets the failure
     * and the rest is written again; a failure no single change explains (the database is gone) fails them all.
     */
    private void commit(List<Request> group) {
        List<Request> pending = new ArrayList<>(group);
        while (!pending.isEmpty()) {
            List<TargetChange> all = new ArrayList<>();
            pending.forEach(request -> all.addAll(request.changes()));
            TargetWriter.InTransaction parked = parkingOf(pending);
            try {
                List<ChangeOutcome> outcomes = parked == null ? writer.writeOrFail(all) : writer.writeOrFail(all, parked);
                int from = 0;
                for (Request request : pending) {
                    int to = from + request.changes().size();
                    request.answer().complete(List.copyOf(outcomes.subList(from, to)));
                    from = to;
                }
                listener.committed(pending.size(), all.size());
                return;
            } catch (TargetWriter.ChangeFailure failure) {
                Request refusing = owner(pending, failure.change());
                if (refusing != null && refusing.parking() != null
                        && failure.answer() instanceof RejectedChangeException reason) {
                    // a parking request keeps its other changes: this one is parked in their transaction instead
                    removeSame(refusing.changes(), failure.change());
                    refusing.refused().add(new Refusal(failure.change(), reason));
                    continue;
                }
                if (pending.size() == 1) {
                    fail(pending, failure.answer());
                    return;
                }
                Request culprit = owner(pending, failure.change());
                if (culprit != null && TargetTransactions.refusesTheChange(failure.answer())) {
                    fail(List.of(culprit), failure.answer());
                    pending.remove(culprit);
                    continue;
                }
                if (TargetTransactions.refusesTheChange(failure.answer())) {
                    // refused at commit (a deferred constraint): no change is named, so each request goes alone
                    for (Request request : pending) {
                        commit(List.of(request));
                    }
                    return;
                }
                fail(pending, failure.answer());
                return;
            }
        }
    }

    /** What the parking requests of the group keep in its transaction, or null when there is nothing to keep. */
    private static TargetWriter.InTransaction parkingOf(List<Request> group) {
        List<Request> parking = group.stream().filter(r -> r.parking() != null
                && (r.parking().hasParked() || !r.refused().isEmpty())).toList();
        if (parking.isEmpty()) {
            return null;
        }
        return connection -> {
            for (Request request : parking) {
                request.parking().park(connection, request.refused());
            }
        };
    }

    private static void removeSame(List<TargetChange> changes, TargetChange change) {
        for (int i = 0; i < changes.size(); i++) {
            if (changes.get(i) == change) {
                changes.remove(i);
                return;
            }
        }
    }

    private static Request owner(List<Request> requests, TargetChange change) {
        if (change == null) {
            return null;
        }
        for (Request request : requests) {
            for (TargetChange candidate : request.changes()) {
                if (candidate == change) {
                    return request;
                }
            }
        }
        return null;
    }

    private static void fail(List<Request> requests, RuntimeException failure) {
        for (Request request : requests) {
            request.answer().completeExceptionally(failure);
        }
    }

    /** Stops the writers; requests still queued are answered 503 and will be redelivered. */
    @Override
    public void close() {
        closed = true;
        threads.forEach(Thread::interrupt);
        List<Request> left = new ArrayList<>();
        Request taken = carried;
        if (taken != null) {
            left.add(taken);
        }
        queue.drainTo(left);
        fail(left, new TargetUnavailableException("replicator is shutting down", null));
    }
}
