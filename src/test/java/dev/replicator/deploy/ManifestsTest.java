package dev.replicator.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

/**
 * The deployment manifests parse and agree with each other and with the application: names, ports, probe paths,
 * secret keys, the environment the app reads, and the CloudEvent types it accepts.
 */
class ManifestsTest {

    static final Path K8S = Path.of("k8s");
    static final List<JsonNode> DOCUMENTS = new ArrayList<>();
    static final Properties APPLICATION = new Properties();
    /** Settings of ReplicatorConfig as environment variables. */
    static final Set<String> REPLICATOR_ENV = Set.of("REPLICATOR_ALLOW_ALL_TABLES", "REPLICATOR_APPLY_TRUNCATE",
            "REPLICATOR_DEBEZIUM_EVENT_TYPES", "REPLICATOR_DEBEZIUM_DECIMAL_HANDLING_MODE",
            "REPLICATOR_DEBEZIUM_TIME_PRECISION_MODE", "REPLICATOR_DEBEZIUM_BINARY_HANDLING_MODE",
            "REPLICATOR_ORDERING_SCHEMA", "REPLICATOR_ORDERING_ACCEPT_UNPOSITIONED",
            "REPLICATOR_ORDERING_TOMBSTONE_RETENTION", "REPLICATOR_REJECTED_PARK", "REPLICATOR_LOG_JSON");
    /** ReplicatorConfig's default for replicator.debezium.event-types. */
    static final String DEFAULT_DEBEZIUM_TYPE = "io.debezium.connector.postgresql.DataChangeEvent";

    @BeforeAll
    static void load() throws IOException {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        try (Stream<Path> files = Files.walk(K8S)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                try (MappingIterator<JsonNode> docs = yaml.readerFor(JsonNode.class).readValues(file.toFile())) {
                    while (docs.hasNext()) {
                        JsonNode doc = docs.next();
                        if (doc != null && !doc.isNull() && !doc.isEmpty()) {
                            ((com.fasterxml.jackson.databind.node.ObjectNode) doc).put("_file", file.toString());
                            DOCUMENTS.add(doc);
                        }
                    }
                }
            }
        }
        try (Reader reader = Files.newBufferedReader(Path.of("src/main/resources/application.properties"))) {
            APPLICATION.load(reader);
        }
    }

    static List<JsonNode> kind(String kind) {
        return DOCUMENTS.stream().filter(d -> kind.equals(d.path("kind").asText())).toList();
    }

    static Set<String> names(String kind) {
        Set<String> names = new TreeSet<>();
        kind(kind).forEach(d -> names.add(d.path("metadata").path("name").asText()));
        return names;
    }

    @Test
    void kustomizationListsFilesThatExist() {
        JsonNode kustomization = kind("Kustomization").get(0);
        for (JsonNode resource : kustomization.get("resources")) {
            assertTrue(Files.exists(K8S.resolve(resource.asText())), "kustomization lists missing " + resource);
        }
    }

    @Test
    void triggersPointAtTheServiceTheBrokerAndADeadLetterSink() {
        Set<String> services = names("Service");
        for (JsonNode trigger : kind("Trigger")) {
            String name = trigger.path("metadata").path("name").asText();
            JsonNode spec = trigger.get("spec");
            assertTrue(names("Broker").contains(spec.path("broker").asText()), name + ": unknown broker");
            assertEquals("replicator", spec.path("subscriber").path("ref").path("name").asText(), name);
            assertTrue(services.contains(spec.path("delivery").path("deadLetterSink").path("ref").path("name").asText()),
                    name + ": dead-letter sink is not a Service here");
            assertTrue(spec.path("delivery").path("retry").asInt() > 0, name + ": no retries");
        }
    }

    @Test
    void triggerTypesAreExactlyTheTypesTheAppAccepts() {
        Set<String> accepted = new HashSet<>(List.of(APPLICATION.getProperty("replicator.debezium.event-types",
                DEFAULT_DEBEZIUM_TYPE).split(",")));
        APPLICATION.stringPropertyNames().stream()
                .filter(k -> k.startsWith("quarkus.funqy.knative-events.mapping.") && k.endsWith(".trigger"))
                .map(APPLICATION::getProperty).filter(t -> !t.equals("*")).forEach(accepted::add);
        Set<String> filtered = new HashSet<>();
        kind("Trigger").forEach(t -> filtered.add(t.path("spec").path("filter").path("attributes").path("type").asText()));
        assertEquals(new TreeSet<>(accepted), new TreeSet<>(filtered), "Trigger filters vs accepted ce-types");
    }

    @Test
    void replicatorContainersUseTheAppsPortProbesEnvironmentAndSecretKeys() {
        String port = APPLICATION.getProperty("quarkus.http.port");
        Set<String> secretKeys = new HashSet<>();
        kind("Secret").forEach(s -> s.path("stringData").fieldNames().forEachRemaining(secretKeys::add));
        Set<String> secrets = names("Secret");
        int checked = 0;
        for (JsonNode service : kind("Service")) {
            if (!"replicator".equals(service.path("metadata").path("name").asText())) {
                continue;
            }
            boolean cloudRun = service.path("_file").asText().contains("cloudrun");
            for (JsonNode container : service.path("spec").path("template").path("spec").path("containers")) {
                checked++;
                assertEquals(port, container.path("ports").get(0).path("containerPort").asText(), "container port");
                for (String probe : List.of("readinessProbe", "livenessProbe", "startupProbe")) {
                    JsonNode get = container.path(probe).path("httpGet");
                    if (!get.isMissingNode()) {
                        assertTrue(get.path("path").asText().matches("/q/health/(ready|live)"), probe);
                        assertEquals(port, get.path("port").asText(), probe + " port");
                    }
                }
                assertFalse(container.path("livenessProbe").path("httpGet").path("path").asText().endsWith("ready"),
                        "liveness must not depend on the databases");
                for (JsonNode env : container.path("env")) {
                    String name = env.path("name").asText();
                    assertTrue(name.matches("QUARKUS_DATASOURCE_(SOURCE|TARGET)_(JDBC_URL|USERNAME|PASSWORD)")
                            || REPLICATOR_ENV.contains(name), "the app does not read " + name);
                    JsonNode ref = env.path("valueFrom").path("secretKeyRef");
                    if (!ref.isMissingNode() && !cloudRun) {
                        assertTrue(secrets.contains(ref.path("name").asText()), name + ": unknown secret");
                        assertTrue(secretKeys.contains(ref.path("key").asText()), name + ": secret has no such key");
                    }
                }
            }
        }
        assertEquals(2, checked, "the Knative and the Cloud Run service");
    }

    @Test
    void debeziumServerPostsToTheBroker() {
        JsonNode config = kind("ConfigMap").stream()
                .filter(c -> c.path("metadata").path("name").asText().equals("debezium-server")).findFirst()
                .orElseThrow();
        String properties = config.path("data").path("application.properties").asText();
        String broker = names("Broker").iterator().next();
        assertTrue(properties.contains("debezium.sink.http.url=http://broker-ingress.knative-eventing.svc.cluster.local/")
                && properties.contains("/" + broker + "\n"), "Debezium Server must post to the broker ingress");
        assertTrue(properties.contains("debezium.format.value=cloudevents"));
    }
}
