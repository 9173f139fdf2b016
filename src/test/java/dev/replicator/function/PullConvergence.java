package dev.replicator.function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;

import javax.sql.DataSource;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.common.http.TestHTTPResource;

import dev.replicator.decode.IncomingEvent;
import dev.replicator.testing.DebeziumLoss;
import dev.replicator.testing.LogicalSource;
import dev.replicator.testing.PullDatabases;
import dev.replicator.testing.PushSlot;
import dev.replicator.testing.TableComparison;
import dev.replicator.testing.TestDatabases;

/**
 * Pull, push and backfill of the same rows converge over HTTP, against the running app. Random source transactions
 * (inserts, updates, deletes, key changes, multi-row statements and the odd truncate, over a table keyed by an int
 * and one keyed by (int, text), with text, int, jsonb and NULLs) are pulled by {@code POST /pull} while the same
 * changes are pushed as the Debezium events of a second slot ({@link PushSlot}), duplicated, shuffled and in random
 * batches, by concurrent clients that retry 409 and 503. Backfills of a table (one chunk per call, now and then
 * restarted) copy the rows that were in the source before the slots, and the pull's source sessions are terminated at
 * random moments, so that some pulls die between the target commit and the slot confirmation and the next one reads
 * those changes again. Once every pushed event has been acknowledged and a pull is done, every row the history touched
 * is in the target exactly as in the source (and of the rows nobody touched, only the source's); once a backfill
 * finishes, all rows are. {@code -Dpull.convergence.seeds=N} runs more seeds.
 */
abstract class PullConvergence {

    static final String TABLES = "CREATE TABLE conv_items (id int PRIMARY KEY, v text, n int, doc jsonb);"
            + " CREATE TABLE conv_pairs (k1 int, k2 text, label text, qty int, PRIMARY KEY (k1, k2))";
    private static final List<String> NAMES = List.of("public.conv_items", "public.conv_pairs");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CLIENTS = 4;
    private static final Map<String, AtomicLong> TOTALS = Collections.synchronizedMap(new LinkedHashMap<>());

    @TestHTTPResource("/")
    URL root;

    private final HttpClient http = HttpClient.newHttpClient();

    /** The app's source and target database; the pull slot and publication have its name. */
    abstract String database();

    /** A query of the process ids of the pull's sessions on the source, to be terminated. */
    abstract String pullSessions();

    /** The settings of an app that pulls from fresh databases of this name, reading the slot as {@code read} says. */
    /**
     * The test's databases and the app's settings, from the resource's arguments: {@code database} (also the slot's
     * name) and {@code read} ({@code replicator.pull.read}).
     */
    public static class Databases implements QuarkusTestResourceLifecycleManager {
        private String database;
        private String read;

        @Override
        public void init(Map<String, String> args) {
            database = args.get("database");
            read = args.get("read");
        }

        @Override
        public Map<String, String> start() {
            return PullDatabases.fresh(database, database, db -> TestDatabases.execute(db, TABLES), Map.of(
                    "replicator.pull.read", read,
                    // several groups per pull, and transactions larger than a group
                    "replicator.pull.group-changes", "8",
                    // one backfill chunk per call
                    "replicator.backfill.time-budget", "1ms"));
        }

        @Override
        public void stop() {
            // the servers live as long as the test JVM
        }
    }

