package dev.replicator.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;

import dev.replicator.config.ReplicatorConfig;
import dev.replicator.source.JobEventTypes;
import dev.replicator.source.dispatch.JobRequests;
import dev.replicator.source.pull.PullRequest;

/**
 * The deployment files parse and agree with each other and with the application: names, references, ports, probe
 * paths, secret keys, the environment the app reads and the CloudEvent types it accepts. There is no cluster in the
 * build, so this is what keeps k8s/, the Dockerfiles and the code from drifting apart.
 */
class ManifestsTest {

    static final Path K8S = Path.of("k8s");
    static final Path KUSTOMIZATION = K8S.resolve("kustomization.yaml");
    /** Deployed with gcloud, not kustomize: its secretKeyRefs name Secret Manager secrets. */
    static final Path CLOUD_RUN = K8S.resolve("cloudrun/service.yaml");
    /** Manifests for planned features, kept out of kustomization.yaml. */
    static final String EXAMPLE_SUFFIX = ".example.yaml";
    /** The demo variant (in-memory broker, dead letters in a log): a kustomization of its own over k8s/'s files. */
    static final Path DEMO = K8S.resolve("demo");
    /** Prometheus Operator resources and the dashboard: a kustomization of its own, checked by MonitoringManifestsTest. */
    static final Path MONITORING = K8S.resolve("monitoring");
    static final String REPLICATOR = "replicator";
    /** The Secrets docs/deploy.md has the operator create; kustomization.yaml must never apply (overwrite) them. */
    static final Path DEPLOY_GUIDE = Path.of("docs/deploy.md");

    /**
     * The connection budget the manifests are sized for: PostgreSQL's default max_connections, of which replicator and
     * Debezium Server may take this many (the rest: superuser_reserved_connections, administrators, other clients),
     * even when source and target are one server.
     */
    static final int MAX_CONNECTIONS = 100;
    static final int REPLICATOR_CONNECTION_BUDGET = 60;
    /** Debezium Server on the source: the replication connection, one for metadata and heartbeats, one for offsets. */
    static final int DEBEZIUM_CONNECTIONS = 3;
    /** A change waiting for its row (409) must be retried at least this long before it is dead-lettered. */
    static final Duration REORDERING_WINDOW = Duration.ofMinutes(30);
    static final String MEMORY = "512Mi";
    static final String HEAP_RATIO_ENV = "JAVA_MAX_MEM_RATIO";

    /**
     * ReplicatorConfig's settings as environment variables, kept by hand so a manifest cannot pick up a name by
     * accident; {@link #allowListMirrorsReplicatorConfig()} keeps it equal to the interface.
     */
    static final Set<String> REPLICATOR_ENV = Set.of(
            "REPLICATOR_ALLOW_ALL_TABLES",
            "REPLICATOR_APPLY_TRUNCATE",
            "REPLICATOR_LOG_JSON",
            "REPLICATOR_DEBEZIUM_EVENT_TYPES",
            "REPLICATOR_DEBEZIUM_DECIMAL_HANDLING_MODE",
            "REPLICATOR_DEBEZIUM_TIME_PRECISION_MODE",
            "REPLICATOR_DEBEZIUM_BINARY_HANDLING_MODE",
            "REPLICATOR_ORDERING_SCHEMA",
            "REPLICATOR_ORDERING_ACCEPT_UNPOSITIONED",
            "REPLICATOR_ORDERING_TOMBSTONE_RETENTION",
            "REPLICATOR_REJECTED_PARK",
            "REPLICATOR_BACKFILL_TIME_BUDGET",
            "REPLICATOR_BACKFILL_CHUNK_SIZE",
            "REPLICATOR_VERIFY_TIME_BUDGET",
            "REPLICATOR_VERIFY_CHUNK_SIZE",
            "REPLICATOR_VERIFY_SAMPLE_KEYS",
            "REPLICATOR_PULL_SLOT",
            "REPLICATOR_PULL_PUBLICATION",
            "REPLICATOR_PULL_CREATE",
            "REPLICATOR_PULL_TIME_BUDGET",
            "REPLICATOR_PULL_READ",
            "REPLICATOR_PULL_PEEK_CHANGES",
            "REPLICATOR_PULL_GROUP_CHANGES",
            "REPLICATOR_GROUP_COMMIT_WRITERS",
            "REPLICATOR_GROUP_COMMIT_MAX_CHANGES",
            "REPLICATOR_GROUP_COMMIT_MAX_WAIT",
            "REPLICATOR_GROUP_COMMIT_MAX_WAIT_CPU_BOUND",
            "REPLICATOR_GROUP_COMMIT_MAX_CHANGES_IN_FLIGHT",
            "REPLICATOR_ADMISSION_MAX_BYTES_IN_FLIGHT",
            "REPLICATOR_SCHEMA_EVOLUTION",
            "REPLICATOR_SEQUENCES_SYNC");
    /**
     * Settings a manifest may already set before ReplicatorConfig declares them. Empty now: REPLICATOR_REJECTED_PARK,
     * once planned, is ReplicatorConfig.Rejected#park.
     */
    static final Set<String> PLANNED_ENV = Set.of();
    static final Pattern DATASOURCE_ENV =
            Pattern.compile("QUARKUS_DATASOURCE_(SOURCE|TARGET)_(JDBC_URL|USERNAME|PASSWORD|JDBC_MAX_SIZE)");
    /** Read by the JVM image's run-java script, not by the app. */
    static final Set<String> RUNTIME_ENV = Set.of(HEAP_RATIO_ENV);
    /** Only read when the quarkus-logging-json extension is in the build; replicator.log-json does it without. */
    static final String QUARKUS_JSON_LOGS_ENV = "QUARKUS_LOG_CONSOLE_JSON_ENABLED";

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    record Doc(Path file, JsonNode node) {
        String kind() {
            return node.path("kind").asText();
        }

        String name() {
            return node.path("metadata").path("name").asText();
        }

        boolean is(String apiGroup, String kind) {
            return kind.equals(kind()) && node.path("apiVersion").asText().startsWith(apiGroup);
        }

        JsonNode spec() {
            return node.path("spec");
        }

        @Override
        public String toString() {
            return file + " " + kind() + "/" + name();
        }
    }

    static JsonNode kustomization;
    static final List<Path> YAML_FILES = new ArrayList<>();
    static final List<Doc> APPLIED = new ArrayList<>();
    static final List<Doc> EXAMPLES = new ArrayList<>();
    static final List<Doc> CLOUD_RUN_DOCS = new ArrayList<>();
    static final Properties APPLICATION = new Properties();

    @BeforeAll
    static void load() throws IOException {
        try (Stream<Path> files = Files.walk(K8S)) {
            files.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml")).sorted()
                    .forEach(YAML_FILES::add);
        }
        kustomization = parse(KUSTOMIZATION).get(0).node();
        for (String resource : resources()) {
            APPLIED.addAll(parse(K8S.resolve(resource)));
        }
        for (Path file : YAML_FILES) {
            if (file.toString().endsWith(EXAMPLE_SUFFIX)) {
                EXAMPLES.addAll(parse(file));
            }
        }
        CLOUD_RUN_DOCS.addAll(parse(CLOUD_RUN));
        try (Reader reader = Files.newBufferedReader(Path.of("src/main/resources/application.properties"))) {
            APPLICATION.load(reader);
        }
    }

