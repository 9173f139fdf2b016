package dev.replicator.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.quarkus.runtime.configuration.MemorySize;
import io.quarkus.runtime.configuration.MemorySizeConverter;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;

import dev.replicator.convert.ConversionOptions;

/**
 * Every setting of replicator, under {@code replicator.}. Checked at start-up by {@link ConfigValidator}.
 */
@ConfigMapping(prefix = "replicator")
public interface ReplicatorConfig {

    /**
     * Source tables replicated, keyed by {@code schema.table}: {@code replicator.tables."public.orders".target=...}.
     * Only these are written unless {@link #allowAllTables()} is set.
     */
    Map<String, TableMapping> tables();

    /** Write any source table that exists under the same name in the target, mapped or not. */
    @WithDefault("false")
    boolean allowAllTables();

    /** Apply TRUNCATE events (op {@code t}) to the target. */
    @WithDefault("true")
    boolean applyTruncate();

    /** Console logs as one JSON object per line (for Cloud Logging and other collectors). */
    @WithDefault("false")
    boolean logJson();

    Debezium debezium();

    Ordering ordering();

    Schema schema();

    /** What replicator does when a change needs a table or column the target lacks (docs/schema-changes.md). */
    interface Schema {
        /**
         * {@code none}: such a change is refused (400, or a pull stops with 422) until the target is altered by hand.
         * {@code add}: the table is created, the column added (nullable), in the transaction of the first change that
         * needs it; nothing is ever dropped, narrowed or converted.
         */
        @WithDefault("none")
        String evolution();

        /** Whether {@link #evolution()} is {@code add}; throws IllegalArgumentException for a value it does not know. */
        default boolean adds() {
            return switch (evolution()) {
                case "none" -> false;
                case "add" -> true;
                default -> throw new IllegalArgumentException(
                        "replicator.schema.evolution must be none or add, got '" + evolution() + "'");
            };
        }
    }

    Sequences sequences();

    /** Sequences owned by replicated tables, moved forward on the target (docs/schema-changes.md#sequences). */
    interface Sequences {
        /** After each pull and backfill, move the target's sequences up to the source's; never back. */
        @WithDefault("true")
        boolean sync();
    }

    Rejected rejected();

    Backfill backfill();

    Verify verify();

    interface Backfill {
        /**
         * How long one backfill invocation copies before it answers with a continuation event; well under the
         * request timeout of Knative (5 minutes by default) and Cloud Run.
         */
        @WithDefault("60s")
        Duration timeBudget();

        /**
         * Rows copied per chunk (one source snapshot, one target transaction) when the request does not say. Rows
         * stream through with COPY, so a large chunk costs no memory; it saves a transaction and a plan per chunk.
         */
        @WithDefault("100000")
        int chunkSize();
    }

    interface Verify {
        /** How long one verify invocation compares before it answers with a continuation event. */
        @WithDefault("60s")
        Duration timeBudget();

        /** Source rows per compared key range when the request does not say. */
        @WithDefault("1000")
        int chunkSize();

        /** At most this many differing keys are listed in a verify report when the request does not say. */
        @WithDefault("20")
        int sampleKeys();
    }

    Pull pull();

    /** Pull mode (docs/pull.md): replicator drains a logical replication slot of the source itself. */
    interface Pull {
        /** The logical replication slot on the source, read with the pgoutput plugin. */
        @WithDefault("replicator")
        String slot();

        /** The publication that says which tables' changes the slot hands out. */
        @WithDefault("replicator")
        String publication();

        /**
         * Create the publication ({@code FOR ALL TABLES}) and the slot when missing; when false, a missing one is an
         * error (422) that names it.
         */
        @WithDefault("false")
        boolean create();

        /** How long one pull reads before it answers with a continuation event. */
        @WithDefault("60s")
        Duration timeBudget();

        /**
         * How the slot is read: {@code stream}, over the replication protocol on a connection of its own with the
         * {@code source} datasource's URL and credentials; or {@code peek}, through the SQL interface on a pooled
         * connection (for a pooler or proxy that takes no replication connection).
         */
        @WithDefault("stream")
        String read();

