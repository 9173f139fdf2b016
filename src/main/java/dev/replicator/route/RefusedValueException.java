package dev.replicator.route;

/**
 * A value no PostgreSQL column can hold as sent (text that is not valid Unicode): retrying cannot help, and writing it
 * would store something else. Answered 422, like a value the target refuses.
 */
public class RefusedValueException extends RuntimeException {

    private final String eventId;

    public RefusedValueException(String eventId, String problem) {
        super(problem);
        this.eventId = eventId;
    }

    public String eventId() {
        return eventId;
    }
}
