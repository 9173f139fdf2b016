package dev.replicator.function;

import java.util.List;

import dev.replicator.BatchElement;
import dev.replicator.decode.IncomingEvent;

/** What one request delivers, read once: a single event (any content mode) or a batch. */
sealed interface Delivery {

    /**
     * One event: a CloudEvent in binary or structured mode, with {@code data} or {@code data_base64}, directly or
     * inside a Pub/Sub message; a plain Debezium envelope; or the data of a plain HTTP request to a job's path.
     */
    record Single(IncomingEvent event) implements Delivery {
    }

    /**
     * A JSON array of change events; an element that could not be read is kept with its reason.
     *
     * @param messageData the bytes the array was read from when it came inside a Pub/Sub message; null when it is
     *                    the request body itself
     */
    record Batch(List<BatchElement> elements, byte[] messageData) implements Delivery {
    }
}
