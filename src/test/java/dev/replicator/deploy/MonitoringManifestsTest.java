package dev.replicator.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * k8s/monitoring applies as a kustomization of its own: the files it lists exist and are all there is, the dashboard
 * is importable (its data source an input and a variable), every alert has a severity, a summary and a runbook
 * section of docs/operations.md that shows its expression, and the scrape reaches the pods k8s/ deploys. That the
 * metrics they name exist is {@code MonitoringMetricsTest}'s part.
 */
class MonitoringManifestsTest {

    static final Path MONITORING = ManifestsTest.MONITORING;
    static final Path KUSTOMIZATION = MONITORING.resolve("kustomization.yaml");
    static final Path OPERATIONS = Path.of("docs/operations.md");
    static final String RUNBOOKS = "docs/operations.md#";

    static JsonNode yaml(Path file) {
        List<ManifestsTest.Doc> docs = ManifestsTest.parse(file);
        assertEquals(1, docs.size(), file + ": one document");
        return docs.get(0).node();
    }

    @Test
    void theKustomizationListsEveryFileAndOnlyExistingOnes() throws IOException {
        JsonNode kustomization = yaml(KUSTOMIZATION);
        Set<Path> listed = new HashSet<>();
        kustomization.path("resources").forEach(r -> listed.add(MONITORING.resolve(r.asText()).normalize()));
        for (JsonNode generator : kustomization.path("configMapGenerator")) {
            generator.path("files").forEach(f -> listed.add(MONITORING.resolve(f.asText()).normalize()));
            assertEquals("1", generator.at("/options/labels/grafana_dashboard").asText(),
                    "the dashboard ConfigMap carries the label Grafana's sidecar loads");
        }
        for (Path file : listed) {
            assertTrue(Files.isRegularFile(file), KUSTOMIZATION + " lists " + file + ", which does not exist");
        }
        try (Stream<Path> files = Files.list(MONITORING)) {
            for (Path file : files.map(Path::normalize).toList()) {
                assertTrue(file.equals(KUSTOMIZATION.normalize()) || listed.contains(file),
                        file + " is not listed in " + KUSTOMIZATION);
            }
        }
        // k8s/ stays appliable where the Prometheus Operator's CRDs are not installed
        for (ManifestsTest.Doc doc : applied()) {
            assertFalse(doc.node().path("apiVersion").asText().startsWith("monitoring.coreos.com/"),
                    doc + ": Prometheus Operator resources belong in k8s/monitoring");
        }
    }

    @Test
    void theDashboardImportsWithItsDataSourceAsAnInputAndAVariable() throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(Files.readString(MONITORING.resolve(
                "replicator-dashboard.json")));
        assertEquals("DS_PROMETHEUS", dashboard.at("/__inputs/0/name").asText());
        assertEquals("prometheus", dashboard.at("/__inputs/0/pluginId").asText());
        assertTrue(dashboard.path("schemaVersion").asInt() >= 36, "a current Grafana schema");
        assertFalse(dashboard.path("uid").asText().isBlank(), "a fixed uid, so a re-import replaces it");
        boolean variable = false;
        for (JsonNode v : dashboard.at("/templating/list")) {
            variable |= "DS_PROMETHEUS".equals(v.path("name").asText()) && "datasource".equals(v.path("type").asText());
        }
        assertTrue(variable, "provisioned without import, the data source resolves through a variable of that name");

