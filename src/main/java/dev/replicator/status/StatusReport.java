package dev.replicator.status;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import javax.sql.DataSource;

import jakarta.enterprise.inject.Instance;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.ConfigProvider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.agroal.api.AgroalDataSource;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.quarkus.runtime.configuration.MemorySize;

import dev.replicator.apply.Sql;
import dev.replicator.apply.TargetTransactions;
import dev.replicator.config.ReplicatorConfig;
import dev.replicator.decode.TableId;
import dev.replicator.observe.DatabaseProbe;
import dev.replicator.observe.LogText;
import dev.replicator.observe.SlotState;
import dev.replicator.source.dispatch.JobHistory;

/**
 * The document {@code GET /status} answers: per slot where it stands and the last pull, per backfilled table its
 * checkpoint and progress, per verified table the last figures, parked events by reason, versions and the settings in
 * force. It reads only catalogs and replicator's own tables, never a replicated row, each database in a read-only
 * transaction bounded by {@link #STATEMENT_TIMEOUT}; the two databases are asked at once and a database that does not
 * answer within {@link #WAIT_MILLIS} is reported as such instead of holding the answer up. Secrets never appear: no
 * password, no user name, no URL parameters.
 */
@Singleton
@RegisterForReflection(targets = { ReplicatorConfig.class, ReplicatorConfig.Backfill.class,
        ReplicatorConfig.Verify.class, ReplicatorConfig.Pull.class, ReplicatorConfig.GroupCommit.class,
        ReplicatorConfig.Admission.class, ReplicatorConfig.Rejected.class, ReplicatorConfig.TableMapping.class,
        ReplicatorConfig.Debezium.class, ReplicatorConfig.Ordering.class, ReplicatorConfig.Schema.class,
        ReplicatorConfig.Sequences.class, JobHistory.Pull.class })
public class StatusReport {

    static final String STATEMENT_TIMEOUT = "1s";
    static final long WAIT_MILLIS = 2000;
    /** Parked reasons listed; the total counts them all. */
    static final int REASONS = 20;

