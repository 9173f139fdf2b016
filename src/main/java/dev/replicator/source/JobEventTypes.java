package dev.replicator.source;

import java.util.Set;

/** The CloudEvent types of the source-side jobs, requests and answers. */
public final class JobEventTypes {

    /** Copy source rows to the target; also the continuation an unfinished backfill answers with. */
    public static final String BACKFILL = "replicator.backfill.v1";
    /** A finished backfill's answer (not routed back). */
    public static final String BACKFILL_DONE = "replicator.backfill.done.v1";
    /** Compare source and target (optionally repair); also the continuation of an unfinished verify. */
    public static final String VERIFY = "replicator.verify.v1";
    /** A finished verify's answer: the report (not routed back). */
    public static final String VERIFY_REPORT = "replicator.verify.report.v1";
    /** Read rows by key from the source and apply them. */
    public static final String ROWREF = "replicator.rowref.v1";
    /** Drain the source's logical replication slot; also the continuation of an unfinished pull. */
    public static final String PULL = "replicator.pull.v1";
    /** A pull's answer once the slot is drained (not routed back). */
    public static final String PULL_DONE = "replicator.pull.done.v1";
    /** Move the target's sequences forward to the source's (before a cutover of a push-only install). */
    public static final String SEQUENCES = "replicator.sequences.v1";
    /** A sequence sync's answer (not routed back). */
    public static final String SEQUENCES_REPORT = "replicator.sequences.report.v1";
    /** What a Knative PingSource sends, whatever its data: its data is a verify request. */
    public static final String PING = "dev.knative.sources.ping";
    /** Where answers say they come from. */
    public static final String SOURCE = "/replicator";

    /** Request types: accepted as CloudEvents. */
    public static final Set<String> REQUESTS = Set.of(BACKFILL, VERIFY, ROWREF, PULL, SEQUENCES, PING);

    private JobEventTypes() {
    }
}
