package dev.replicator.function;

import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

import dev.replicator.decode.NativeDecoder;
import dev.replicator.source.JobEventTypes;

/**
 * The CloudEvent types replicator takes: changes (in a batch or alone) and requests (alone only). The one place a
 * type is checked; Funqy's mapping then only picks the function.
 */
record AcceptedTypes(Set<String> changes, Set<String> requests) {

    /** A request answered 204 at once, without touching a database: checks the wiring from a broker. */
    static final String PING = "replicator.ping.v1";

    static AcceptedTypes of(Collection<String> debeziumTypes) {
        Set<String> changes = new HashSet<>(debeziumTypes);
        changes.add(NativeDecoder.TYPE);
        Set<String> requests = new HashSet<>(JobEventTypes.REQUESTS);
        requests.add(PING);
        return new AcceptedTypes(Set.copyOf(changes), Set.copyOf(requests));
    }

    boolean single(String type) {
        return changes.contains(type) || requests.contains(type);
    }
}