    private final ObjectMapper mapper;
    private final ReplicatorConfig config;
    private final JobHistory history;
    private final Instance<AgroalDataSource> target;
    private final Instance<AgroalDataSource> source;
    private final String schema;
    private final String replicatorVersion = ConfigProvider.getConfig()
            .getOptionalValue("quarkus.application.version", String.class).orElse(null);
    private final String quarkusVersion = Quarkus.class.getPackage().getImplementationVersion();
    private volatile ObjectNode settings;
    private final ExecutorService threads = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "replicator-status");
        t.setDaemon(true);
        return t;
    });

    public StatusReport(ObjectMapper mapper, ReplicatorConfig config, JobHistory history,
            @io.quarkus.agroal.DataSource("target") Instance<AgroalDataSource> target,
            @io.quarkus.agroal.DataSource("source") Instance<AgroalDataSource> source) {
        this.mapper = mapper;
        this.config = config;
        this.history = history;
        this.target = target;
        this.source = source;
        this.schema = config.ordering().schema();
    }

    /** What one database's reads found. */
    private record TargetFigures(String version, List<ObjectNode> backfill, ObjectNode parked, String pulledAt,
            long pulledTables) {
    }

    private record SourceFigures(String version, Optional<SlotState> slot, Map<String, Long> estimates) {
    }

    /** What asking one database gave: its figures, or why there are none. */
    private record Answer<T>(T figures, String error) {
    }

    /**
     * Asks both databases at once and makes the document on the thread of the last answer (or when the wait is
     * over): no thread waits for another.
     */
    public CompletableFuture<ObjectNode> collect() {
        CompletableFuture<Answer<TargetFigures>> fromTarget = ask(this::readTarget);
        CompletableFuture<Answer<SourceFigures>> fromSource = DatabaseProbe.sourceConfigured()
                ? ask(this::readSource)
                : CompletableFuture.completedFuture(null);
        return fromTarget.thenCombine(fromSource, this::document);
    }

    private <T> CompletableFuture<Answer<T>> ask(Supplier<T> read) {
        // a read that has not started when the wait is over (the threads held by a database that hangs) never starts
        return CompletableFuture.supplyAsync(read, threads).orTimeout(WAIT_MILLIS, TimeUnit.MILLISECONDS)
                .handle((figures, failure) -> {
                    if (failure == null) {
                        return new Answer<>(figures, null);
                    }
                    Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                            ? failure.getCause()
                            : failure;
                    return new Answer<>(null, cause instanceof TimeoutException
                            ? "no answer within " + WAIT_MILLIS + " ms"
                            : LogText.oneLine(cause instanceof SQLException sql
                                    ? TargetTransactions.withoutValues(sql) + " (SQLSTATE " + sql.getSQLState() + ")"
                                    : String.valueOf(cause.getMessage())));
                });
    }

    private ObjectNode document(Answer<TargetFigures> fromTarget, Answer<SourceFigures> fromSource) {
        ObjectNode status = mapper.createObjectNode();
        status.put("at", Instant.now().toString());
        ObjectNode databases = status.putObject("databases");
        TargetFigures t = reached(fromTarget, databases.putObject("target"));
        SourceFigures s = null;
        if (fromSource == null) {
            databases.putObject("source").put("configured", false);
        } else {
            s = reached(fromSource, databases.putObject("source"));
        }

        ObjectNode versions = status.putObject("versions");
        versions.put("replicator", replicatorVersion);
        versions.put("quarkus", quarkusVersion);
        versions.put("java", Runtime.version().toString());
        versions.put("target", t == null ? null : t.version());
        versions.put("source", s == null ? null : s.version());

        status.set("slots", slots(s, t));
        status.set("backfill", backfill(t, s));
        status.set("verify", verify());
        status.set("parked", t == null ? null : t.parked());
        if (settings == null) {
            settings = settings(); // fixed at start: walked once
        }
        status.set("settings", settings); // never changed once made
        return status;
    }

    private static <T> T reached(Answer<T> answer, ObjectNode database) {
        database.put("reachable", answer.error() == null);
        if (answer.error() != null) {
            database.put("error", answer.error());
        }
        return answer.figures();
    }

    private ArrayNode slots(SourceFigures s, TargetFigures t) {
        ArrayNode slots = mapper.createArrayNode();
        String name = config.pull().slot();
        ObjectNode slot = slots.addObject().put("slot", name);
        if (s != null) {
            slot.put("exists", s.slot().isPresent());
            s.slot().ifPresent(state -> slot.put("confirmedLsn", state.confirmedLsn())
                    .put("lagBytes", state.lagBytes()).put("active", state.active())
                    .put("walStatus", state.walStatus()));
        }
        if (t != null) {
            slot.put("pulledTables", t.pulledTables()).put("lastPulledWrite", t.pulledAt());
        }
        JobHistory.Pull last = history.pulls().get(name);
        slot.set("lastPull", last == null ? null : mapper.valueToTree(last));
        return slots;
    }

    private ArrayNode backfill(TargetFigures t, SourceFigures s) {
        ArrayNode tables = mapper.createArrayNode();
        if (t == null) {
            return tables;
        }
        Map<String, JobHistory.Backfill> here = history.backfills();
        for (ObjectNode row : t.backfill()) {
            String table = row.path("table").asText();
            long rows = row.path("rows").asLong();
            boolean done = row.path("done").asBoolean();
            Long estimate = done ? Long.valueOf(rows) : s == null ? null : s.estimates().get(table);
            if (estimate != null) {
                long total = Math.max(estimate, rows);
                row.put("estimatedRows", total);
                row.put("percent", done ? 100.0 : Math.min(99.9, Math.floor(1000.0 * rows / Math.max(1, total)) / 10));
            }
            JobHistory.Backfill last = here.get(table);
            if (last != null) {
                ObjectNode run = row.putObject("lastRun").put("at", last.at().toString());
                if (last.progress().rowsPerSecond() != null) {
                    run.put("rowsPerSecond", last.progress().rowsPerSecond());
                }
                if (last.progress().secondsLeft() != null) {
                    run.put("secondsLeft", last.progress().secondsLeft());
                }
            }
            tables.add(row);
        }
        return tables;
    }

    private ArrayNode verify() {
        ArrayNode tables = mapper.createArrayNode();
        new TreeMap<>(history.verifies()).forEach((table, last) -> {
            ObjectNode row = mapper.valueToTree(last.result());
            row.put("at", last.at().toString());
            tables.add(row);
        });
        return tables;
    }

    // ---- the databases' reads ------------------------------------------------------------------------------

    /**
     * Opens each database's batch: read-only, statements bounded. The batch is one round trip (the driver sends its
     * statements together), the rollback after it another, which keeps the answer fast on a busy instance.
     */
    static final String BOUNDED = "SET TRANSACTION READ ONLY; SET LOCAL statement_timeout = '" + STATEMENT_TIMEOUT
            + "'; ";
    static final String BACKFILL = "SELECT table_name, rows, done, updated_at FROM %s ORDER BY table_name";
    static final String NO_BACKFILL = "SELECT NULL::text, 0::bigint, false, NULL::timestamptz WHERE false";
    static final String COVERAGE = "SELECT count(*), max(updated_at) FROM %s";
    static final String NO_COVERAGE = "SELECT 0::bigint, NULL::timestamptz";
    // the reason without the event id its message starts with, so that one cause is one line
    static final String PARKED = "SELECT status, regexp_replace(reason, '^event [^:]*: ', ''), count(*),"
            + " max(received_at) FROM %s GROUP BY 1, 2 ORDER BY 3 DESC, 2";
    static final String NO_PARKED = "SELECT 0, ''::text, 0::bigint, NULL::timestamptz WHERE false";
    static final String ESTIMATES = "SELECT n.nspname, c.relname, c.reltuples::bigint FROM pg_class c"
            + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND c.reltuples > 0"
            + " AND n.nspname NOT IN ('pg_catalog', 'information_schema')";

    /** Reads one result set of a batch. */
    interface Rows {
        void read(ResultSet rs) throws SQLException;
    }

    private TargetFigures readTarget() {
        return read(target.get(), connection -> {
            try {
                return targetFigures(connection, Set.of("backfill_progress", "pull_coverage", "rejected"));
            } catch (SQLException e) {
                if (!"42P01".equals(e.getSQLState())) {
                    throw e;
                }
                // a table of replicator's was dropped (it is made again when next written): ask for those there are
                connection.rollback();
                Set<String> present = new HashSet<>();
                for (String table : List.of("backfill_progress", "pull_coverage", "rejected")) {
                    if (exists(connection, table)) {
                        present.add(table);
                    }
                }
                connection.rollback();
                return targetFigures(connection, present);
            }
        });
    }

    private TargetFigures targetFigures(Connection connection, Set<String> present) throws SQLException {
        List<ObjectNode> backfill = new ArrayList<>();
        ObjectNode parked = mapper.createObjectNode();
        ArrayNode reasons = parked.putArray("byReason");
        long[] total = { 0 };
        long[] pulledTables = { 0 };
        String[] pulledAt = { null };
        batch(connection, BOUNDED + select(present, "backfill_progress", BACKFILL, NO_BACKFILL) + "; "
                + select(present, "pull_coverage", COVERAGE, NO_COVERAGE) + "; "
                + select(present, "rejected", PARKED, NO_PARKED),
                rs -> {
                    while (rs.next()) {
                        backfill.add(mapper.createObjectNode().put("table", rs.getString(1))
                                .put("rows", rs.getLong(2)).put("done", rs.getBoolean(3))
                                .put("updatedAt", instant(rs.getTimestamp(4))));
                    }
                },
                rs -> {
                    rs.next();
                    pulledTables[0] = rs.getLong(1);
                    pulledAt[0] = instant(rs.getTimestamp(2));
                },
                rs -> {
                    while (rs.next()) {
                        total[0] += rs.getLong(3);
                        if (reasons.size() < REASONS) {
                            reasons.addObject().put("status", rs.getInt(1)).put("reason", rs.getString(2))
                                    .put("count", rs.getLong(3)).put("newest", instant(rs.getTimestamp(4)));
                        }
                    }
                });
        parked.put("total", total[0]);
        return new TargetFigures(connection.getMetaData().getDatabaseProductVersion(), backfill, parked, pulledAt[0],
                pulledTables[0]);
    }

    private String select(Set<String> present, String table, String select, String otherwise) {
        return present.contains(table) ? String.format(select, own(table)) : otherwise;
    }

    private SourceFigures readSource() {
        return read(source.get(), connection -> {
            List<SlotState> slot = new ArrayList<>();
            Map<String, Long> estimates = new TreeMap<>();
            String name = config.pull().slot();
            batch(connection, BOUNDED + SlotState.SELECT.replace("?", "'" + name.replace("'", "''") + "'") + "; "
                    + ESTIMATES,
                    rs -> {
                        if (rs.next()) {
                            slot.add(SlotState.of(name, rs));
                        }
                    },
                    rs -> {
                        // by the name backfill records them under
                        while (rs.next()) {
                            estimates.put(new TableId(rs.getString(1), rs.getString(2)).toString(), rs.getLong(3));
                        }
                    });
            return new SourceFigures(connection.getMetaData().getDatabaseProductVersion(),
                    slot.stream().findFirst(), estimates);
        });
    }

    /** Runs the statements as one batch and hands the result sets, in order, to the readers. */
    private static void batch(Connection connection, String statements, Rows... readers) throws SQLException {
        try (Statement batch = connection.createStatement()) {
            boolean isResult = batch.execute(statements);
            int next = 0;
            while (true) {
                if (isResult) {
                    try (ResultSet rs = batch.getResultSet()) {
                        readers[next++].read(rs);
                    }
                } else if (batch.getUpdateCount() == -1) {
                    break;
                }
                isResult = batch.getMoreResults();
            }
        }
    }

    interface Reads<T> {
        T run(Connection connection) throws SQLException;
    }

    /** Runs the reads in a transaction of their own, rolled back after them. */
    private static <T> T read(DataSource database, Reads<T> reads) {
        try (Connection connection = database.getConnection()) {
            connection.setAutoCommit(false);
            try {
                return reads.run(connection);
            } finally {
                connection.rollback();
                connection.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new CompletionException(e);
        }
    }

    private boolean exists(Connection connection, String table) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            select.setString(1, own(table));
            try (ResultSet rs = select.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    private String own(String table) {
        return Sql.quote(schema) + "." + Sql.quote(table);
    }

    private static String instant(Timestamp at) {
        return at == null ? null : at.toInstant().toString();
    }

    // ---- settings ------------------------------------------------------------------------------------------

    /**
     * {@code replicator.*} as in force (defaults included), walked from the configuration interface so that a new
     * setting shows without change here; the datasources by server, port and database only.
     */
    private ObjectNode settings() {
        ObjectNode settings = mapper.createObjectNode();
        settings.set("replicator", settingsOf(config, ReplicatorConfig.class));
        ObjectNode datasources = settings.putObject("datasources");
        for (String name : List.of("target", "source")) {
            ConfigProvider.getConfig().getOptionalValue("quarkus.datasource." + name + ".jdbc.url", String.class)
                    .ifPresent(url -> datasources.putObject(name).put("server", server(url))
                            .put("maxSize", ConfigProvider.getConfig().getOptionalValue(
                                    "quarkus.datasource." + name + ".jdbc.max-size", Integer.class).orElse(null)));
        }
        return settings;
    }

    private JsonNode settingsOf(Object group, Class<?> type) {
        ObjectNode node = mapper.createObjectNode();
        List<Method> methods = new ArrayList<>(List.of(type.getMethods()));
        methods.sort((a, b) -> a.getName().compareTo(b.getName()));
        for (Method method : methods) {
            if (method.getParameterCount() != 0 || Modifier.isStatic(method.getModifiers()) || method.isDefault()
                    || method.getDeclaringClass() == Object.class) {
                continue;
            }
            Object value;
            try {
                value = method.invoke(group);
            } catch (ReflectiveOperationException e) {
                continue;
            }
            node.set(kebab(method.getName()), valueOf(value, method.getReturnType()));
        }
        return node;
    }

    private JsonNode valueOf(Object value, Class<?> type) {
        if (value instanceof Optional<?> optional) {
            return optional.isPresent() ? valueOf(optional.get(), optional.get().getClass()) : mapper.nullNode();
        }
        if (value instanceof Map<?, ?> map) {
            ObjectNode node = mapper.createObjectNode();
            new TreeMap<>(map).forEach((k, v) -> node.set(String.valueOf(k), valueOf(v, configType(v))));
            return node;
        }
        if (value instanceof Collection<?> list) {
            ArrayNode node = mapper.createArrayNode();
            list.forEach(v -> node.add(String.valueOf(v)));
            return node;
        }
        if (value instanceof MemorySize size) {
            return mapper.getNodeFactory().numberNode(size.asLongValue()); // bytes
        }
        if (value instanceof Boolean || value instanceof Number) {
            return mapper.valueToTree(value);
        }
        if (type.isInterface() && type.getName().startsWith(ReplicatorConfig.class.getName())) {
            return settingsOf(value, type);
        }
        return value == null ? mapper.nullNode() : mapper.getNodeFactory().textNode(String.valueOf(value));
    }

    /** The configuration interface a value of a map implements (table mappings). */
    private static Class<?> configType(Object value) {
        for (Class<?> type : value.getClass().getInterfaces()) {
            if (type.getName().startsWith(ReplicatorConfig.class.getName())) {
                return type;
            }
        }
        return value.getClass();
    }

    static String kebab(String name) {
        return name.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
    }

    /** {@code host:port/database} of a JDBC URL: no user, password or parameters. */
    static String server(String jdbcUrl) {
        String rest = jdbcUrl.replaceFirst("^jdbc:[a-z]+://", "");
        int query = rest.indexOf('?');
        rest = query >= 0 ? rest.substring(0, query) : rest;
        int at = rest.lastIndexOf('@');
        return at >= 0 ? rest.substring(at + 1) : rest;
    }
}