    static LongStream seeds() {
        return LongStream.rangeClosed(1, Integer.getInteger("pull.convergence.seeds", 4));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void pulledPushedAndBackfilledChangesConverge(long seed) throws Exception {
        long started = System.nanoTime();
        DataSource source = TestDatabases.dataSource(LogicalSource.server(), database());
        DataSource target = TestDatabases.dataSource(TestDatabases.target(), database());
        DataSource admin = TestDatabases.dataSource(LogicalSource.server(), "postgres");
        Random random = new Random(seed);
        History history = new History(random);
        pullUntilDone(); // the first creates the slot, the publication and replicator's tables
        PushSlot push = pushSlot(source);
        TestDatabases.execute(source, "TRUNCATE conv_items, conv_pairs");
        TestDatabases.execute(target, "TRUNCATE conv_items, conv_pairs");
        for (String own : List.of("row_position", "table_position", "pull_coverage", "backfill_progress")) {
            TestDatabases.execute(target, "DELETE FROM replicator." + own + " WHERE table_name LIKE 'public.conv_%'");
        }
        TestDatabases.execute(source, history.preexisting());
        // both slots start after the rows that only a backfill brings
        TestDatabases.execute(source, "SELECT pg_replication_slot_advance(slot_name, pg_current_wal_lsn())"
                + " FROM pg_replication_slots WHERE slot_name IN ('" + database() + "', '" + database() + "_push')");

        Map<String, AtomicLong> counts = new LinkedHashMap<>();
        for (String count : List.of("events", "posts", "retries", "pulls", "pullMillis", "failed", "killed",
                "unconfirmed", "stale", "backfills")) {
            counts.put(count, new AtomicLong());
        }
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        Deliveries deliveries = new Deliveries(new Random(seed * 31));
        AtomicBoolean writing = new AtomicBoolean(true);
        ExecutorService pool = Executors.newCachedThreadPool();
        List<Future<?>> tasks = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            tasks.add(pool.submit(() -> deliver(deliveries, counts, failures)));
        }
        tasks.add(pool.submit(() -> pulls(new Random(seed * 37), writing, admin, target, counts, failures)));
        tasks.add(pool.submit(() -> backfills(new Random(seed * 41), writing, counts, failures)));
        try {
            for (int tx = 25 + random.nextInt(30); tx > 0; tx--) {
                TestDatabases.execute(source, history.transaction());
                if (random.nextInt(3) == 0) {
                    deliveries.add(bodies(push.take(), random, counts));
                }
                Thread.sleep(random.nextInt(4));
            }
        } finally {
            writing.set(false);
            deliveries.add(bodies(push.take(), random, counts));
            deliveries.close();
            for (Future<?> task : tasks) {
                task.get(120, TimeUnit.SECONDS);
            }
            pool.shutdown();
        }
        assertEquals(List.of(), failures, "answers no retry can fix");

        counts.get("stale").addAndGet(pullUntilDone());
        try {
            assertTouchedRowsEqual(source, target, history);
            JsonNode done = backfill(NAMES, 50, false, true);
            assertTrue(done.path("finished").asBoolean(), done.toString());
            TableComparison.assertSameRows(source, target, EnumSet.noneOf(DebeziumLoss.class));
        } catch (AssertionError e) {
            System.out.println("seed " + seed + " diverged; source history:\n" + String.join("\n", history.sql)
                    + "\ncounts " + counts + "\nreplicator's records:\n" + TestDatabases.copy(target,
                            "SELECT 'coverage', table_name, commit_pos, change_pos, start_commit, start_change"
                                    + " FROM replicator.pull_coverage UNION ALL SELECT 'row', table_name || ' '"
                                    + " || row_key, commit_pos, change_pos, deleted::int, NULL"
                                    + " FROM replicator.row_position UNION ALL SELECT 'backfill', table_name, rows,"
                                    + " done::int, NULL, NULL FROM replicator.backfill_progress"));
            throw e;
        }
        counts.forEach((name, count) -> TOTALS.computeIfAbsent(name, n -> new AtomicLong()).addAndGet(count.get()));
        TOTALS.computeIfAbsent("converged", n -> new AtomicLong()).incrementAndGet();
        TOTALS.computeIfAbsent("millis", n -> new AtomicLong()).addAndGet((System.nanoTime() - started) / 1_000_000);
        System.out.println("seed " + seed + ": " + counts);
    }

    @AfterAll
    static void totals() {
        System.out.println("pull convergence totals: " + TOTALS);
        TOTALS.clear();
    }

    private PushSlot pushSlot(DataSource source) {
        String name = database() + "_push";
        if (TestDatabases.copy(source, "SELECT 1 FROM pg_replication_slots WHERE slot_name = '" + name + "'")
                .isEmpty()) {
            return PushSlot.copyOf(source, database(), name, database());
        }
        return new PushSlot(source, name, database());
    }

    // ---- pushed events ------------------------------------------------------------------------------------------

    /** A request body: one event (with Debezium's headers) or a batch of events. */
    record Body(String json, String newKey) {
    }

