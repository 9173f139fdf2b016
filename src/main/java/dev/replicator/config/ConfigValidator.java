package dev.replicator.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import io.quarkus.runtime.StartupEvent;

import dev.replicator.decode.NativeDecoder;
import dev.replicator.decode.TableId;
import dev.replicator.route.Names;
import dev.replicator.route.ReservedSchemas;

/**
 * Refuses to start with settings that cannot work, naming each problem, instead of failing on the first event.
 */
@Singleton
public class ConfigValidator {

    /** Largest chunk a request may ask for: one chunk is held in memory. */
    public static final int MAX_CHUNK_SIZE = 100_000;
    public static final int MAX_SAMPLE_KEYS = 1_000;
    static final Duration MAX_TIME_BUDGET = Duration.ofMinutes(4);

    void onStart(@Observes @Priority(1) StartupEvent event, ReplicatorConfig config) {
        List<String> problems = problems(config);
        if (!problems.isEmpty()) {
            throw new IllegalStateException("replicator configuration is invalid:\n  - " + String.join("\n  - ", problems));
        }
    }

    static List<String> problems(ReplicatorConfig config) {
        List<String> problems = new ArrayList<>();
        String ownSchema = config.ordering().schema();
        if (ownSchema.isBlank()) {
            problems.add("replicator.ordering.schema must not be empty");
        } else if (Names.problem(ownSchema) != null) {
            problems.add("replicator.ordering.schema " + Names.problem(ownSchema));
        } else if (new ReservedSchemas("").contains(new TableId(ownSchema, "row_position"))) {
            problems.add("replicator.ordering.schema must not be a schema of PostgreSQL's own, got '" + ownSchema + "'");
        }
        ReservedSchemas reserved = new ReservedSchemas(ownSchema.isBlank() ? "replicator" : ownSchema);
        config.tables().forEach((source, mapping) -> {
            checkTableName(problems, reserved, "replicator.tables key", source);
            mapping.target().ifPresent(target -> checkTableName(problems, reserved,
                    "replicator.tables.\"" + source + "\".target", target));
        });
        check(problems, () -> config.debezium().conversionOptions());
        check(problems, () -> config.schema().adds());
        if (config.ordering().tombstoneRetention().isNegative() || config.ordering().tombstoneRetention().isZero()) {
            problems.add("replicator.ordering.tombstone-retention must be positive, got "
                    + config.ordering().tombstoneRetention());
        }
        for (String type : config.debezium().eventTypes()) {
            if (type.isBlank() || type.equals(NativeDecoder.TYPE) || type.startsWith("replicator.")) {
                problems.add("replicator.debezium.event-types must list Debezium CloudEvent types, got '" + type + "'");
            }
        }
        checkBudget(problems, "replicator.backfill.time-budget", config.backfill().timeBudget());
        checkBudget(problems, "replicator.verify.time-budget", config.verify().timeBudget());
        checkRange(problems, "replicator.backfill.chunk-size", config.backfill().chunkSize(), 1, MAX_CHUNK_SIZE);
        checkRange(problems, "replicator.verify.chunk-size", config.verify().chunkSize(), 1, MAX_CHUNK_SIZE);
        checkRange(problems, "replicator.verify.sample-keys", config.verify().sampleKeys(), 0, MAX_SAMPLE_KEYS);
        checkPull(problems, config.pull());
        ReplicatorConfig.GroupCommit group = config.groupCommit();
        if (group.writers() < 1) {
            problems.add("replicator.group-commit.writers must be at least 1, got " + group.writers());
        }
        if (group.maxChanges() < 1) {
            problems.add("replicator.group-commit.max-changes must be at least 1, got " + group.maxChanges());
        }
        if (group.maxWait().isNegative() || group.maxWait().compareTo(Duration.ofSeconds(1)) > 0) {
            problems.add("replicator.group-commit.max-wait must be between 0 and 1 second, got " + group.maxWait());
        }
        if (group.maxWaitCpuBound().isNegative() || group.maxWaitCpuBound().compareTo(Duration.ofSeconds(1)) > 0) {
            problems.add("replicator.group-commit.max-wait-cpu-bound must be between 0 and 1 second, got "
                    + group.maxWaitCpuBound());
        }
        if (group.maxChangesInFlight() < 1) {
            problems.add("replicator.group-commit.max-changes-in-flight must be at least 1, got "
                    + group.maxChangesInFlight());
        }
        if (config.admission().maxBytesInFlight().asLongValue() < 1) {
            problems.add("replicator.admission.max-bytes-in-flight must be at least 1 byte, got "
                    + config.admission().maxBytesInFlight().asLongValue());
        }
        if (config.tables().isEmpty() && !config.allowAllTables()) {
            problems.add("no table is replicated: list tables under replicator.tables.\"schema.table\" "
                    + "or set replicator.allow-all-tables=true");
        }
        return problems;
    }

    /** Slot names allow lower-case letters, digits and underscores; the publication is kept to the same. */
    private static void checkPull(List<String> problems, ReplicatorConfig.Pull pull) {
        if (!pull.slot().matches("[a-z0-9_]{1,63}")) {
            problems.add("replicator.pull.slot must be 1 to 63 lower-case letters, digits or underscores, got '"
                    + pull.slot() + "'");
        }
        if (!pull.publication().matches("[a-z_][a-z0-9_]{0,62}")) {
            problems.add("replicator.pull.publication must be a lower-case name of letters, digits and underscores,"
                    + " got '" + pull.publication() + "'");
        }
        checkBudget(problems, "replicator.pull.time-budget", pull.timeBudget());
        if (!"stream".equals(pull.read()) && !"peek".equals(pull.read())) {
            problems.add("replicator.pull.read must be stream or peek, got '" + pull.read() + "'");
        }
        checkRange(problems, "replicator.pull.peek-changes", pull.peekChanges(), 1, 10_000_000);
        checkRange(problems, "replicator.pull.group-changes", pull.groupChanges(), 1, MAX_CHUNK_SIZE);
    }

    /** A budget must leave the invocation time to answer before the platform's request timeout (5 minutes). */
    private static void checkBudget(List<String> problems, String setting, Duration budget) {
        if (budget.isNegative() || budget.isZero() || budget.compareTo(MAX_TIME_BUDGET) > 0) {
            problems.add(setting + " must be positive and at most " + MAX_TIME_BUDGET.toSeconds() + "s, got " + budget);
        }
    }

    private static void checkRange(List<String> problems, String setting, int value, int min, int max) {
        if (value < min || value > max) {
            problems.add(setting + " must be between " + min + " and " + max + ", got " + value);
        }
    }

    /** A mapped name must be schema.table, a name PostgreSQL can hold, and not in a reserved schema. */
    private static void checkTableName(List<String> problems, ReservedSchemas reserved, String setting, String name) {
        int dot = name.indexOf('.');
        if (dot <= 0 || dot == name.length() - 1 || name.indexOf('.', dot + 1) >= 0) {
            problems.add(setting + " must be schema.table, got '" + name + "'");
            return;
        }
        TableId table;
        try {
            table = TableId.parse(name);
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
            return;
        }
        String bad = Names.problem(table);
        if (bad != null) {
            problems.add(setting + " '" + Names.forMessage(table) + "': " + bad);
            return;
        }
        String off = reserved.reason(table);
        if (off != null) {
            problems.add(setting + " '" + name + "' is in a reserved schema: " + off);
        }
    }

    private static void check(List<String> problems, Runnable check) {
        try {
            check.run();
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
        }
    }
}