    /** Every non-empty YAML document of a file; a file that does not parse fails the test naming it. */
    static List<Doc> parse(Path file) {
        assertTrue(Files.isRegularFile(file), file + " does not exist");
        List<Doc> docs = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
            while (it.hasNext()) {
                JsonNode node = it.next();
                if (node != null && node.isObject() && !node.isEmpty()) {
                    docs.add(new Doc(file, node));
                }
            }
        } catch (IOException | RuntimeException e) {
            fail(file + " is not valid YAML: " + e.getMessage());
        }
        assertFalse(docs.isEmpty(), file + " holds no YAML document");
        return docs;
    }

    static List<String> resources() {
        List<String> resources = new ArrayList<>();
        kustomization.path("resources").forEach(r -> resources.add(r.asText()));
        return resources;
    }

    static List<Doc> applied(Predicate<Doc> filter) {
        return APPLIED.stream().filter(filter).toList();
    }

    static Set<String> names(List<Doc> docs, Predicate<Doc> filter) {
        return docs.stream().filter(filter).map(Doc::name).collect(Collectors.toCollection(TreeSet::new));
    }

    static Predicate<Doc> knativeService() {
        return d -> d.is("serving.knative.dev/", "Service");
    }

    static Predicate<Doc> broker() {
        return d -> d.is("eventing.knative.dev/", "Broker");
    }

    static Predicate<Doc> trigger() {
        return d -> d.is("eventing.knative.dev/", "Trigger");
    }

    /** The replicator Service that kustomization.yaml applies. */
    static Doc knativeReplicator() {
        List<Doc> services = applied(knativeService().and(d -> d.name().equals(REPLICATOR)));
        assertEquals(1, services.size(),
                "kustomization.yaml must apply exactly one Knative Service named " + REPLICATOR);
        return services.get(0);
    }

    static Doc cloudRunReplicator() {
        List<Doc> services = CLOUD_RUN_DOCS.stream().filter(knativeService()).toList();
        assertEquals(1, services.size(), CLOUD_RUN + " must hold exactly one serving.knative.dev Service");
        return services.get(0);
    }

    static JsonNode onlyContainer(Doc service) {
        JsonNode containers = service.spec().path("template").path("spec").path("containers");
        assertEquals(1, containers.size(), service + ": expected one container");
        return containers.get(0);
    }

    static Map<String, JsonNode> env(JsonNode container) {
        Map<String, JsonNode> env = new HashMap<>();
        container.path("env").forEach(e -> env.put(e.path("name").asText(), e));
        return env;
    }

    static String annotation(JsonNode node, String key) {
        return node.path("metadata").path("annotations").path(key).asText(null);
    }

    // ---- the file set -------------------------------------------------------------------------------------------

    @Test
    void kustomizationListsExistingFilesAndEveryManifestIsAccountedFor() {
        Set<Path> listed = new HashSet<>();
        for (String resource : resources()) {
            Path file = K8S.resolve(resource).normalize();
            assertTrue(Files.isRegularFile(file), "kustomization.yaml lists " + resource + ", which does not exist");
            assertFalse(resource.endsWith(EXAMPLE_SUFFIX), "kustomization.yaml applies " + resource
                    + ": examples are for planned features; rename it when the app handles what it sends");
            assertTrue(listed.add(file), "kustomization.yaml lists " + resource + " twice");
        }
        for (Doc doc : APPLIED) {
            assertFalse(
                    doc.kind().isBlank() || doc.name().isBlank() || doc.node().path("apiVersion").asText().isBlank(),
                    doc.file() + ": a document without apiVersion, kind or metadata.name");
        }
        for (Path file : YAML_FILES) {
            Path normal = file.normalize();
            boolean accounted = normal.equals(KUSTOMIZATION.normalize()) || listed.contains(normal)
                    || normal.startsWith(CLOUD_RUN.getParent().normalize()) || normal.startsWith(DEMO.normalize())
                    || normal.startsWith(MONITORING.normalize()) || file.toString().endsWith(EXAMPLE_SUFFIX);
            assertTrue(accounted, file + " is neither listed in kustomization.yaml, nor under cloudrun/, demo/ or "
                    + "monitoring/, nor "
                    + "named *" + EXAMPLE_SUFFIX);
            parse(file);
        }
    }

    @Test
    void kustomizeImageOverrideMatchesTheReplicatorImage() {
        String image = onlyContainer(knativeReplicator()).path("image").asText();
        String imageName = image.replaceFirst("[@:][^/]*$", "");
        Set<String> overridden = new TreeSet<>();
        kustomization.path("images").forEach(i -> overridden.add(i.path("name").asText()));
        assertTrue(overridden.contains(imageName), "kustomization.yaml images " + overridden
                + " does not name the replicator container's image '" + imageName + "', so it cannot be overridden");
    }

    // ---- eventing: triggers, broker, dead-letter sink, accepted types ------------------------------------------

    @Test
    void triggersReferenceTheBrokerTheServiceAndADeadLetterSink() {
        List<Doc> triggers = new ArrayList<>(applied(trigger()));
        assertFalse(triggers.isEmpty(), "kustomization.yaml applies no Trigger");
        triggers.addAll(EXAMPLES.stream().filter(trigger()).toList());
        Set<String> brokers = names(APPLIED, broker());
        Set<String> kafkaSinks = names(APPLIED, d -> d.is("eventing.knative.dev/", "KafkaSink"));
        for (Doc trigger : triggers) {
            JsonNode spec = trigger.spec();
            assertTrue(brokers.contains(spec.path("broker").asText()), trigger + ": broker '"
                    + spec.path("broker").asText() + "' is not a Broker applied by kustomization.yaml " + brokers);
            JsonNode subscriber = spec.path("subscriber").path("ref");
            assertEquals("Service", subscriber.path("kind").asText(),
                    trigger + ": subscriber must be a Knative Service");
            assertEquals(REPLICATOR, subscriber.path("name").asText(),
                    trigger + ": subscriber is not the replicator Service");
            JsonNode delivery = spec.path("delivery");
            JsonNode deadLetterRef = delivery.path("deadLetterSink").path("ref");
            String deadLetter = deadLetterRef.path("name").asText();
            // durable: a Kafka topic, not a Service that prints what it gets to its log
            assertEquals("KafkaSink", deadLetterRef.path("kind").asText(), trigger + ": deadLetterSink must be durable");
            assertTrue(kafkaSinks.contains(deadLetter), trigger + ": deadLetterSink '" + deadLetter
                    + "' is not a KafkaSink applied by kustomization.yaml " + kafkaSinks);
            assertTrue(delivery.path("retry").asInt() > 0, trigger + ": delivery.retry must be positive");
            assertTrue(Set.of("linear", "exponential").contains(delivery.path("backoffPolicy").asText()),
                    trigger + ": backoffPolicy must be linear or exponential");
            try {
                assertTrue(!Duration.parse(delivery.path("backoffDelay").asText()).isNegative()
                        && !Duration.parse(delivery.path("backoffDelay").asText()).isZero(),
                        trigger + ": backoffDelay must be positive");
            } catch (DateTimeParseException e) {
                fail(trigger + ": backoffDelay '" + delivery.path("backoffDelay").asText()
                        + "' is not an ISO-8601 duration");
            }
        }
    }

    /**
     * Each delivery attempt has a timeout the Service allows, long enough for a backfill or verify invocation; a 409
     * (a change waiting for its row) is retried for {@link #REORDERING_WINDOW}, within the tombstone retention; and
     * replicator's Retry-After is honoured (retryAfterMax, Knative's delivery-retryafter feature).
     */
    @Test
    void deliveryOutlastsReorderingAndEachAttemptHasATimeout() {
        int serviceTimeout = knativeReplicator().spec().path("template").path("spec").path("timeoutSeconds").asInt(300);
        Duration retention = configDuration("REPLICATOR_ORDERING_TOMBSTONE_RETENTION",
                "replicator.ordering.tombstone-retention", ReplicatorConfig.Ordering.class, "tombstoneRetention");
        Map<String, Duration> budgets = Map.of(
                JobEventTypes.BACKFILL, configDuration("REPLICATOR_BACKFILL_TIME_BUDGET",
                        "replicator.backfill.time-budget", ReplicatorConfig.Backfill.class, "timeBudget"),
                JobEventTypes.VERIFY, configDuration("REPLICATOR_VERIFY_TIME_BUDGET",
                        "replicator.verify.time-budget", ReplicatorConfig.Verify.class, "timeBudget"),
                JobEventTypes.PING, configDuration("REPLICATOR_VERIFY_TIME_BUDGET",
                        "replicator.verify.time-budget", ReplicatorConfig.Verify.class, "timeBudget"),
                JobEventTypes.PULL, configDuration("REPLICATOR_PULL_TIME_BUDGET",
                        "replicator.pull.time-budget", ReplicatorConfig.Pull.class, "timeBudget"));
        Set<String> changeTypes = new TreeSet<>(debeziumTypes(onlyContainer(knativeReplicator())));
        changeTypes.add("replicator.change.v1");
        changeTypes.add(JobEventTypes.ROWREF);
        Set<String> seen = new TreeSet<>();
        for (Doc trigger : applied(trigger())) {
            JsonNode delivery = trigger.spec().path("delivery");
            String type = trigger.spec().path("filter").path("attributes").path("type").asText();
            Duration timeout = duration(trigger, delivery, "timeout");
            assertTrue(timeout.getSeconds() <= serviceTimeout, trigger + ": delivery timeout " + timeout
                    + " beyond the Service's timeoutSeconds " + serviceTimeout);
            Duration budget = budgets.get(type);
            if (budget != null) {
                assertTrue(timeout.compareTo(budget.plusSeconds(30)) >= 0, trigger + ": delivery timeout " + timeout
                        + " leaves an invocation of " + budget + " no time to finish its last chunk and answer");
            }
            Duration retryAfterMax = duration(trigger, delivery, "retryAfterMax");
            assertFalse(retryAfterMax.isZero(), trigger + ": retryAfterMax PT0S ignores Retry-After");
            if (changeTypes.contains(type)) {
                seen.add(type);
                Duration window = retryWindow(trigger);
                assertTrue(window.compareTo(REORDERING_WINDOW) >= 0, trigger + ": a 409 is dead-lettered after "
                        + window + " of retries, below " + REORDERING_WINDOW);
                assertTrue(window.compareTo(retention) < 0, trigger + ": retries (" + window
                        + ") outlast the tombstone retention " + retention + ": a late change could resurrect a row");
            }
        }
        assertEquals(changeTypes, seen, "change types without a Trigger checked here");
    }

    /** The sum of the waits between attempts, as Knative computes them (exponential: delay x 2^n from n = 0). */
    static Duration retryWindow(Doc trigger) {
        JsonNode delivery = trigger.spec().path("delivery");
        int retries = delivery.path("retry").asInt();
        Duration delay = duration(trigger, delivery, "backoffDelay");
        long factor = delivery.path("backoffPolicy").asText().equals("exponential") ? (1L << retries) - 1
                : (long) retries * (retries + 1) / 2;
        return delay.multipliedBy(factor);
    }

    static Duration duration(Doc doc, JsonNode parent, String field) {
        String text = parent.path(field).asText(null);
        assertNotNull(text, doc + ": no " + field);
        try {
            return Duration.parse(text);
        } catch (DateTimeParseException e) {
            throw new AssertionError(doc + ": " + field + " '" + text + "' is not an ISO-8601 duration", e);
        }
    }

    /** A Duration setting as the replicator container sets it, else application.properties, else its default. */
    static Duration configDuration(String env, String property, Class<?> type, String method) {
        JsonNode fromEnv = env(onlyContainer(knativeReplicator())).get(env);
        String value = fromEnv != null ? fromEnv.path("value").asText() : APPLICATION.getProperty(property);
        if (value == null) {
            try {
                value = type.getMethod(method).getAnnotation(WithDefault.class).value();
            } catch (NoSuchMethodException e) {
                throw new AssertionError(type.getName() + "#" + method + " is gone; update this test", e);
            }
        }
        Matcher shorthand = Pattern.compile("(\\d+)(ms|s|m|h|d)").matcher(value.trim());
        if (shorthand.matches()) {
            long n = Long.parseLong(shorthand.group(1));
            return switch (shorthand.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        }
        return Duration.parse(value.trim());
    }

    /** A type without a Trigger is never delivered; a Trigger for a type the app rejects only produces 400s. */
    @Test
    void triggerTypesAreExactlyTheTypesTheAppAccepts() {
        Map<String, String> filtered = new HashMap<>();
        Map<JsonNode, String> filters = new HashMap<>();
        for (Doc trigger : applied(trigger())) {
            JsonNode attributes = trigger.spec().path("filter").path("attributes");
            String type = attributes.path("type").asText();
            assertFalse(type.isBlank(), trigger + ": no filter on type, it would send every event in the broker");
            filtered.put(type, trigger.name());
            // pings are told apart by an extension attribute as well: the whole filter must be unique
            String other = filters.put(attributes, trigger.name());
            assertTrue(other == null, "Triggers " + other + " and " + trigger.name() + " both filter " + attributes
                    + ": every such event would be applied twice");
        }
        Set<String> accepted = new TreeSet<>(debeziumTypes(onlyContainer(knativeReplicator())));
        accepted.add(dev.replicator.decode.NativeDecoder.TYPE); // served by the catch-all with Debezium's types
        accepted.addAll(funqyMappedTypes());
        assertEquals(accepted, new TreeSet<>(filtered.keySet()), "ce-types the app accepts (left: "
                + "replicator.debezium.event-types + replicator.change.v1 + quarkus.funqy.knative-events.mapping.*.trigger) "
                + "vs Trigger filters in the files kustomization.yaml applies (right)");
    }

    /** The replicator container's REPLICATOR_DEBEZIUM_EVENT_TYPES, else application.properties, else the default. */
    static List<String> debeziumTypes(JsonNode container) {
        JsonNode fromEnv = env(container).get("REPLICATOR_DEBEZIUM_EVENT_TYPES");
        String value = fromEnv != null ? fromEnv.path("value").asText()
                : APPLICATION.getProperty("replicator.debezium.event-types", debeziumDefault());
        return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    static String debeziumDefault() {
        try {
            WithDefault value =
                    ReplicatorConfig.Debezium.class.getMethod("eventTypes").getAnnotation(WithDefault.class);
            assertNotNull(value, "ReplicatorConfig.Debezium#eventTypes lost its @WithDefault");
            return value.value();
        } catch (NoSuchMethodException e) {
            throw new AssertionError("ReplicatorConfig.Debezium#eventTypes is gone; update this test", e);
        }
    }

    /** Types bound to a function in application.properties; {@code *} is the Debezium catch-all. */
    static Set<String> funqyMappedTypes() {
        Pattern key = Pattern.compile("quarkus\\.funqy\\.knative-events\\.mapping\\.[^.]+\\.trigger");
        Set<String> types = new TreeSet<>();
        for (String name : APPLICATION.stringPropertyNames()) {
            String type = APPLICATION.getProperty(name).trim();
            if (key.matcher(name).matches() && !type.equals("*")) {
                types.add(type);
            }
        }
        return types;
    }

    @Test
    void pingSourceSendsAVerifyRequestThatItsTriggerSelects() {
        List<Doc> pings = new ArrayList<>(applied(d -> d.is("sources.knative.dev/", "PingSource")));
        pings.addAll(EXAMPLES.stream().filter(d -> d.is("sources.knative.dev/", "PingSource")).toList());
        assertFalse(pings.isEmpty(), "the PingSource that schedules verification is gone");
        assertTrue(funqyMappedTypes().contains(JobEventTypes.PING), "no function is mapped to "
                + JobEventTypes.PING + ", so the scheduled verify would be answered 400");
        Set<String> brokers = names(APPLIED, broker());
        for (Doc ping : pings) {
            JsonNode sink = ping.spec().path("sink").path("ref");
            assertTrue("Broker".equals(sink.path("kind").asText()) && brokers.contains(sink.path("name").asText()),
                    ping + ": sink is not a Broker applied by kustomization.yaml " + brokers);
            JsonNode extensions = ping.spec().path("ceOverrides").path("extensions");
            boolean pull = extensions.path("replicatorjob").asText().equals("pull");
            try {
                JsonNode data = YAML.readTree(ping.spec().path("data").asText());
                if (pull) {
                    PullRequest.of(ping.name(), data);
                } else {
                    JobRequests.verify(ping.name(), data, 1000, 20);
                }
            } catch (IOException | RuntimeException e) {
                fail(ping + ": data is not a " + (pull ? "pull" : "verify") + " request: " + e.getMessage());
            }
            // the Triggers beside it that select pings (a continuation's Trigger may sit beside it too)
            List<Doc> triggers = Stream.concat(APPLIED.stream(), EXAMPLES.stream()).filter(trigger())
                    .filter(t -> t.file().equals(ping.file()))
                    .filter(t -> JobEventTypes.PING.equals(t.spec().path("filter").path("attributes").path("type")
                            .asText())).toList();
            assertFalse(triggers.isEmpty(), ping + ": no Trigger beside it routes its pings to replicator");
            for (Doc trigger : triggers) {
                JsonNode filter = trigger.spec().path("filter").path("attributes");
                assertEquals(JobEventTypes.PING, filter.path("type").asText(), trigger + ": filter type");
                filter.fieldNames().forEachRemaining(attribute -> {
                    if (!attribute.equals("type")) {
                        assertEquals(extensions.path(attribute).asText(), filter.path(attribute).asText(), trigger
                                + ": filters " + attribute + " on a value " + ping + " does not send");
                    }
                });
                assertFalse(filter.size() < 2, trigger + ": filters pings by type only, so every PingSource in the "
                        + "namespace would start a verify");
            }
        }
    }

    /**
     * An unfinished backfill or verify answers with its own request type, which must come back to replicator; the
     * finished answers must not, or a chain would never end.
     */
    @Test
    void continuationsAreRoutedBackAndFinishedAnswersAreNot() {
        Set<String> filtered = new TreeSet<>();
        applied(trigger()).forEach(t -> filtered.add(t.spec().path("filter").path("attributes").path("type").asText()));
        for (String continuation : List.of(JobEventTypes.BACKFILL, JobEventTypes.VERIFY, JobEventTypes.PULL)) {
            assertTrue(filtered.contains(continuation), "no Trigger routes " + continuation + " back to replicator");
        }
        for (String finished : List.of(JobEventTypes.BACKFILL_DONE, JobEventTypes.VERIFY_REPORT,
                JobEventTypes.PULL_DONE)) {
            assertFalse(filtered.contains(finished), "a Trigger routes " + finished + " to replicator: endless chain");
        }
        for (String request : JobEventTypes.REQUESTS) {
            assertTrue(funqyMappedTypes().contains(request), request + " is accepted but no function is mapped to it");
        }
    }

    // ---- the replicator containers: port, probes, environment --------------------------------------------------

    /**
     * The port the application listens on when the platform says nothing: Cloud Run and Knative set {@code PORT} to
     * the containerPort, so the application must take it from there, with the default that the images expose.
     */
    static String appPort() {
        String setting = APPLICATION.getProperty("quarkus.http.port");
        assertNotNull(setting, "application.properties sets no quarkus.http.port");
        Matcher fromEnvironment = Pattern.compile("\\$\\{PORT:(\\d+)}").matcher(setting);
        assertTrue(fromEnvironment.matches(), "quarkus.http.port is '" + setting
                + "', not ${PORT:<default>}: Cloud Run and Knative name the port through PORT");
        return fromEnvironment.group(1);
    }

    @Test
    void replicatorContainersListenOnTheAppPortAndProbeTheHealthEndpoints() {
        String port = appPort();
        for (Doc service : List.of(knativeReplicator(), cloudRunReplicator())) {
            JsonNode container = onlyContainer(service);
            assertEquals(port, container.path("ports").path(0).path("containerPort").asText(),
                    service + ": containerPort vs the default of quarkus.http.port");
            if (!service.file().equals(CLOUD_RUN)) {
                // Knative routes only to ready pods; Cloud Run has startup and liveness probes instead
                assertFalse(container.path("readinessProbe").isMissingNode(), service + ": no readinessProbe");
            }
            Map<String, String> expected =
                    Map.of("readinessProbe", "/q/health/ready", "livenessProbe", "/q/health/live");
            assertFalse(container.path("livenessProbe").isMissingNode(), service + ": no livenessProbe");
            for (String probe : List.of("readinessProbe", "livenessProbe", "startupProbe")) {
                JsonNode get = container.path(probe).path("httpGet");
                if (container.path(probe).isMissingNode()) {
                    continue;
                }
                String path = get.path("path").asText();
                if (probe.equals("startupProbe")) {
                    // started or live: start-up must not wait for the databases (ready does)
                    assertTrue(path.equals("/q/health/started") || path.equals("/q/health/live"),
                            service + ": startupProbe path " + path);
                } else {
                    assertEquals(expected.get(probe), path, service + ": " + probe + " path");
                }
                if (!get.path("port").isMissingNode()) {
                    assertEquals(port, get.path("port").asText(),
                            service + ": " + probe + " port vs the containerPort");
                }
            }
        }
    }

    @Test
    void replicatorContainersSetOnlyEnvironmentTheAppReads() throws IOException {
        boolean quarkusJsonLogs = Files.readString(Path.of("pom.xml")).contains("<artifactId>quarkus-logging-json<");
        Set<String> datasourceEnv = new TreeSet<>();
        for (String ds : List.of("SOURCE", "TARGET")) {
            for (String key : List.of("JDBC_URL", "USERNAME", "PASSWORD")) {
                datasourceEnv.add("QUARKUS_DATASOURCE_" + ds + "_" + key);
            }
        }
        for (Doc service : List.of(knativeReplicator(), cloudRunReplicator())) {
            Map<String, JsonNode> env = env(onlyContainer(service));
            for (String name : env.keySet()) {
                boolean read = DATASOURCE_ENV.matcher(name).matches() || REPLICATOR_ENV.contains(name)
                        || PLANNED_ENV.contains(name) || RUNTIME_ENV.contains(name)
                        || (quarkusJsonLogs && name.equals(QUARKUS_JSON_LOGS_ENV));
                assertTrue(read, service + " sets " + name + ", which the app does not read"
                        + (name.equals(QUARKUS_JSON_LOGS_ENV) ? " (no quarkus-logging-json: use REPLICATOR_LOG_JSON)"
                                : name.startsWith("REPLICATOR_") ? " (not a ReplicatorConfig setting)" : ""));
            }
            Set<String> missing = new TreeSet<>(datasourceEnv);
            missing.removeAll(env.keySet());
            assertTrue(missing.isEmpty(), service + " does not set " + missing
                    + " (changes need the target, backfill, verify and rowref the source)");
        }
    }

    /** The hand-kept allow-list names exactly the settings ReplicatorConfig declares (keyed maps aside). */
    @Test
    void allowListMirrorsReplicatorConfig() {
        Set<String> declared = new TreeSet<>();
        collectSettings(ReplicatorConfig.class, "replicator.", declared);
        Set<String> asEnv = declared.stream().map(p -> p.toUpperCase().replaceAll("[^A-Z0-9]", "_"))
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(asEnv, new TreeSet<>(REPLICATOR_ENV), "ReplicatorConfig settings (left) vs REPLICATOR_ENV in "
                + "this test (right): add or remove the names so the env check follows the code");
        Set<String> planned = new TreeSet<>(PLANNED_ENV);
        planned.retainAll(asEnv);
        assertTrue(planned.isEmpty(), planned + " are declared in ReplicatorConfig now: move them out of PLANNED_ENV");
    }

    static void collectSettings(Class<?> type, String prefix, Set<String> out) {
        for (Method method : type.getMethods()) {
            if (method.isDefault() || Modifier.isStatic(method.getModifiers()) || method.getParameterCount() > 0) {
                continue;
            }
            WithName renamed = method.getAnnotation(WithName.class);
            String name = prefix + (renamed != null ? renamed.value()
                    : method.getName().replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase());
            Class<?> returned = method.getReturnType();
            if (Map.class.isAssignableFrom(returned)) {
                continue; // keyed by table name: no fixed environment variable
            }
            if (returned.isInterface() && returned.getName().startsWith(ReplicatorConfig.class.getName())) {
                collectSettings(returned, name + ".", out);
            } else {
                out.add(name);
            }
        }
    }

    // ---- secrets ------------------------------------------------------------------------------------------------

    /** The operator creates the Secrets (docs/deploy.md); applying k8s/ again must not replace them. */
    @Test
    void kustomizationAppliesNoSecret() {
        assertTrue(applied(d -> d.kind().equals("Secret")).isEmpty(), "kustomization.yaml applies a Secret: "
                + "every kubectl apply -k would overwrite the operator's credentials");
        assertTrue(kustomization.path("secretGenerator").isMissingNode(),
                "a secretGenerator needs the credentials beside the manifests; docs/deploy.md creates them instead");
    }

    @Test
    void secretRefsNameSecretsAndKeysTheDeployGuideCreates() throws IOException {
        Map<String, Set<String>> created = deployGuideSecrets();
        assertFalse(created.isEmpty(), "docs/deploy.md no longer shows a kubectl create secret generic command");
        int refs = 0;
        for (Doc workload : applied(d -> d.node().path("spec").path("template").path("spec").has("containers"))) {
            JsonNode pod = workload.spec().path("template").path("spec");
            for (JsonNode container : pod.path("containers")) {
                for (JsonNode env : container.path("env")) {
                    JsonNode ref = env.path("valueFrom").path("secretKeyRef");
                    if (ref.isMissingNode()) {
                        continue;
                    }
                    refs++;
                    String where = workload + " env " + env.path("name").asText() + ": ";
                    String secret = ref.path("name").asText();
                    assertTrue(created.containsKey(secret), where + "Secret '" + secret + "' is not created in the "
                            + "docs/deploy.md " + created.keySet());
                    assertTrue(created.get(secret).contains(ref.path("key").asText()), where + "docs/deploy.md has '"
                            + secret + "' without key '" + ref.path("key").asText() + "' " + created.get(secret));
                }
                for (JsonNode from : container.path("envFrom")) {
                    String secret = from.path("secretRef").path("name").asText(null);
                    assertTrue(secret == null || created.containsKey(secret), workload + ": envFrom Secret " + secret
                            + " is not created in docs/deploy.md");
                }
            }
            for (JsonNode volume : pod.path("volumes")) {
                String secret = volume.path("secret").path("secretName").asText(null);
                assertTrue(secret == null || created.containsKey(secret), workload + ": volume Secret " + secret
                        + " is not created in docs/deploy.md " + created.keySet());
            }
        }
        assertTrue(refs >= 6, "expected the database credentials to come from a Secret, found " + refs + " refs");
    }

    /** Secret name to keys, from the kubectl create secret generic commands in docs/deploy.md. */
    static Map<String, Set<String>> deployGuideSecrets() throws IOException {
        String guide = Files.readString(DEPLOY_GUIDE).replace("\\\n", " ");
        Map<String, Set<String>> secrets = new HashMap<>();
        Matcher command = Pattern.compile("kubectl create secret generic (\\S+)([^\\n]*)").matcher(guide);
        while (command.find()) {
            Set<String> keys = secrets.computeIfAbsent(command.group(1), k -> new TreeSet<>());
            Matcher key = Pattern.compile("--from-(?:literal|file)=([A-Za-z0-9._-]+)=").matcher(command.group(2));
            while (key.find()) {
                keys.add(key.group(1));
            }
        }
        return secrets;
    }

    @Test
    void cloudRunSecretsAreSecretManagerVersions() {
        Doc service = cloudRunReplicator();
        for (JsonNode env : onlyContainer(service).path("env")) {
            JsonNode ref = env.path("valueFrom").path("secretKeyRef");
            if (!ref.isMissingNode()) {
                String name = env.path("name").asText();
                assertTrue(ref.path("name").asText().matches("[A-Za-z0-9_-]+"), service + " " + name
                        + ": secretKeyRef.name must be a Secret Manager secret id");
                assertTrue(ref.path("key").asText().matches("latest|[1-9][0-9]*"), service + " " + name
                        + ": secretKeyRef.key must be a Secret Manager version (latest or a number)");
            }
        }
    }

    // ---- scaling ------------------------------------------------------------------------------------------------

    @Test
    void scalingSettingsAreConsistent() {
        Doc knative = knativeReplicator();
        JsonNode template = knative.spec().path("template");
        int concurrency = template.path("spec").path("containerConcurrency").asInt();
        String target = annotation(template, "autoscaling.knative.dev/target");
        if (concurrency > 0 && target != null) {
            assertTrue(Integer.parseInt(target) <= concurrency, knative + ": autoscaling target " + target
                    + " above containerConcurrency " + concurrency + " can never be reached");
        }
        String min = annotation(template, "autoscaling.knative.dev/min-scale");
        String max = annotation(template, "autoscaling.knative.dev/max-scale");
        if (min != null && max != null && !max.equals("0")) {
            assertTrue(Integer.parseInt(min) <= Integer.parseInt(max), knative + ": min-scale above max-scale");
        }

        Doc cloudRun = cloudRunReplicator();
        JsonNode runTemplate = cloudRun.spec().path("template");
        assertEquals("true", annotation(runTemplate, "run.googleapis.com/startup-cpu-boost"),
                cloudRun + ": startup CPU boost is the template annotation run.googleapis.com/startup-cpu-boost");
        assertTrue(annotation(runTemplate, "autoscaling.knative.dev/minScale") == null
                        || annotation(cloudRun.node(), "run.googleapis.com/minScale") == null,
                cloudRun + ": minimum instances set at both service and revision level");
        String runMin = annotation(cloudRun.node(), "run.googleapis.com/minScale");
        String runMax = annotation(runTemplate, "autoscaling.knative.dev/maxScale");
        if (runMin != null && runMax != null) {
            assertTrue(Integer.parseInt(runMin) <= Integer.parseInt(runMax), cloudRun + ": minScale above maxScale");
        }
        JsonNode park = env(onlyContainer(cloudRun)).get("REPLICATOR_REJECTED_PARK");
        assertTrue(park != null && park.path("value").asText().equals("true"), cloudRun
                + ": Pub/Sub push redelivers every non-2xx, so events that can never be applied must be parked "
                + "(REPLICATOR_REJECTED_PARK=true)");
    }

    /**
     * Every instance may fill both pools, so max-scale x (target pool + source pool), plus Debezium Server, must fit
     * the budget; containerConcurrency must be bounded and near the target pool (waiting requests time out into 503s).
     */
    @Test
    void connectionBudgetFitsMaxConnections() {
        assertTrue(REPLICATOR_CONNECTION_BUDGET < MAX_CONNECTIONS, "the budget leaves nothing for anyone else");
        for (Doc service : List.of(knativeReplicator(), cloudRunReplicator())) {
            JsonNode template = service.spec().path("template");
            String maxKey = service.file().equals(CLOUD_RUN) ? "autoscaling.knative.dev/maxScale"
                    : "autoscaling.knative.dev/max-scale";
            String max = annotation(template, maxKey);
            assertNotNull(max, service + ": no " + maxKey + ", so the number of instances (and connections) is "
                    + "unbounded");
            int instances = Integer.parseInt(max);
            assertTrue(instances > 0, service + ": " + maxKey + " 0 means unbounded");
            Map<String, JsonNode> env = env(onlyContainer(service));
            int target = intSetting(env, "QUARKUS_DATASOURCE_TARGET_JDBC_MAX_SIZE", "quarkus.datasource.target.jdbc.max-size");
            int source = intSetting(env, "QUARKUS_DATASOURCE_SOURCE_JDBC_MAX_SIZE", "quarkus.datasource.source.jdbc.max-size");
            int total = instances * (target + source) + DEBEZIUM_CONNECTIONS;
            assertTrue(total <= REPLICATOR_CONNECTION_BUDGET, service + ": " + instances + " x (" + target + " + "
                    + source + ") + " + DEBEZIUM_CONNECTIONS + " = " + total + " connections, above the budget of "
                    + REPLICATOR_CONNECTION_BUDGET + " of max_connections " + MAX_CONNECTIONS);
            JsonNode writers = env.get("REPLICATOR_GROUP_COMMIT_WRITERS");
            int writerCount = writers != null ? writers.path("value").asInt() : 4;
            assertTrue(writerCount < target, service + ": " + writerCount + " group-commit writers leave no target "
                    + "connection of " + target + " for backfill, verify, rowref and catalog reads");
            int concurrency = template.path("spec").path("containerConcurrency").asInt();
            assertTrue(concurrency > 0 && concurrency <= 2 * target, service + ": containerConcurrency "
                    + concurrency + " must be bounded and at most twice the target pool " + target);
        }
    }

    static int intSetting(Map<String, JsonNode> env, String name, String property) {
        JsonNode value = env.get(name);
        String text = value != null ? value.path("value").asText() : APPLICATION.getProperty(property);
        assertNotNull(text, name + " is set neither in the manifest nor in application.properties");
        return Integer.parseInt(text.trim());
    }

    /**
     * Memory request = limit = 512Mi (a pod requesting less is evicted first when its node runs short), and the heap is
     * half of it in both images: JAVA_MAX_MEM_RATIO in Dockerfile.jvm and the manifests, -Xmx in Dockerfile.native.
     */
    @Test
    void memoryRequestEqualsLimitAndTheHeapIsHalfOfIt() throws IOException {
        Matcher jvm = Pattern.compile("(?m)^ENV " + HEAP_RATIO_ENV + "=(\\d+)\\s*$")
                .matcher(Files.readString(Path.of("src/main/docker/Dockerfile.jvm")));
        assertTrue(jvm.find(), "Dockerfile.jvm does not set " + HEAP_RATIO_ENV);
        String ratio = jvm.group(1);
        assertEquals("50", ratio, "the heap ratio agreed with the in-app memory limits");
        Matcher xmx = Pattern.compile("\"-Xmx(\\d+)m\"")
                .matcher(Files.readString(Path.of("src/main/docker/Dockerfile.native")));
        assertTrue(xmx.find(), "Dockerfile.native does not bound the heap with -Xmx");
        long heapMiB = mebibytes(MEMORY) * Integer.parseInt(ratio) / 100;
        assertEquals(heapMiB, Long.parseLong(xmx.group(1)), "Dockerfile.native -Xmx vs " + ratio + "% of " + MEMORY);

        for (Doc service : List.of(knativeReplicator(), cloudRunReplicator())) {
            JsonNode container = onlyContainer(service);
            JsonNode resources = container.path("resources");
            assertEquals(MEMORY, resources.path("limits").path("memory").asText(), service + ": memory limit");
            String request = resources.path("requests").path("memory").asText(null);
            if (service.file().equals(CLOUD_RUN)) {
                assertTrue(request == null, service + ": Cloud Run reserves the limit; a request is not its field");
            } else {
                assertEquals(MEMORY, request, service + ": memory request must equal the limit");
            }
            JsonNode env = env(container).get(HEAP_RATIO_ENV);
            assertTrue(env != null && env.path("value").asText().equals(ratio), service + ": " + HEAP_RATIO_ENV
                    + " must be " + ratio + " as in Dockerfile.jvm");
        }
        for (Doc deployment : applied(d -> d.kind().equals("Deployment"))) {
            for (JsonNode container : deployment.spec().path("template").path("spec").path("containers")) {
                JsonNode resources = container.path("resources");
                assertFalse(resources.path("limits").path("memory").isMissingNode(), deployment + ": no memory limit");
                assertEquals(resources.path("limits").path("memory").asText(),
                        resources.path("requests").path("memory").asText(), deployment + ": memory request = limit");
            }
        }
    }

    static long mebibytes(String quantity) {
        Matcher m = Pattern.compile("(\\d+)(Mi|Gi)").matcher(quantity);
        assertTrue(m.matches(), "memory quantity " + quantity);
        return Long.parseLong(m.group(1)) * (m.group(2).equals("Gi") ? 1024 : 1);
    }

    // ---- exposure and TLS ---------------------------------------------------------------------------------------

    /** Without it, a cluster with a domain routes the internet to a service that writes rows and runs repairs. */
    @Test
    void knativeServicesAreClusterLocalAndOnlyKnativeReachesThePods() {
        for (Doc service : applied(knativeService())) {
            assertEquals("cluster-local", service.node().path("metadata").path("labels")
                    .path("networking.knative.dev/visibility").asText(), service + ": not cluster-local");
        }
        List<Doc> policies = applied(d -> d.is("networking.k8s.io/", "NetworkPolicy")
                && d.spec().path("podSelector").path("matchLabels").path("serving.knative.dev/service").asText()
                        .equals(REPLICATOR));
        assertEquals(1, policies.size(), "one NetworkPolicy must select the replicator pods");
        JsonNode spec = policies.get(0).spec();
        assertTrue(spec.path("policyTypes").toString().contains("Ingress"), policies.get(0) + ": no Ingress policy");
        assertFalse(spec.path("ingress").isEmpty(), policies.get(0) + ": admits nothing, not even Knative");
        Set<String> namespaces = new TreeSet<>();
        for (JsonNode rule : spec.path("ingress")) {
            assertFalse(rule.path("from").isMissingNode() || rule.path("from").isEmpty(),
                    policies.get(0) + ": a rule without from admits everyone");
            for (JsonNode peer : rule.path("from")) {
                String namespace = peer.path("namespaceSelector").path("matchLabels")
                        .path("kubernetes.io/metadata.name").asText(null);
                assertTrue(namespace != null && peer.size() == 1, policies.get(0)
                        + ": admit only named namespaces of Knative's data plane, not " + peer);
                namespaces.add(namespace);
            }
        }
        assertTrue(namespaces.contains("knative-serving"), policies.get(0)
                + ": the activator (knative-serving) must reach the pods, or scale-from-zero stops");

        Doc cloudRun = cloudRunReplicator();
        assertEquals("internal", annotation(cloudRun.node(), "run.googleapis.com/ingress"), cloudRun + ": ingress");
        String account = cloudRun.spec().path("template").path("spec").path("serviceAccountName").asText("");
        assertTrue(account.startsWith("replicator@"), cloudRun + ": a dedicated service account, not the default");
        assertEquals("private-ranges-only", annotation(cloudRun.spec().path("template"),
                "run.googleapis.com/vpc-access-egress"), cloudRun + ": databases on private addresses via the VPC");
    }

    /** The driver's default (prefer) neither requires TLS nor checks whom it talks to. */
    @Test
    void everyDatabaseConnectionVerifiesTheServer() throws IOException {
        int urls = 0;
        for (Doc service : List.of(knativeReplicator(), cloudRunReplicator())) {
            for (String ds : List.of("SOURCE", "TARGET")) {
                JsonNode url = env(onlyContainer(service)).get("QUARKUS_DATASOURCE_" + ds + "_JDBC_URL");
                assertNotNull(url, service + ": no " + ds + " JDBC URL");
                assertTrue(url.path("value").asText().contains("sslmode=verify-full"), service + ": " + ds
                        + " JDBC URL without sslmode=verify-full");
                urls++;
            }
        }
        Properties debezium = debeziumProperties();
        assertEquals("verify-full", debezium.getProperty("debezium.source.database.sslmode"), "Debezium sslmode");
        String offsets = debezium.getProperty("debezium.source.offset.storage.jdbc.connection.url", "");
        assertTrue(offsets.contains("sslmode=verify-full"), "Debezium offset storage URL without sslmode=verify-full");
        assertEquals(2 * 2, urls);
    }

    // ---- Debezium Server ----------------------------------------------------------------------------------------

    /** The application.properties of the one Debezium Server Deployment, from the ConfigMap it mounts. */
    static Properties debeziumProperties() throws IOException {
        Doc deployment = debeziumDeployment();
        JsonNode pod = deployment.spec().path("template").path("spec");
        String configMapName = null;
        for (JsonNode volume : pod.path("volumes")) {
            String volumeName = volume.path("name").asText();
            boolean mounted = false;
            for (JsonNode mount : pod.path("containers").path(0).path("volumeMounts")) {
                mounted |= mount.path("name").asText().equals(volumeName)
                        && mount.path("mountPath").asText().equals("/debezium/config");
            }
            if (mounted) {
                configMapName = volume.path("configMap").path("name").asText(null);
            }
        }
        assertNotNull(configMapName, deployment + ": no ConfigMap mounted at /debezium/config");
        String wanted = configMapName;
        List<Doc> configMaps = applied(d -> d.kind().equals("ConfigMap") && d.name().equals(wanted));
        assertEquals(1, configMaps.size(),
                deployment + " mounts ConfigMap " + wanted + ", not applied by kustomization.yaml");
        String text = configMaps.get(0).node().path("data").path("application.properties").asText();
        Properties debezium = new Properties();
        debezium.load(new StringReader(text));
        return debezium;
    }

    static Doc debeziumDeployment() {
        List<Doc> deployments = applied(d -> d.kind().equals("Deployment") && d.name().startsWith("debezium"));
        assertEquals(1, deployments.size(), "kustomization.yaml must apply one Debezium Server Deployment");
        return deployments.get(0);
    }

    /**
     * Debezium Server posts CloudEvents straight to the replicator Service (durable: its offset moves only after
     * replicator committed), reads the operator's publication without a snapshot, and beats while the source is quiet.
     */
    @Test
    void debeziumServerPostsToTheServiceFromTheOperatorsPublication() throws IOException {
        Properties debezium = debeziumProperties();
        assertEquals("io.debezium.connector.postgresql.PostgresConnector",
                debezium.getProperty("debezium.source.connector.class"), "Debezium connector");
        assertEquals("pgoutput", debezium.getProperty("debezium.source.plugin.name"), "Debezium plugin.name");
        assertEquals("http", debezium.getProperty("debezium.sink.type"), "Debezium sink type");
        assertEquals("cloudevents", debezium.getProperty("debezium.format.value"),
                "Debezium must send CloudEvents (debezium.format.value)");
        String url = debezium.getProperty("debezium.sink.http.url");
        assertNotNull(url, "debezium.sink.http.url is not set");
        URI uri = URI.create(url.trim());
        String namespace = kustomization.path("namespace").asText("default");
        assertEquals(REPLICATOR + "." + namespace + ".svc.cluster.local", uri.getHost(),
                "debezium.sink.http.url must post to the replicator Service's cluster-local address");
        JsonNode park = env(onlyContainer(knativeReplicator())).get("REPLICATOR_REJECTED_PARK");
        assertTrue(park != null && park.path("value").asText().equals("true"), "Debezium Server stops on an answer "
                + "that stays non-2xx: replicator must park events that can never be applied");

        assertEquals("disabled", debezium.getProperty("debezium.source.publication.autocreate.mode"),
                "Debezium must not create the publication (all_tables needs a superuser and takes every table)");
        assertNotNull(debezium.getProperty("debezium.source.publication.name"), "the operator's publication name");
        assertEquals("no_data", debezium.getProperty("debezium.source.snapshot.mode"),
                "no initial snapshot: a backfill seeds the target");
        assertTrue(Long.parseLong(debezium.getProperty("debezium.source.heartbeat.interval.ms", "0")) > 0,
                "heartbeat.interval.ms: without heartbeats a quiet source keeps WAL");
        assertNotNull(debezium.getProperty("debezium.source.heartbeat.action.query"),
                "heartbeat.action.query: the slot must also advance while only other databases write WAL");
        String offsetTable = debezium.getProperty("debezium.source.offset.storage.jdbc.table.name", "");
        assertFalse(offsetTable.isBlank() || offsetTable.contains("."), "offsets in an unqualified table of the "
                + "Debezium role's own schema (found through the search_path), not in the published tables");

        Doc deployment = debeziumDeployment();
        assertEquals("Recreate", deployment.spec().path("strategy").path("type").asText(), deployment
                + ": a replication slot takes one connection, so the old pod must stop before the new one starts");
        String image = deployment.spec().path("template").path("spec").path("containers").path(0).path("image")
                .asText();
        assertTrue(image.matches(".+:\\d+\\.\\d+\\.\\d+\\.Final") || image.contains("@sha256:"), deployment
                + ": image " + image + " must name a release (or digest), not a floating tag");
    }

    /** The in-memory broker loses events on a restart; it is only in the labelled demo. */
    @Test
    void theAppliedBrokerIsDurableAndTheInMemoryOneOnlyADemo() throws IOException {
        for (Doc broker : applied(broker())) {
            String brokerClass = annotation(broker.node(), "eventing.knative.dev/broker.class");
            assertEquals("Kafka", brokerClass, broker + ": the default broker class is the in-memory channel");
        }
        String demo = Files.readString(DEMO.resolve("kustomization.yaml"));
        assertTrue(demo.startsWith("# DEMO ONLY"), "k8s/demo/kustomization.yaml must say it is a demo first");
        for (Doc ping : applied(d -> d.is("sources.knative.dev/", "PingSource"))) {
            assertFalse(ping.spec().path("timezone").asText("").isBlank(), ping + ": no timezone");
        }
    }

    // ---- images -------------------------------------------------------------------------------------------------

    @Test
    void dockerfilesExposeTheAppPortRunAsNonRootAndCopyOnlyWhatDockerignoreLetsThrough() throws IOException {
        String port = appPort();
        List<String[]> ignore = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(".dockerignore"))) {
            line = line.trim();
            if (!line.isEmpty() && !line.startsWith("#")) {
                boolean keep = line.startsWith("!");
                ignore.add(new String[] { keep ? "keep" : "drop", keep ? line.substring(1) : line });
            }
        }
        Pattern copy = Pattern.compile("(?m)^COPY\\s+(?:--\\S+\\s+)*(\\S+)\\s+\\S+\\s*$");
        for (String name : List.of("Dockerfile.jvm", "Dockerfile.native")) {
            Path file = Path.of("src/main/docker", name);
            String text = Files.readString(file);
            assertTrue(text.contains("EXPOSE " + port), file + ": EXPOSE does not match quarkus.http.port " + port);
            Matcher user = Pattern.compile("(?m)^USER\\s+(\\S+)").matcher(text);
            String last = null;
            while (user.find()) {
                last = user.group(1);
            }
            assertTrue(last != null && !last.equals("0") && !last.startsWith("root"),
                    file + ": must end as a non-root USER");
            Matcher sources = copy.matcher(text);
            Set<String> copied = new LinkedHashSet<>();
            while (sources.find()) {
                if (!sources.group().contains("--from=")) { // from an earlier stage, not from the build context
                    copied.add(sources.group(1));
                }
            }
            assertFalse(copied.isEmpty(), file + ": copies nothing");
            for (String source : copied) {
                // a file the build would produce there: * stands for a name, a directory for something inside it
                String sample = source.replace("*", "replicator-1.0") + (source.endsWith("/") ? "file" : "");
                assertTrue(sentToDocker(sample, ignore), file + " copies " + source
                        + ", which .dockerignore leaves out of the build context");
            }
        }
    }

    /**
     * The JVM image's AOT cache is written by the image's own JVM (a cache serves only the JVM build that wrote it):
     * the training stage is the runtime stage plus the training, the image is the runtime stage plus the cache, and
     * the app is packaged with every jar on the JVM's class path, where the cache can hold its classes.
     */
    @Test
    void theJvmImageTrainsItsAotCacheWithItsOwnJvmAndStartsWithIt() throws IOException {
        String text = Files.readString(Path.of("src/main/docker/Dockerfile.jvm"));
        List<String> stages = new ArrayList<>();
        Matcher from = Pattern.compile("(?m)^FROM\\s+(.+)$").matcher(text);
        while (from.find()) {
            stages.add(from.group(1).trim());
        }
        assertEquals(3, stages.size(), "Dockerfile.jvm: runtime, training and the image: " + stages);
        assertTrue(stages.get(0).endsWith(" AS runtime") && stages.get(0).contains("openjdk-25"),
                "the first stage is the runtime, on JDK 25 (JEP 514's -XX:AOTCacheOutput): " + stages.get(0));
        assertEquals("runtime AS training", stages.get(1), "training runs in the runtime stage's JVM");
        assertEquals("runtime", stages.get(2), "the image is the runtime stage with the cache");
        String training = text.substring(text.indexOf("AS training"), text.lastIndexOf("FROM runtime"));
        assertTrue(training.contains("-XX:AOTCacheOutput=/deployments/app.aot") && training.contains("train-aot.sh")
                && training.contains("/opt/jboss/container/java/run/run-java.sh"),
                "training starts the app as the image does, writing /deployments/app.aot");
        String image = text.substring(text.lastIndexOf("FROM runtime"));
        assertTrue(image.contains("COPY --from=training --chown=185 /deployments/app.aot /deployments/app.aot")
                && image.contains("-XX:AOTCache=/deployments/app.aot"), "the image starts with the trained cache");
        assertTrue(Files.isExecutable(Path.of("src/main/docker/train-aot.sh")), "train-aot.sh is executable");
        assertEquals("aot-jar", APPLICATION.getProperty("quarkus.package.jar.type"),
                "the app's jars are on the JVM's class path, where an AOT cache can hold their classes");
    }

    /** Docker's rule: the last pattern matching the path or one of its parents decides. */
    static boolean sentToDocker(String path, List<String[]> patterns) {
        boolean sent = true;
        for (String[] pattern : patterns) {
            var matcher = FileSystems.getDefault().getPathMatcher("glob:" + pattern[1].replaceFirst("/$", ""));
            for (Path p = Path.of(path); p != null; p = p.getParent()) {
                if (matcher.matches(p)) {
                    sent = pattern[0].equals("keep");
                    break;
                }
            }
        }
        return sent;
    }
}
