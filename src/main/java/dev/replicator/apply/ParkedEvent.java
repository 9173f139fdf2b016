package dev.replicator.apply;

/**
 * An event kept in the target's rejected table because it can never be applied.
 *
 * @param eventId    its CloudEvent id, or null
 * @param eventType  its CloudEvent type, or null
 * @param status     the answer it would have had alone: 400 or 422
 * @param reason     why, without row values
 * @param batchIndex its place in the batch it came in (from 0), or null when it was the whole request
 * @param request    the request as it came (for a batch element: the element's own bytes), to replay it later
 */
public record ParkedEvent(String eventId, String eventType, int status, String reason, Integer batchIndex,
        KeptRequest request) {
}
