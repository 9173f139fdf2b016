package dev.replicator;

import com.fasterxml.jackson.databind.JsonNode;

import dev.replicator.decode.BadEventException;
import dev.replicator.decode.IncomingEvent;

/**
 * One element of a batch whose bad elements are parked on their own.
 *
 * @param index      its place in the batch, from 0
 * @param event      the event read from it, or null when it could not be read
 * @param unreadable why it could not be read, or null
 * @param original   the element as it came, kept if it is parked
 */
public record BatchElement(int index, IncomingEvent event, BadEventException unreadable, JsonNode original) {
}
