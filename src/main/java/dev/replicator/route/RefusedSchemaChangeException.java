package dev.replicator.route;

/**
 * A change needs the target's schema changed in a way replicator never does (a narrowing, a type it cannot define,
 * a table without a known key) or cannot do (a missing privilege): answered 422, naming the column or table.
 */
public class RefusedSchemaChangeException extends RefusedValueException {

    public RefusedSchemaChangeException(String eventId, String problem) {
        super(eventId, problem);
    }
}
