package dev.replicator.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;

/** Settings that cannot work are refused at start-up, each named. */
class ConfigValidatorTest {

    static ReplicatorConfig config(Map<String, String> values) {
        // Quarkus's duration converter, as at run time: it takes "60s" as well as ISO-8601
        SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(ReplicatorConfig.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withSources(new PropertiesConfigSource(values, "test", 100)).build();
        return config.getConfigMapping(ReplicatorConfig.class);
    }

    @Test
    void defaultsAreValid() {
        assertEquals(List.of(), ConfigValidator.problems(config(Map.of("replicator.allow-all-tables", "true"))));
    }

    @Test
    void anUnknownSchemaEvolutionIsNamed() {
        assertEquals(List.of("replicator.schema.evolution must be none or add, got 'basic'"),
                ConfigValidator.problems(config(Map.of("replicator.allow-all-tables", "true",
                        "replicator.schema.evolution", "basic"))));
        assertEquals(List.of(), ConfigValidator.problems(config(Map.of("replicator.allow-all-tables", "true",
                "replicator.schema.evolution", "add", "replicator.sequences.sync", "false"))));
    }

    @Test
    void groupCommitSettingsOutOfRangeAreNamed() {
        List<String> problems = ConfigValidator.problems(config(Map.of("replicator.allow-all-tables", "true",
                "replicator.group-commit.writers", "0", "replicator.group-commit.max-changes", "0",
                "replicator.group-commit.max-wait", "PT2S", "replicator.group-commit.max-changes-in-flight", "-1")));
        assertEquals(List.of("replicator.group-commit.writers must be at least 1, got 0",
                "replicator.group-commit.max-changes must be at least 1, got 0",
                "replicator.group-commit.max-wait must be between 0 and 1 second, got PT2S",
                "replicator.group-commit.max-changes-in-flight must be at least 1, got -1"), problems);
    }

    @Test
    void aWaitWhenCpuBoundOutOfRangeIsNamedAndOneShorterThanMaxWaitIsNot() {
        assertEquals(List.of("replicator.group-commit.max-wait-cpu-bound must be between 0 and 1 second, got PT2S"),
                ConfigValidator.problems(config(Map.of("replicator.allow-all-tables", "true",
                        "replicator.group-commit.max-wait-cpu-bound", "PT2S"))));
        // a max-wait longer than the default 10 ms set before the setting existed still starts; it applies throughout
        assertEquals(List.of(), ConfigValidator.problems(config(Map.of("replicator.allow-all-tables", "true",
                "replicator.group-commit.max-wait", "PT0.02S"))));
    }

    @Test
    void pullSettingsThatCannotWorkAreNamed() {
        List<String> problems = ConfigValidator.problems(config(Map.of("replicator.allow-all-tables", "true",
                "replicator.pull.slot", "My-Slot", "replicator.pull.publication", "pub,other",
                "replicator.pull.time-budget", "10m", "replicator.pull.peek-changes", "0",
                "replicator.pull.group-changes", "0")));
        assertEquals(List.of("replicator.pull.slot must be 1 to 63 lower-case letters, digits or underscores, got"
                + " 'My-Slot'", "replicator.pull.publication must be a lower-case name of letters, digits and"
                + " underscores, got 'pub,other'", "replicator.pull.time-budget must be positive and at most 240s,"
                + " got PT10M", "replicator.pull.peek-changes must be between 1 and 10000000, got 0",
                "replicator.pull.group-changes must be between 1 and 100000, got 0"), problems);
    }

    @Test
    void mappingsIntoReservedSchemasAreRefused() {
        List<String> problems = ConfigValidator.problems(config(Map.of(
                "replicator.tables.\"pg_catalog.pg_description\".target", "public.descriptions",
                "replicator.tables.\"public.orders\".target", "replicator.row_position",
                "replicator.tables.\"public.items\".target", "PG_TOAST.items",
                "replicator.tables.\"information_schema.tables\".exclude-columns", "x",
                "replicator.tables.\"public.notes\".target", "pg_temp_1.notes",
                "replicator.tables.\"public.fine\".target", "archive.fine")));
        assertEquals(5, problems.size(), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("replicator.tables key 'pg_catalog.pg_description'"
                + " is in a reserved schema")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("'replicator.row_position' is in a reserved schema:"
                + " schema replicator holds replicator's own tables")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("'PG_TOAST.items'")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("'information_schema.tables'")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("'pg_temp_1.notes'")), problems.toString());
    }

    @Test
    void theOwnSchemaFollowsTheSettingAndMayNotBePostgresOwn() {
        List<String> problems = ConfigValidator.problems(config(Map.of("replicator.ordering.schema", "repl_state",
                "replicator.tables.\"public.a\".target", "repl_state.a",
                "replicator.tables.\"public.b\".target", "replicator.b")));
        assertEquals(List.of("replicator.tables.\"public.a\".target 'repl_state.a' is in a reserved schema: schema"
                + " repl_state holds replicator's own tables"), problems);
        assertEquals(List.of("replicator.ordering.schema must not be a schema of PostgreSQL's own, got 'pg_catalog'"),
                ConfigValidator.problems(config(Map.of("replicator.allow-all-tables", "true",
                        "replicator.ordering.schema", "pg_catalog"))));
    }

    @Test
    void mappedNamesPostgresCannotHoldAreRefused() {
        List<String> problems = ConfigValidator.problems(config(Map.of(
                "replicator.tables.\"public.orders\".target", "public." + "x".repeat(64))));
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("longer than 63 bytes"), problems.toString());
    }
}