    /**
     * Every event once, a third of them twice, shuffled and cut into batches; an event alone carries its new-key
     * header, as Debezium sends it, a batch does not.
     */
    private static List<Body> bodies(List<IncomingEvent> events, Random random, Map<String, AtomicLong> counts) {
        counts.get("events").addAndGet(events.size());
        List<IncomingEvent> all = new ArrayList<>(events);
        for (IncomingEvent event : events) {
            if (random.nextInt(3) == 0) {
                all.add(event);
            }
        }
        Collections.shuffle(all, random);
        List<Body> bodies = new ArrayList<>();
        for (int i = 0; i < all.size();) {
            int size = Math.min(all.size() - i, random.nextInt(4) == 0 ? 2 + random.nextInt(5) : 1);
            List<IncomingEvent> group = all.subList(i, i + size);
            bodies.add(size == 1 ? new Body(group.get(0).data().toString(), group.get(0).headers()
                    .get(PushSlot.NEW_KEY_HEADER)) : new Body(group.stream().map(e -> e.data().toString())
                            .toList().toString(), null));
            i += size;
        }
        return bodies;
    }

    /** What is left to post; taken in random order, so events come late as well as early. */
    static final class Deliveries {
        private final Random random;
        private final List<Body> pending = new ArrayList<>();
        private int inFlight;
        private boolean closed;

        Deliveries(Random random) {
            this.random = random;
        }

        synchronized void add(List<Body> bodies) {
            pending.addAll(bodies);
            notifyAll();
        }

        synchronized void close() {
            closed = true;
            notifyAll();
        }

        /** The next body to post; null once closed and everything is acknowledged. */
        synchronized Body next() throws InterruptedException {
            while (pending.isEmpty()) {
                if (closed && inFlight == 0) {
                    return null;
                }
                wait(50);
            }
            inFlight++;
            return pending.remove(random.nextInt(pending.size()));
        }

        synchronized void finished(Body body, boolean again) {
            inFlight--;
            if (again) {
                pending.add(body);
            }
            notifyAll();
        }
    }

