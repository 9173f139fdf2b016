package dev.replicator.replay;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.replicator.apply.Sql;
import dev.replicator.apply.TargetWriter;
import dev.replicator.convert.ConversionOptions;
import dev.replicator.convert.ValueConverter;
import dev.replicator.decode.DebeziumDecoder;
import dev.replicator.decode.Fixtures;
import dev.replicator.decode.IncomingEvent;
import dev.replicator.decode.RowChange;
import dev.replicator.route.TableMappings;
import dev.replicator.route.TableRouter;
import dev.replicator.route.TargetCatalog;
import dev.replicator.route.TargetChange;
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
            "wide, json, true" })
    void replayEqualsSource(String workload, String capture, boolean oneTransaction) throws SQLException {
        String folder = "/fixtures/debezium-server-3.6/" + workload + "/";
        DataSource source = TestDatabases.freshDatabase(TestDatabases.source(), "replay_source_" + workload);
        TestDatabases.runScript(source, folder + "schema.sql");
        TestDatabases.runScript(source, folder + "workload.sql");
        DataSource target = TestDatabases.freshDatabase(TestDatabases.target(), "replay_target");
        TestDatabases.runScript(target, folder + "schema.sql");

        TargetCatalog catalog = new TargetCatalog(target);
        TableRouter router = new TableRouter(new TableMappings(Map.of(), true), catalog,
                new ValueConverter(ConversionOptions.DEFAULTS));
        TargetWriter writer = new TargetWriter(target, new Sql("replicator"), "replicator", catalog::invalidate);
        DebeziumDecoder decoder = new DebeziumDecoder();

        List<IncomingEvent> events = Fixtures.loadFolder(workload + "/" + capture);
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

        TableComparison.assertSameRows(source, target);
    }
}
