package dev.replicator.decode;

/** The event itself is wrong (malformed, unsupported, incomplete): retrying cannot help. Answered with 400. */
public class BadEventException extends RuntimeException {

    private final String eventId;

    public BadEventException(String eventId, String problem) {
        super(problem);
        this.eventId = eventId;
    }

    public String eventId() {
        return eventId;
    }
}
