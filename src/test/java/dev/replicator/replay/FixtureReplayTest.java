package dev.replicator.replay;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import javax.sql.DataSource;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import dev.replicator.apply.Sql;
import dev.replicator.apply.TargetWriter;
import dev.replicator.convert.ConversionOptions;
import dev.replicator.convert.ConversionOptions.DecimalHandling;
import dev.replicator.convert.ConversionOptions.TimePrecision;
import dev.replicator.convert.ValueConverter;
import dev.replicator.decode.DebeziumDecoder;
import dev.replicator.decode.Fixtures;
import dev.replicator.decode.IncomingEvent;
import dev.replicator.decode.RowChange;
import dev.replicator.route.TableMappings;
import dev.replicator.route.TableRouter;
import dev.replicator.route.TargetCatalog;
import dev.replicator.route.TargetChange;
import dev.replicator.testing.DebeziumLoss;
import dev.replicator.testing.TableComparison;
import dev.replicator.testing.TestDatabases;

/**
 * Type fidelity, judged the way users judge it: every request Debezium Server 3.6 posted for a known workload is
 * replayed through decode, route and apply into a target made from the same schema, and then every table's COPY
 * output must equal the source's, except where Debezium's defaults themselves drop information (see
 * {@link TableComparison}).
 */
class FixtureReplayTest {

    @ParameterizedTest(name = "{0}/{1}")
    @CsvSource({
            "small, cloudevents, false",
            "small, json-schema, false",
            "small, json-noschema-batch, true",
            "small, cloudevents-noschema-batch, true",
            "wide, cloudevents, false",
            "wide, json, false",
            "wide, json, true",
            "heartbeat, cloudevents, false",
            "heartbeat, json, false",
            "heartbeat, json-noschema, false",
            "heartbeat, json-noschema-batch, true",
            "heartbeat, cloudevents-noschema-batch, true" })
    void replayEqualsSource(String workload, String capture, boolean oneTransaction) throws SQLException {
        replay(workload, capture, oneTransaction, ConversionOptions.DEFAULTS, TableComparison.DEFAULT_LOSSES);
    }

    /** The losses every capture of the types workload shows, whatever the connector's settings. */
    private static final Set<DebeziumLoss> ALWAYS = EnumSet.of(DebeziumLoss.TIMETZ_IN_UTC,
            DebeziumLoss.TIME_ARRAY_MILLISECONDS, DebeziumLoss.TIMETZ_ARRAY_UTC_SECONDS,
            DebeziumLoss.ENUM_ARRAY_NULL_ELEMENT, DebeziumLoss.VARBIT_LEADING_ZEROS, DebeziumLoss.NEGATIVE_ZERO);

    static Stream<Arguments> typeCaptures() {
        ConversionOptions defaults = ConversionOptions.DEFAULTS;
        Set<DebeziumLoss> precise = with(DebeziumLoss.NUMERIC_SPECIALS, DebeziumLoss.NUMERIC_TRAILING_ZEROS,
                DebeziumLoss.INTERVAL_AS_MICROSECONDS);
        Set<DebeziumLoss> strings = with(DebeziumLoss.NUMERIC_ARRAY_SPECIALS);
        Set<DebeziumLoss> connect = with(DebeziumLoss.NUMERIC_SPECIALS, DebeziumLoss.NUMERIC_TRAILING_ZEROS,
                DebeziumLoss.INTERVAL_AS_MICROSECONDS, DebeziumLoss.CONNECT_MILLISECONDS);
        return Stream.of(
                Arguments.of("cloudevents", false, defaults, precise),
                Arguments.of("json", false, defaults, precise),
                Arguments.of("json-noschema-batch", true, defaults, precise),
                Arguments.of("cloudevents-noschema-batch", true, defaults, precise),
                // with a schema the schema decides: no setting needed for decimal strings
                Arguments.of("cloudevents-strings", false, defaults, strings),
                Arguments.of("json-noschema-strings-batch", true, options(DecimalHandling.STRING, TimePrecision.ADAPTIVE),
                        strings),
                Arguments.of("json-connect", false, defaults, connect),
                Arguments.of("json-noschema-connect-batch", true, options(DecimalHandling.PRECISE, TimePrecision.CONNECT),
                        connect),
                Arguments.of("json-adaptive-time-microseconds", false, defaults, precise),
                Arguments.of("json-noschema-adaptive-time-microseconds-batch", true,
                        options(DecimalHandling.PRECISE, TimePrecision.ADAPTIVE_TIME_MICROSECONDS), precise));
    }

    /**
     * Every type PostgreSQL and Debezium share, with its extremes, infinities, NaN, empty and NULL arrays, in every
     * capture form and connector setting: the target must hold what the source holds, up to Debezium's own losses.
     */
    @ParameterizedTest(name = "types/{0}")
    @MethodSource("typeCaptures")
    void everyTypeReplaysExactly(String capture, boolean oneTransaction, ConversionOptions options,
            Set<DebeziumLoss> losses) throws SQLException {
        replay("types", capture, oneTransaction, options, losses);
    }

    private static Set<DebeziumLoss> with(DebeziumLoss... more) {
        Set<DebeziumLoss> losses = EnumSet.copyOf(ALWAYS);
        losses.addAll(List.of(more));
        return losses;
    }

    private static ConversionOptions options(DecimalHandling decimals, TimePrecision times) {
        return new ConversionOptions(decimals, times, ConversionOptions.BinaryHandling.BYTES);
    }

    private static void replay(String workload, String capture, boolean oneTransaction, ConversionOptions options,
            Set<DebeziumLoss> losses) throws SQLException {
        String folder = "/fixtures/debezium-server-3.6/" + workload + "/";
        DataSource source = TestDatabases.freshDatabase(TestDatabases.source(), "replay_source_" + workload);
        TestDatabases.runScript(source, folder + "schema.sql");
        TestDatabases.runScript(source, folder + "workload.sql");
        DataSource target = TestDatabases.freshDatabase(TestDatabases.target(), "replay_target");
        TestDatabases.runScript(target, folder + "schema.sql");

        TargetCatalog catalog = new TargetCatalog(target);
        TableRouter router = new TableRouter(new TableMappings(Map.of(), true), catalog,
                new ValueConverter(options));
        TargetWriter writer = new TargetWriter(target, new Sql("replicator"), "replicator", catalog::invalidate);
        DebeziumDecoder decoder = new DebeziumDecoder();

        List<IncomingEvent> events = Fixtures.loadFolder(workload + "/" + capture);
        assertFalse(events.isEmpty(), "no captured requests in " + workload + "/" + capture);
        List<TargetChange> all = new ArrayList<>();
        for (IncomingEvent event : events) {
            List<TargetChange> routed = new ArrayList<>();
            for (RowChange change : decoder.decode(event)) {
                routed.add(router.route(change));
            }
            if (oneTransaction) {
                all.addAll(routed);
            } else {
                writer.write(routed);
            }
        }
        writer.write(all);

        TableComparison.assertSameRows(source, target, losses);
    }
}