    /** A client: posts bodies until all are acknowledged; one answered 409 or 503 goes back to be posted later. */
    private Void deliver(Deliveries deliveries, Map<String, AtomicLong> counts, List<String> failures)
            throws Exception {
        Map<Body, Integer> attempts = new LinkedHashMap<>();
        Body body;
        while ((body = deliveries.next()) != null) {
            HttpRequest.Builder request = HttpRequest.newBuilder(root.toURI())
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.json()));
            if (body.newKey() != null) {
                request.header("X-DEBEZIUM-__debezium.newkey", body.newKey());
            }
            HttpResponse<String> answer = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            counts.get("posts").incrementAndGet();
            boolean retry = answer.statusCode() == 409 || answer.statusCode() == 503;
            if (retry) {
                counts.get("retries").incrementAndGet();
                if (attempts.merge(body, 1, Integer::sum) > 100) {
                    failures.add("never acknowledged: " + answer.statusCode() + " " + answer.body());
                    retry = false;
                }
                Thread.sleep(5);
            } else if (answer.statusCode() / 100 != 2) {
                failures.add("push " + answer.statusCode() + " " + answer.body() + " for " + body.json());
            }
            deliveries.finished(body, retry);
        }
        return null;
    }

    // ---- pulls, kills and backfills -----------------------------------------------------------------------------

    /**
     * Pulls (all, or a few changes) while the history is written; a third of them has its source sessions terminated
     * at a random moment. After a pull that answered 503, a newest pulled change at or above where the slot
     * is confirmed is a group committed but not confirmed.
     */
    private Void pulls(Random random, AtomicBoolean writing, DataSource admin, DataSource target,
            Map<String, AtomicLong> counts, List<String> failures) throws Exception {
        ScheduledExecutorService killer = Executors.newSingleThreadScheduledExecutor();
        try {
            while (writing.get()) {
                if (random.nextInt(3) == 0) {
                    killer.schedule(() -> counts.get("killed").addAndGet(TestDatabases.copy(admin,
                            "SELECT pg_terminate_backend(pid) FROM (" + pullSessions() + ") s (pid)").lines()
                            .filter("t"::equals).count()), random.nextInt(200), TimeUnit.MILLISECONDS);
                }
                long started = System.nanoTime();
                HttpResponse<String> answer = post("pull", random.nextInt(3) == 0
                        ? "{\"maxChanges\": " + (1 + random.nextInt(30)) + "}" : "{}");
                counts.get("pullMillis").addAndGet((System.nanoTime() - started) / 1_000_000);
                counts.get("pulls").incrementAndGet();
                if (answer.statusCode() == 200) {
                    counts.get("stale").addAndGet(JSON.readTree(answer.body()).path("stale").asLong());
                } else if (answer.statusCode() == 503) {
                    counts.get("failed").incrementAndGet();
                    String confirmed = TestDatabases.copy(admin, "SELECT (confirmed_flush_lsn - '0/0')::bigint"
                            + " FROM pg_replication_slots WHERE slot_name = '" + database() + "'").trim();
                    String newest = TestDatabases.copy(target, "SELECT coalesce(max(change_pos), 0)"
                            + " FROM replicator.pull_coverage").trim();
                    if (Long.parseLong(newest) >= Long.parseLong(confirmed)) {
                        counts.get("unconfirmed").incrementAndGet();
                    }
                } else {
                    failures.add("pull " + answer.statusCode() + " " + answer.body());
                }
                Thread.sleep(random.nextInt(15));
            }
        } finally {
            killer.shutdown();
            killer.awaitTermination(5, TimeUnit.SECONDS);
        }
        return null;
    }

    private Void backfills(Random random, AtomicBoolean writing, Map<String, AtomicLong> counts,
            List<String> failures) throws Exception {
        while (writing.get()) {
            Thread.sleep(random.nextInt(10));
            List<String> tables = random.nextInt(3) == 0 ? NAMES : List.of(NAMES.get(random.nextInt(2)));
            JsonNode answer = backfill(tables, 1 + random.nextInt(20), random.nextInt(3) == 0, false);
            if (answer.has("error")) {
                failures.add("backfill " + answer);
            } else if (!answer.isNull()) {
                counts.get("backfills").incrementAndGet();
            }
        }
        return null;
    }

    /**
     * One backfill call (null when answered 503 or 409), or with {@code chain} the calls until it is done. A failure
     * is answered as {@code {"error": ...}}.
     */
    private JsonNode backfill(List<String> tables, int chunkSize, boolean restart, boolean chain) throws Exception {
        ObjectNode request = JSON.createObjectNode().put("chunkSize", chunkSize).put("restart", restart);
        tables.forEach(request.putArray("tables")::add);
        for (int call = 0; call < 10_000; call++) {
            HttpResponse<String> answer = post("backfill", request.toString());
            request.put("restart", false);
            if (answer.statusCode() != 200) {
                if (answer.statusCode() != 503 && answer.statusCode() != 409) {
                    return JSON.createObjectNode().put("error", answer.statusCode() + " " + answer.body());
                }
                if (!chain) {
                    return JSON.nullNode();
                }
                Thread.sleep(10);
            } else if (!chain || "replicator.backfill.done.v1".equals(answer.headers().firstValue("ce-type")
                    .orElse(null))) {
                return JSON.readTree(answer.body());
            }
        }
        throw new AssertionError("backfill does not finish");
    }

    /** Pulls until the slot is drained, waiting out 503s; returns the stale changes counted. */
    private long pullUntilDone() throws Exception {
        long stale = 0;
        for (int attempt = 0; attempt < 200; attempt++) {
            HttpResponse<String> answer = post("pull", "{}");
            if (answer.statusCode() == 200) {
                JsonNode report = JSON.readTree(answer.body());
                stale += report.path("stale").asLong();
                if (report.path("done").asBoolean()) {
                    return stale;
                }
            } else if (answer.statusCode() != 503) {
                throw new AssertionError("pull " + answer.statusCode() + " " + answer.body());
            } else {
                Thread.sleep(20);
            }
        }
        throw new AssertionError("the pull never got done");
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(root.toString() + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    // ---- the comparison before the backfill finishes --------------------------------------------------------------

    /**
     * Rows the history touched are in the target as in the source; of the rows only a backfill brings, those the
     * target has are the source's.
     */
    private static void assertTouchedRowsEqual(DataSource source, DataSource target, History history) {
        for (String table : List.of("conv_items", "conv_pairs")) {
            String select = table.equals("conv_items") ? "SELECT t.id::text, t.* FROM conv_items t"
                    : "SELECT t.k1 || '/' || t.k2, t.* FROM conv_pairs t";
            Map<String, String> expected = byKey(TestDatabases.copy(source, select));
            Map<String, String> actual = byKey(TestDatabases.copy(target, select));
            Set<String> keys = new HashSet<>(expected.keySet());
            keys.addAll(actual.keySet());
            List<String> differing = new ArrayList<>();
            for (String key : keys) {
                String row = actual.get(key);
                // COPY writes a key's backslash twice
                boolean untouched = history.untouched.contains(table + ":" + key.replace("\\\\", "\\"));
                if (!(untouched && row == null) && !String.valueOf(expected.get(key)).equals(String.valueOf(row))) {
                    differing.add("source " + expected.get(key) + " | target " + row);
                }
            }
            Collections.sort(differing);
            assertEquals(List.of(), differing, table + ": rows differ between source and target");
        }
    }

    private static Map<String, String> byKey(String copy) {
        Map<String, String> rows = new LinkedHashMap<>();
        copy.lines().forEach(line -> rows.put(line.substring(0, line.indexOf('\t')), line.substring(line.indexOf('\t')
                + 1)));
        return rows;
    }

    // ---- the source's history -----------------------------------------------------------------------------------

    /** Random source transactions, the keys they leave, and the rows that were there before and never touched. */
    static final class History {
        final Random random;
        final List<String> sql = new ArrayList<>();
        final List<Integer> items = new ArrayList<>();
        final List<String> pairs = new ArrayList<>(); // "k1/k2"
        final Set<String> untouched = new HashSet<>();
        int nextId = 1;

        History(Random random) {
            this.random = random;
        }

        /** Rows in the source before the slots: only a backfill brings them, unless a change touches them. */
        String preexisting() {
            StringBuilder sql = new StringBuilder("BEGIN;");
            if (random.nextInt(4) > 0) {
                for (int i = random.nextInt(25); i > 0; i--) {
                    insertItem(sql);
                    untouched.add("conv_items:" + items.get(items.size() - 1));
                }
                for (int i = random.nextInt(25); i > 0; i--) {
                    if (insertPair(sql)) {
                        untouched.add("conv_pairs:" + pairs.get(pairs.size() - 1));
                    }
                }
            }
            return log(sql.append("COMMIT;"));
        }

        String transaction() {
            StringBuilder sql = new StringBuilder("BEGIN;");
            if (random.nextInt(80) == 0) {
                List<String> tables = random.nextBoolean() ? List.of("conv_items")
                        : List.of("conv_items", "conv_pairs");
                sql.append("TRUNCATE ").append(String.join(", ", tables)).append(';');
                if (tables.size() == 2) {
                    pairs.clear();
                }
                items.clear();
                untouched.removeIf(key -> key.startsWith("conv_items:") || tables.size() == 2);
            }
            for (int op = 1 + random.nextInt(4); op > 0; op--) {
                if (random.nextBoolean()) {
                    itemStep(sql);
                } else {
                    pairStep(sql);
                }
            }
            return log(sql.append("COMMIT;"));
        }

        private String log(StringBuilder sql) {
            this.sql.add(sql.toString());
            return sql.toString();
        }

        private void itemStep(StringBuilder sql) {
            int roll = random.nextInt(100);
            if (items.isEmpty() || roll < 30) {
                insertItem(sql);
                return;
            }
            int id = items.get(random.nextInt(items.size()));
            if (roll < 85) {
                untouched.remove("conv_items:" + id);
            }
            if (roll < 55) {
                sql.append("UPDATE conv_items SET ").append(random.nextBoolean() ? "v = " + text() : "n = " + number())
                        .append(random.nextBoolean() ? ", doc = " + doc() : "").append(" WHERE id = ").append(id)
                        .append(';');
            } else if (roll < 70) {
                items.remove(Integer.valueOf(id));
                items.add(nextId);
                sql.append("UPDATE conv_items SET id = ").append(nextId++).append(random.nextBoolean() ? ", n = "
                        + number() : "").append(" WHERE id = ").append(id).append(';');
            } else if (roll < 85) {
                items.remove(Integer.valueOf(id));
                sql.append("DELETE FROM conv_items WHERE id = ").append(id).append(';');
            } else {
                // a statement of several rows: an update, a key change or a delete
                int modulo = 2 + random.nextInt(3);
                int rest = random.nextInt(modulo);
                List<Integer> hit = items.stream().filter(i -> i % modulo == rest).toList();
                hit.forEach(i -> untouched.remove("conv_items:" + i));
                String where = " WHERE id % " + modulo + " = " + rest + ';';
                if (roll < 92) {
                    sql.append("UPDATE conv_items SET n = coalesce(n, 0) + 1, v = v || '+'").append(where);
                } else if (roll < 96) {
                    int shift = nextId; // every new key is above every key there is
                    items.removeAll(hit);
                    hit.forEach(i -> items.add(i + shift));
                    nextId = hit.stream().mapToInt(i -> i + shift + 1).max().orElse(nextId);
                    sql.append("UPDATE conv_items SET id = id + ").append(shift).append(where);
                } else {
                    items.removeAll(hit);
                    sql.append("DELETE FROM conv_items").append(where);
                }
            }
        }

        private void insertItem(StringBuilder sql) {
            items.add(nextId);
            sql.append("INSERT INTO conv_items VALUES (").append(nextId++).append(", ").append(text()).append(", ")
                    .append(number()).append(", ").append(doc()).append(");");
        }

        private void pairStep(StringBuilder sql) {
            int roll = random.nextInt(100);
            if (pairs.isEmpty() || roll < 30) {
                insertPair(sql);
                return;
            }
            String key = pairs.get(random.nextInt(pairs.size()));
            String[] k = key.split("/", 2);
            String where = " WHERE k1 = " + k[0] + " AND k2 = " + literal(k[1]) + ';';
            if (roll < 55) {
                untouched.remove("conv_pairs:" + key);
                sql.append("UPDATE conv_pairs SET label = ").append(text()).append(", qty = ").append(number())
                        .append(where);
            } else if (roll < 70) {
                // a key change of one of the key's columns
                String moved = random.nextBoolean() ? random.nextInt(6) + "/" + k[1] : k[0] + "/" + pairKey();
                if (!pairs.contains(moved)) {
                    untouched.remove("conv_pairs:" + key);
                    pairs.remove(key);
                    pairs.add(moved);
                    String[] m = moved.split("/", 2);
                    sql.append("UPDATE conv_pairs SET k1 = ").append(m[0]).append(", k2 = ").append(literal(m[1]))
                            .append(where);
                }
            } else if (roll < 85) {
                untouched.remove("conv_pairs:" + key);
                pairs.remove(key);
                sql.append("DELETE FROM conv_pairs").append(where);
            } else {
                List<String> hit = pairs.stream().filter(p -> p.startsWith(k[0] + "/")).toList();
                hit.forEach(p -> untouched.remove("conv_pairs:" + p));
                List<String> moved = hit.stream().map(p -> p + "m").toList();
                if (roll < 93) {
                    sql.append("UPDATE conv_pairs SET qty = coalesce(qty, 0) + 1 WHERE k1 = ").append(k[0]).append(';');
                } else if (roll < 97 && moved.stream().noneMatch(pairs::contains)) {
                    pairs.removeAll(hit);
                    pairs.addAll(moved);
                    sql.append("UPDATE conv_pairs SET k2 = k2 || 'm' WHERE k1 = ").append(k[0]).append(';');
                } else {
                    pairs.removeAll(hit);
                    sql.append("DELETE FROM conv_pairs WHERE k1 = ").append(k[0]).append(';');
                }
            }
        }

        private boolean insertPair(StringBuilder sql) {
            String key = random.nextInt(6) + "/" + pairKey();
            if (pairs.contains(key)) {
                return false;
            }
            pairs.add(key);
            String[] k = key.split("/", 2);
            sql.append("INSERT INTO conv_pairs VALUES (").append(k[0]).append(", ").append(literal(k[1])).append(", ")
                    .append(text()).append(", ").append(number()).append(");");
            return true;
        }

        private String pairKey() {
            String[] shapes = { "k", "k 'q'", "ключ", "k\\b" };
            return shapes[random.nextInt(shapes.length)] + random.nextInt(5);
        }

        private String text() {
            String[] shapes = { "v", "tab\there ", "quote'd \"", "back\\slash ", "é ü ", "" };
            return random.nextInt(8) == 0 ? "NULL"
                    : literal(shapes[random.nextInt(shapes.length)] + random.nextInt(1000));
        }

        private String number() {
            return random.nextInt(6) == 0 ? "NULL" : String.valueOf(random.nextInt(2000) - 1000);
        }

        private String doc() {
            if (random.nextInt(5) == 0) {
                return "NULL";
            }
            ObjectNode doc = JSON.createObjectNode().put("x", random.nextInt(100)).put("s", "a\"b\\c é");
            if (random.nextBoolean()) {
                doc.putArray("list").add(random.nextInt(10)).addNull().add(random.nextBoolean());
            }
            return literal(doc.toString()) + "::jsonb";
        }

        private static String literal(String text) {
            return "'" + text.replace("'", "''") + "'";
        }
    }
}
