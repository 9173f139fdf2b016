package dev.replicator.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
    void groupCommitSettingsOutOfRangeAreNamed() {
        List<String> problems = ConfigValidator.problems(config(Map.of("replicator.allow-all-tables", "true",
                "replicator.group-commit.writers", "0", "replicator.group-commit.max-changes", "0",
                "replicator.group-commit.max-wait", "PT2S", "replicator.group-commit.max-changes-in-flight", "-1")));
        assertEquals(List.of("replicator.group-commit.writers must be at least 1, got 0",
                "replicator.group-commit.max-changes must be at least 1, got 0",
                "replicator.group-commit.max-wait must be between 0 and 1 second, got PT2S",
                "replicator.group-commit.max-changes-in-flight must be at least 1, got -1"), problems);
    }
}
