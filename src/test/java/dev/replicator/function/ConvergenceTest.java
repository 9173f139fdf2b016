package dev.replicator.function;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

import dev.replicator.testing.PostgresResource;
import dev.replicator.testing.TestDatabases;

/**
 * Convergence under at-least-once delivery: random histories of inserts, updates, key changes, deletes and
 * truncates over three tables (the third written with partial upserts, which set only some columns) become events that are duplicated, shuffled, grouped into random batches and posted by
 * several concurrent clients. Whatever the order, the target must end exactly in the history's final state.
 * {@code -Dconvergence.seeds=N} runs more seeds.
 */
@QuarkusTest
@QuarkusTestResource(PostgresResource.class)
class ConvergenceTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CLIENTS = 8;

    DataSource target = PostgresResource.target();

    @TestHTTPResource("/")
    URL root;

    @BeforeAll
    static void tables() {
        DataSource target = PostgresResource.target();
        TestDatabases.execute(target, """
                CREATE TABLE IF NOT EXISTS conv_a (id int PRIMARY KEY, v text NOT NULL, n int);
                CREATE TABLE IF NOT EXISTS conv_b (k1 int, k2 text, doc jsonb, PRIMARY KEY (k1, k2));
                CREATE TABLE IF NOT EXISTS conv_c (id int PRIMARY KEY, a text, b int, c text);
                """);
    }

    static List<Long> seeds() {
        int count = Integer.getInteger("convergence.seeds", 12);
        List<Long> seeds = new ArrayList<>();
        for (long seed = 1; seed <= count; seed++) {
            seeds.add(seed);
        }
        return seeds;
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void shuffledDuplicatedConcurrentDeliveryConverges(long seed) throws Exception {
        TestDatabases.execute(target, "TRUNCATE conv_a, conv_b, conv_c");
        TestDatabases.execute(target, "DELETE FROM replicator.row_position WHERE table_name LIKE 'public.conv_%'");
        TestDatabases.execute(target, "DELETE FROM replicator.table_position WHERE table_name LIKE 'public.conv_%'");

        History history = new History(new Random(seed));
        history.run(160);
        List<String> events = new ArrayList<>(history.events);
        Random random = new Random(seed * 31);
        for (String event : history.events) {
            if (random.nextInt(3) == 0) {
                events.add(event);
            }
        }
        Collections.shuffle(events, random);
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < events.size();) {
            int size = random.nextInt(4) == 0 ? 1 + random.nextInt(6) : 1;
            List<String> group = events.subList(i, Math.min(events.size(), i + size));
            bodies.add(group.size() == 1 ? group.get(0) : "[" + String.join(",", group) + "]");
            i += group.size();
        }
        post(bodies);

        assertEquals(history.expected("conv_a"), rows("SELECT id, v, n FROM conv_a ORDER BY id"), "conv_a, seed " + seed);
        assertEquals(history.expected("conv_b"), rows("SELECT k1, k2, doc FROM conv_b ORDER BY k1, k2"),
                "conv_b, seed " + seed);
        assertEquals(history.expected("conv_c"), rows("SELECT id, a, b, c FROM conv_c ORDER BY id"),
                "conv_c (partial rows), seed " + seed);
    }

    private void post(List<String> bodies) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        ConcurrentLinkedQueue<String> queue = new ConcurrentLinkedQueue<>(bodies);
        AtomicInteger failures = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        List<Future<?>> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            clients.add(pool.submit(() -> {
                String body;
                while ((body = queue.poll()) != null) {
                    HttpRequest request = HttpRequest.newBuilder(root.toURI())
                            .header("Content-Type", "application/cloudevents+json")
                            .POST(HttpRequest.BodyPublishers.ofString(body)).build();
                    // a broker retries retryable answers; so does this client, a bounded number of times
                    for (int attempt = 0;; attempt++) {
                        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
                        if (response.statusCode() / 100 == 2) {
                            break;
                        }
                        if (attempt >= 20 || (response.statusCode() != 503 && response.statusCode() != 409)) {
                            failures.incrementAndGet();
                            System.err.println("failed: " + response.statusCode() + " " + response.body());
                            break;
                        }
                        Thread.sleep(20);
                    }
                }
                return null;
            }));
        }
        for (Future<?> future : clients) {
            future.get(120, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertEquals(0, failures.get(), "every delivery must eventually be acknowledged");
    }

    private String rows(String select) {
        return TestDatabases.copy(target, select);
    }

    /** A random source history and the events it produces, in the native format. */
    static final class History {
        final Random random;
        final List<String> events = new ArrayList<>();
        final Map<Integer, String[]> a = new TreeMap<>();
        final Map<String, String> b = new TreeMap<>();
        final Map<Integer, String[]> c = new TreeMap<>();
        long commit;
        int nextId = 1;

        History(Random random) {
            this.random = random;
        }

        void run(int transactions) {
            for (int t = 0; t < transactions; t++) {
                commit++;
                long change = 0;
                int size = 1 + random.nextInt(3);
                for (int i = 0; i < size; i++) {
                    change++;
                    int table = random.nextInt(3);
                    if (table == 0) {
                        stepA(change);
                    } else if (table == 1) {
                        stepB(change);
                    } else {
                        stepC(change);
                    }
                }
            }
        }

        private void stepA(long change) {
            int roll = random.nextInt(100);
            if (a.isEmpty() || roll < 30) {
                int id = nextId++;
                upsertA(id, change);
            } else if (roll < 65) {
                upsertA(pick(new ArrayList<>(a.keySet())), change);
            } else if (roll < 78) {
                int old = pick(new ArrayList<>(a.keySet()));
                int moved = nextId++;
                String[] row = a.remove(old);
                a.put(moved, row);
                ObjectNode data = change("public.conv_a", "delete", change);
                data.putObject("key").put("id", old);
                data.putObject("newKey").put("id", moved);
                emit(data);
                emit(afterA(moved, row, change));
            } else if (roll < 98) {
                int id = pick(new ArrayList<>(a.keySet()));
                a.remove(id);
                ObjectNode data = change("public.conv_a", "delete", change);
                data.putObject("key").put("id", id);
                emit(data);
            } else {
                a.clear();
                emit(change("public.conv_a", "truncate", change));
            }
        }

        private void upsertA(int id, long change) {
            String[] row = { "v" + random.nextInt(1000) + (random.nextBoolean() ? " \"q\"" : ""),
                    random.nextInt(5) == 0 ? null : String.valueOf(random.nextInt(100)) };
            a.put(id, row);
            emit(afterA(id, row, change));
        }

        private ObjectNode afterA(int id, String[] row, long change) {
            ObjectNode data = change("public.conv_a", "upsert", change);
            ObjectNode after = data.putObject("after");
            after.put("id", id);
            after.put("v", row[0]);
            if (row[1] == null) {
                after.putNull("n");
            } else {
                after.put("n", Integer.parseInt(row[1]));
            }
            return data;
        }

        private void stepB(long change) {
            int roll = random.nextInt(100);
            if (b.isEmpty() || roll < 40) {
                String key = random.nextInt(8) + "\u0000" + "k" + random.nextInt(4);
                String doc = "{\"x\": " + random.nextInt(50) + "}";
                b.put(key, doc);
                emit(afterB(key, doc, change));
            } else if (roll < 97) {
                String key = pick(new ArrayList<>(b.keySet()));
                b.remove(key);
                ObjectNode data = change("public.conv_b", "delete", change);
                ObjectNode k = data.putObject("key");
                k.put("k1", Integer.parseInt(key.split("\u0000")[0]));
                k.put("k2", key.split("\u0000")[1]);
                emit(data);
            } else {
                b.clear();
                emit(change("public.conv_b", "truncate", change));
            }
        }

        private ObjectNode afterB(String key, String doc, long change) {
            ObjectNode data = change("public.conv_b", "upsert", change);
            ObjectNode after = data.putObject("after");
            after.put("k1", Integer.parseInt(key.split("\u0000")[0]));
            after.put("k2", key.split("\u0000")[1]);
            try {
                after.set("doc", JSON.readTree(doc));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return data;
        }

        /**
         * Full rows, partial upserts of existing rows (the columns left out keep their values) and of missing ones
         * (they get their defaults), deletes and truncates.
         */
        private void stepC(long change) {
            int roll = random.nextInt(100);
            if (c.isEmpty() || roll < 20) {
                int id = random.nextInt(12);
                String[] row = { random.nextBoolean() ? "a" + random.nextInt(100) : null,
                        random.nextBoolean() ? String.valueOf(random.nextInt(100)) : null,
                        "c" + random.nextInt(100) };
                c.put(id, row);
                emit(afterC(id, row, new boolean[] { true, true, true }, change));
            } else if (roll < 85) {
                int id = roll < 70 ? pick(new ArrayList<>(c.keySet())) : random.nextInt(12);
                boolean[] set = new boolean[3];
                while (!set[0] && !set[1] && !set[2]) {
                    for (int i = 0; i < 3; i++) {
                        set[i] = random.nextInt(3) == 0;
                    }
                }
                String[] row = c.computeIfAbsent(id, missing -> new String[3]);
                String[] values = { "p" + random.nextInt(100), String.valueOf(random.nextInt(100)),
                        "q" + random.nextInt(100) };
                for (int i = 0; i < 3; i++) {
                    if (set[i]) {
                        row[i] = values[i];
                    }
                }
                emit(afterC(id, row, set, change));
            } else if (roll < 98) {
                int id = pick(new ArrayList<>(c.keySet()));
                c.remove(id);
                ObjectNode data = change("public.conv_c", "delete", change);
                data.putObject("key").put("id", id);
                emit(data);
            } else {
                c.clear();
                emit(change("public.conv_c", "truncate", change));
            }
        }

        private ObjectNode afterC(int id, String[] row, boolean[] set, long change) {
            ObjectNode data = change("public.conv_c", "upsert", change);
            ObjectNode after = data.putObject("after");
            after.put("id", id);
            String[] names = { "a", "b", "c" };
            for (int i = 0; i < 3; i++) {
                if (!set[i]) {
                    continue;
                }
                if (row[i] == null) {
                    after.putNull(names[i]);
                } else if (i == 1) {
                    after.put(names[i], Integer.parseInt(row[i]));
                } else {
                    after.put(names[i], row[i]);
                }
            }
            return data;
        }

        private ObjectNode change(String table, String op, long change) {
            ObjectNode data = JSON.createObjectNode();
            data.put("table", table);
            data.put("op", op);
            data.putArray("position").add(commit).add(change);
            return data;
        }

        private void emit(ObjectNode data) {
            ObjectNode event = JSON.createObjectNode();
            event.put("specversion", "1.0");
            event.put("id", "h-" + commit + "-" + events.size());
            event.put("source", "/history");
            event.put("type", "replicator.change.v1");
            event.put("datacontenttype", "application/json");
            event.set("data", data);
            events.add(event.toString());
        }

        private <T> T pick(List<T> from) {
            return from.get(random.nextInt(from.size()));
        }

        /** The final state as COPY text, in key order. */
        String expected(String table) {
            StringBuilder out = new StringBuilder();
            if (table.equals("conv_a")) {
                a.forEach((id, row) -> out.append(id).append('\t').append(copyText(row[0])).append('\t')
                        .append(row[1] == null ? "\\N" : row[1]).append('\n'));
            } else if (table.equals("conv_c")) {
                c.forEach((id, row) -> {
                    out.append(id);
                    for (String value : row) {
                        out.append('\t').append(value == null ? "\\N" : value);
                    }
                    out.append('\n');
                });
            } else {
                b.forEach((key, doc) -> {
                    String[] parts = key.split("\u0000");
                    out.append(parts[0]).append('\t').append(parts[1]).append('\t').append(doc).append('\n');
                });
            }
            return out.toString();
        }

        private static String copyText(String text) {
            return text.replace("\\", "\\\\");
        }
    }
}
