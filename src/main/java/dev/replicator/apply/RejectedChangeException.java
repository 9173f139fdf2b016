package dev.replicator.apply;

/** The target refused a change (constraint violation, value out of range ...): retrying cannot help. Answered 422. */
public class RejectedChangeException extends RuntimeException {

    private final String eventId;

    public RejectedChangeException(String eventId, String problem) {
        super(problem);
        this.eventId = eventId;
    }

    public String eventId() {
        return eventId;
    }
}
