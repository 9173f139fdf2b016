package dev.replicator.observe;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The dashboard and the alert rules in k8s/monitoring cannot drift from the code: after real work (changes, pulls, a
 * backfill, a verify), every metric their expressions name is in {@code /q/metrics}, with every label their
 * matchers and groupings use, and every exact label value they match on.
 */
@QuarkusTest
@QuarkusTestResource(value = MonitoringWorkload.Databases.class, restrictToAnnotatedClass = true)
class MonitoringMetricsTest {

    static final Path DASHBOARD = Path.of("k8s/monitoring/replicator-dashboard.json");
    static final Path RULES = Path.of("k8s/monitoring/prometheus-rule.yaml");

    /** A metric named in an expression: what the scraped series must hold. */
    static final Pattern SELECTOR = Pattern.compile("\\b((?:replicator|agroal)_[a-z0-9_]+)\\b(\\{([^}]*)\\})?");
    static final Pattern MATCHER = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)\\s*\"([^\"]*)\"");
    static final Pattern GROUPING = Pattern.compile("\\b(?:by|without|on|ignoring)\\s*\\(([^)]*)\\)");
    static final Pattern SERIES = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})?\\s+\\S+.*$");
    static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    @Test
    void everyMetricOfTheDashboardAndTheAlertsIsExportedWithItsLabels() throws Exception {
        MonitoringWorkload.runOnce();
        Map<String, List<Map<String, String>>> scraped = scrape();

        List<String> expressions = new ArrayList<>();
        expressions.addAll(dashboardExpressions());
        int dashboard = expressions.size();
        Map<String, String> alerts = alertExpressions();
        expressions.addAll(alerts.values());
        assertTrue(dashboard >= 20, "the dashboard has a panel per concern: " + dashboard + " queries");
        assertEquals(Set.of("ReplicatorSlotLagGrowingWithoutPull", "ReplicatorLagHigh", "ReplicatorEventsParked",
                "ReplicatorAnswering503", "ReplicatorVerifyFoundMismatches", "ReplicatorDatabaseUnreachable"),
                alerts.keySet());

        List<String> problems = new ArrayList<>();
        Set<String> checked = new TreeSet<>();
        for (String expression : expressions) {
            Set<String> named = new TreeSet<>();
            Matcher selector = SELECTOR.matcher(expression);
            while (selector.find()) {
                String metric = selector.group(1);
                named.add(metric);
                checked.add(metric);
                List<Map<String, String>> series = scraped.get(metric);
                if (series == null) {
                    problems.add(metric + " is not exported (in: " + expression + ")");
                    continue;
                }
                if (selector.group(3) == null) {
                    continue;
                }
                Matcher matcher = MATCHER.matcher(selector.group(3));
                while (matcher.find()) {
                    String label = matcher.group(1);
                    String op = matcher.group(2);
                    String value = matcher.group(3);
                    if (series.stream().noneMatch(s -> s.containsKey(label))) {
                        problems.add(metric + " has no label " + label + " (in: " + expression + ")");
                    } else if ("=".equals(op) && !value.contains("$")
                            && series.stream().noneMatch(s -> value.equals(s.get(label)))) {
                        problems.add(metric + " has no series with " + label + "=\"" + value + "\" after the work"
                                + " (in: " + expression + ")");
                    } else if ("=~".equals(op) && !value.contains("$")
                            && series.stream().noneMatch(s -> s.getOrDefault(label, "").matches(value))) {
                        problems.add(metric + " has no series whose " + label + " matches \"" + value + "\" after"
                                + " the work (in: " + expression + ")");
                    }
                }
            }
            Matcher grouping = GROUPING.matcher(expression);
            while (grouping.find()) {
                for (String label : grouping.group(1).split(",")) {
                    String name = label.trim();
                    if (name.isEmpty() || "le".equals(name)) {
                        continue;
                    }
                    boolean somewhere = named.stream().anyMatch(m -> scraped.getOrDefault(m, List.of()).stream()
                            .anyMatch(s -> s.containsKey(name)));
                    if (!somewhere) {
                        problems.add("no metric of \"" + expression + "\" has the label " + name);
                    }
                }
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
        // the concerns the issue lists, each backed by a metric that is really there
        for (String metric : List.of("replicator_changes_total", "replicator_lag_seconds",
                "replicator_pull_slot_lag_bytes", "replicator_pull_slot_lag_seconds", "replicator_parked_total",
                "replicator_answers_total", "replicator_group_size_sum", "agroal_active_count",
                "replicator_backfill_progress_ratio", "replicator_verify_rows_total", "replicator_database_up",
                "replicator_pull_runs_total")) {
            assertTrue(checked.contains(metric), metric + " is used by the dashboard or an alert");
        }
    }

    @Test
    void theFiguresOfTheWorkAreInTheMetrics() throws Exception {
        MonitoringWorkload.runOnce();
        Map<String, List<Map<String, String>>> scraped = scrape();
        String text = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(text.contains("replicator_backfill_progress_ratio{table=\"public.items\"} 1.0"), text);
        assertTrue(text.contains("replicator_backfill_remaining_seconds{table=\"public.items\"} 0.0"), text);
        // found by the verify and again by the verify that repaired them
        assertTrue(text.contains("replicator_verify_rows_total{result=\"missing\",table=\"public.items\"} 4.0"), text);
        assertTrue(text.contains("replicator_verify_rows_total{result=\"changed\",table=\"public.items\"} 2.0"), text);
        assertTrue(text.contains("replicator_verify_rows_total{result=\"repaired\",table=\"public.items\"} 3.0"), text);
        assertTrue(text.contains("replicator_answers_total{status=\"503\"} 1.0"), text);
        assertTrue(text.contains("replicator_pull_runs_total{outcome=\"failed\",slot=\"monitoring\"} 1.0"), text);
        assertTrue(text.contains("replicator_pull_runs_total{outcome=\"done\",slot=\"monitoring\"} 2.0"), text);
        assertTrue(text.contains("replicator_parked_total{status=\"400\"} 1.0"), text);
        assertFalse(scraped.getOrDefault("replicator_database_up", List.of()).isEmpty());
    }

    /** The series of {@code /q/metrics}: name to the label sets it was exported with. */
    static Map<String, List<Map<String, String>>> scrape() {
        String text = given().get("/q/metrics").then().statusCode(200).extract().asString();
        Map<String, List<Map<String, String>>> series = new HashMap<>();
        for (String line : text.lines().toList()) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            Matcher m = SERIES.matcher(line);
            if (!m.matches()) {
                continue;
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (m.group(3) != null) {
                Matcher label = LABEL.matcher(m.group(3));
                while (label.find()) {
                    labels.put(label.group(1), label.group(2));
                }
            }
            series.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(labels);
        }
        return series;
    }

    /** Every query of every panel of the dashboard. */
    static List<String> dashboardExpressions() throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(Files.readString(DASHBOARD));
        List<String> expressions = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                if (target.hasNonNull("expr")) {
                    expressions.add(target.get("expr").asText());
                }
            }
        }
        return expressions;
    }

    /** Alert name to expression, from the PrometheusRule. */
    static Map<String, String> alertExpressions() throws IOException {
        JsonNode rule = new YAMLMapper().readTree(Files.readString(RULES));
        Map<String, String> alerts = new LinkedHashMap<>();
        for (JsonNode group : rule.path("spec").path("groups")) {
            for (JsonNode alert : group.path("rules")) {
                alerts.put(alert.path("alert").asText(), alert.path("expr").asText());
            }
        }
        return alerts;
    }
}
