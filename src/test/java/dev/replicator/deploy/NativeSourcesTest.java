package dev.replicator.deploy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.replicator.source.backfill.BackfillReport;
import dev.replicator.source.backfill.BackfillRequest;
import dev.replicator.source.sequences.SequenceSync;
import dev.replicator.source.verify.VerifyReport;
import dev.replicator.source.verify.VerifyRequest;

/**
 * Reads what Quarkus's native build steps generated for GraalVM ({@code native-image.args} and the runner jar's
 * {@code META-INF/native-image/*.json}) and checks that what this application needs at run time is there. Those
 * steps run without GraalVM: {@code ./mvnw package -Dnative -Dquarkus.native.sources-only=true -DskipTests}, then
 * {@code ./mvnw surefire:test -Dtest=NativeSourcesTest -Dnative.sources=target/native-sources}.
 */
@EnabledIfSystemProperty(named = "native.sources", matches = ".+")
class NativeSourcesTest {

    /** The types Jackson binds from request JSON or writes into answers; they are reached only by reflection. */
    static final List<Class<?>> JACKSON_BOUND = List.of(BackfillRequest.class, BackfillReport.class,
            BackfillReport.TableProgress.class, VerifyRequest.class, VerifyRequest.Resume.class, VerifyReport.class,
            VerifyReport.TableResult.class, VerifyReport.SampleKey.class, SequenceSync.Synced.class,
            dev.replicator.source.dispatch.JobHistory.Pull.class, dev.replicator.config.ReplicatorConfig.class,
            dev.replicator.config.ReplicatorConfig.Pull.class, dev.replicator.config.ReplicatorConfig.Schema.class,
            dev.replicator.config.ReplicatorConfig.Sequences.class);

    static String args;
    static final Map<String, JsonNode> reflection = new HashMap<>();
    static JsonNode resources;

    @BeforeAll
    static void readNativeSources() throws IOException {
        Path folder = Path.of(System.getProperty("native.sources"));
        Path argsFile = folder.resolve("native-image.args");
        assertTrue(Files.isRegularFile(argsFile), argsFile + " is missing: run the native build steps first");
        args = Files.readString(argsFile);
        ObjectMapper json = new ObjectMapper();
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(folder, "*-runner.jar")) {
            Path runner = jars.iterator().next();
            try (ZipFile jar = new ZipFile(runner.toFile())) {
                for (JsonNode entry : json.readTree(jar.getInputStream(entry(jar, "reflect-config.json")))) {
                    reflection.put(entry.path("name").asText(), entry);
                }
                resources = json.readTree(jar.getInputStream(entry(jar, "resource-config.json")));
            }
        }
    }

    private static ZipEntry entry(ZipFile jar, String name) {
        ZipEntry entry = jar.getEntry("META-INF/native-image/" + name);
        assertTrue(entry != null, "the runner jar has no META-INF/native-image/" + name);
        return entry;
    }

    @Test
    void jacksonBoundTypesAreRegisteredForReflectionWithTheirConstructorsMethodsAndFields() {
        for (Class<?> type : JACKSON_BOUND) {
            JsonNode entry = reflection.get(type.getName());
            assertTrue(entry != null, type.getName() + " is not registered for reflection");
            for (String access : List.of("allDeclaredConstructors", "allDeclaredMethods", "allDeclaredFields")) {
                assertTrue(entry.path(access).asBoolean(), type.getName() + " lacks " + access);
            }
        }
    }

    @Test
    void thePostgresqlDriverIsRegisteredAndItsFeatureRuns() {
        assertTrue(reflection.containsKey("org.postgresql.Driver"), "org.postgresql.Driver is not registered");
        assertTrue(args.contains("io.quarkus.jdbc.postgresql.runtime.graal."),
                "no PostgreSQL feature among the native-image --features");
        String patterns = resources.path("resources").path("includes").toString();
        assertTrue(patterns.contains("org/postgresql/driverconfig.properties"),
                "the driver's driverconfig.properties is not included as a resource");
        assertTrue(patterns.contains("META-INF/services/java.sql.Driver"),
                "the java.sql.Driver service file is not included as a resource");
    }

    @Test
    void theImageIsBuiltWithoutFallbackAndWithHttpUrlProtocols() {
        assertTrue(args.contains("--no-fallback"), "a fallback image would need a JVM at run time");
        assertTrue(args.contains("--enable-url-protocols=http,https"), "http/https URL protocols are not enabled");
    }
}
