package dev.replicator;

import java.io.IOException;
import java.util.Arrays;
import java.util.function.Supplier;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

/**
 * The exact bytes of each element of a batch (a JSON array) within the bytes the array was read from, so that a
 * parked element is kept as it came rather than as it was parsed. They are found by reading the array again with
 * Jackson's streaming parser, whose token locations are byte offsets into its input: only when a batch parks
 * something, and then once; applying a batch never reads them.
 */
public final class BatchBytes {

    private static final long[] NOT_FOUND = new long[0];

    private final Supplier<byte[]> source;
    private final JsonFactory json;
    private byte[] array;
    /** Where each element starts and ends (two offsets each); {@link #NOT_FOUND} when they cannot be found. */
    private long[] bounds;

    /**
     * @param source the bytes the array was read from (the request body, or the data of the message it came in),
     *               asked for only when an element is parked
     * @param json   the factory the array was parsed with, so that it is read again with the same features
     */
    public BatchBytes(Supplier<byte[]> source, JsonFactory json) {
        this.source = source;
        this.json = json;
    }

    /**
     * The element's bytes as received, or null when they cannot be found: the array is not in UTF-8 (Jackson reads
     * UTF-16 and UTF-32 as characters, whose locations have no byte offset) or no longer reads as it did.
     */
    public synchronized byte[] element(int index) {
        if (bounds == null) {
            array = source.get();
            bounds = bounds(array);
        }
        if (2 * index + 1 >= bounds.length) {
            return null;
        }
        return Arrays.copyOfRange(array, (int) bounds[2 * index], (int) bounds[2 * index + 1]);
    }

    /** Start and end offsets of each element of the top-level array. */
    private long[] bounds(byte[] bytes) {
        if (bytes == null) {
            return NOT_FOUND;
        }
        long[] found = new long[16];
        int count = 0;
        try (JsonParser parser = json.createParser(bytes)) {
            if (parser.nextToken() != JsonToken.START_ARRAY) {
                return NOT_FOUND;
            }
            for (JsonToken token = parser.nextToken(); token != null && token != JsonToken.END_ARRAY;
                    token = parser.nextToken()) {
                long start = parser.currentTokenLocation().getByteOffset();
                if (token.isStructStart()) {
                    parser.skipChildren();
                } else {
                    parser.finishToken(); // a string is read lazily: to its closing quote
                }
                long end = parser.currentLocation().getByteOffset();
                if (start < 0 || end < start || end > bytes.length) {
                    return NOT_FOUND;
                }
                if (count + 2 > found.length) {
                    found = Arrays.copyOf(found, found.length * 2);
                }
                found[count++] = start;
                found[count++] = end;
            }
        } catch (IOException e) {
            return NOT_FOUND;
        }
        return Arrays.copyOf(found, count);
    }
}