        /** Messages read per peek of the slot (whole transactions, so a little more), with {@code read=peek}. */
        @WithDefault("100000")
        int peekChanges();

        /** Small source transactions share a target transaction up to about this many changes. */
        @WithDefault("5000")
        int groupChanges();
    }

    GroupCommit groupCommit();

    interface GroupCommit {
        /** Groups written at once, each in its own transaction on its own target connection (keep below the pool size). */
        @WithDefault("4")
        int writers();

        /** Most changes in one shared transaction; a request with more is written as a group of its own. */
        @WithDefault("1000")
        int maxChanges();

        /**
         * Longest a group waits for the group being written before it is written beside it; it goes as soon as no other
         * group is being written. Longer suits a target on the same cores, shorter one across a network.
         */
        @WithDefault("PT0.001S")
        Duration maxWait();

        /**
         * The same wait while the group writers mostly wait for a CPU rather than for the target (the target on the
         * function's cores, or its cores saturated): then groups written side by side only compete for the CPUs.
         * At or below {@code max-wait}, {@code max-wait} applies throughout.
         */
        @WithDefault("PT0.01S")
        Duration maxWaitCpuBound();

        /**
         * Changes admitted at once (waiting or being written). A request beyond the cap is answered 503 with
         * {@code Retry-After} instead of queueing; a request alone is always admitted, whatever its size.
         */
        @WithDefault("50000")
        int maxChangesInFlight();
    }

    Admission admission();

    interface Admission {
        /**
         * Body bytes of the requests admitted at once, counted from their Content-Length before the body is read (a
         * body without one counts as the largest allowed). Beyond it a request is answered 503 with
         * {@code Retry-After} before its body is read or parsed; a request alone is always admitted.
         */
        @WithDefault("12M")
        @WithConverter(MemorySizeConverter.class)
        MemorySize maxBytesInFlight();
    }

    interface Rejected {
        /**
         * Keep events that can never be applied (400, 422) in the target's {@code replicator.rejected} table and
         * answer 200. For platforms that redeliver every non-2xx answer (Cloud Run behind Pub/Sub push), where a
         * rejected event would otherwise come back for days.
         */
        @WithDefault("false")
        boolean park();
    }

    interface TableMapping {
        /** Target table as {@code schema.table}; defaults to the source name. */
        Optional<String> target();

        /** Source columns never written to the target. */
        Optional<List<String>> excludeColumns();
    }

    interface Debezium {
        /** CloudEvent types treated as Debezium change events. */
        @WithDefault("io.debezium.connector.postgresql.DataChangeEvent")
        List<String> eventTypes();

        /** Debezium's {@code decimal.handling.mode}, used to read numeric values of events without a schema. */
        @WithDefault("precise")
        String decimalHandlingMode();

        /** Debezium's {@code time.precision.mode}, used to read time values of events without a schema. */
        @WithDefault("adaptive")
        String timePrecisionMode();

        /** Debezium's {@code binary.handling.mode}. */
        @WithDefault("bytes")
        String binaryHandlingMode();

        /** The options above as the value converter takes them; throws IllegalArgumentException for a bad one. */
        default ConversionOptions conversionOptions() {
            return new ConversionOptions(ConversionOptions.DecimalHandling.parse(decimalHandlingMode()),
                    ConversionOptions.TimePrecision.parse(timePrecisionMode()),
                    ConversionOptions.BinaryHandling.parse(binaryHandlingMode()));
        }
    }

    interface Ordering {
        /** Schema in the target where replicator keeps per-row positions and checkpoints. */
        @WithDefault("replicator")
        String schema();

        /**
         * Accept changes without a position and apply them last-writer-wins. Off by default: such changes are
         * rejected (400), because without a position an old event could overwrite a newer row.
         */
        @WithDefault("false")
        boolean acceptUnpositioned();

        /** How long the position of a deleted row is kept to fence off late, older changes of that row. */
        @WithDefault("P7D")
        Duration tombstoneRetention();
    }
}