        Set<Integer> ids = new HashSet<>();
        Set<String> rows = new TreeSet<>();
        int queries = 0;
        for (JsonNode panel : dashboard.path("panels")) {
            assertTrue(ids.add(panel.path("id").asInt()), "panel ids are unique: " + panel.path("id"));
            JsonNode grid = panel.path("gridPos");
            assertTrue(grid.path("x").asInt() + grid.path("w").asInt() <= 24, panel.path("title") + " fits the width");
            if ("row".equals(panel.path("type").asText())) {
                rows.add(panel.path("title").asText());
                continue;
            }
            assertEquals("${DS_PROMETHEUS}", panel.at("/datasource/uid").asText(), panel.path("title").asText());
            assertFalse(panel.path("targets").isEmpty(), panel.path("title") + " has a query");
            for (JsonNode target : panel.path("targets")) {
                assertEquals("${DS_PROMETHEUS}", target.at("/datasource/uid").asText());
                assertFalse(target.path("expr").asText().isBlank());
                queries++;
            }
        }
        assertEquals(Set.of("Apply", "Lag", "Stale, superseded and parked changes", "Answers", "Group commit",
                "Connection pools", "Backfill", "Verify and repair"), rows, "one row per concern");
        assertTrue(queries >= 20);
    }

    @Test
    void everyAlertHasASeverityASummaryAndARunbookThatShowsItsExpression() throws IOException {
        JsonNode rule = yaml(MONITORING.resolve("prometheus-rule.yaml"));
        assertEquals("monitoring.coreos.com/v1", rule.path("apiVersion").asText());
        assertEquals("PrometheusRule", rule.path("kind").asText());
        String operations = Files.readString(OPERATIONS);
        Set<String> anchors = anchors(operations);
        String flatDocs = flat(operations);
        List<String> alerts = new ArrayList<>();
        for (JsonNode group : rule.at("/spec/groups")) {
            for (JsonNode alert : group.path("rules")) {
                String name = alert.path("alert").asText();
                alerts.add(name);
                assertTrue(Set.of("warning", "critical").contains(alert.at("/labels/severity").asText()), name);
                assertFalse(alert.at("/annotations/summary").asText().isBlank(), name + ": a summary");
                String runbook = alert.at("/annotations/runbook").asText();
                assertTrue(runbook.startsWith(RUNBOOKS), name + ": runbook " + runbook);
                assertTrue(anchors.contains(runbook.substring(RUNBOOKS.length())),
                        name + ": " + runbook + " is not a section of " + OPERATIONS);
                assertTrue(flatDocs.contains(flat(alert.path("expr").asText())),
                        name + ": its expression is not in " + OPERATIONS + " (Cloud Monitoring users copy it there)");
            }
        }
        assertEquals(6, alerts.size(), alerts.toString());
    }

    @Test
    void thePodMonitorScrapesThePodsOfTheServiceOnTheAppPortAndIsAdmitted() {
        JsonNode monitor = yaml(MONITORING.resolve("pod-monitor.yaml"));
        assertEquals("PodMonitor", monitor.path("kind").asText());
        String service = ManifestsTest.REPLICATOR;
        assertEquals(service, monitor.at("/spec/selector/matchLabels/serving.knative.dev~1service").asText());
        JsonNode endpoint = monitor.at("/spec/podMetricsEndpoints/0");
        assertEquals("/q/metrics", endpoint.path("path").asText());
        List<ManifestsTest.Doc> services = applied().stream()
                .filter(d -> d.is("serving.knative.dev/", "Service") && d.name().equals(service)).toList();
        assertEquals(1, services.size());
        int port = ManifestsTest.onlyContainer(services.get(0)).at("/ports/0/containerPort").asInt();
        assertEquals(port, endpoint.path("targetPort").asInt(), "the replicator container's port");

        JsonNode policy = yaml(MONITORING.resolve("network-policy.yaml"));
        assertEquals(service, policy.at("/spec/podSelector/matchLabels/serving.knative.dev~1service").asText());
        JsonNode rule = policy.at("/spec/ingress/0");
        assertEquals(port, rule.at("/ports/0/port").asInt());
        for (JsonNode peer : rule.path("from")) {
            assertFalse(peer.path("podSelector").isMissingNode(), "admits the Prometheus pods, not a whole namespace");
            assertFalse(peer.path("namespaceSelector").isMissingNode(), "in the namespace Prometheus runs in");
        }
    }

    /** What k8s/kustomization.yaml applies (read here, not through ManifestsTest's shared lists). */
    static List<ManifestsTest.Doc> applied() {
        List<ManifestsTest.Doc> docs = new ArrayList<>();
        ManifestsTest.parse(ManifestsTest.KUSTOMIZATION).get(0).node().path("resources")
                .forEach(r -> docs.addAll(ManifestsTest.parse(ManifestsTest.K8S.resolve(r.asText()))));
        return docs;
    }

    /** The anchors GitHub makes of a Markdown file's headings. */
    static Set<String> anchors(String markdown) {
        Set<String> anchors = new TreeSet<>();
        for (String line : markdown.lines().toList()) {
            if (line.startsWith("#")) {
                String title = line.replaceFirst("^#+\\s*", "").toLowerCase(Locale.ROOT);
                anchors.add(title.replaceAll("[^a-z0-9 _-]", "").replace(' ', '-'));
            }
        }
        return anchors;
    }

    static String flat(String text) {
        return text.replaceAll("\\s+", " ").trim();
    }
}
