package dev.replicator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.core.JsonFactory;

/** Each element of a batch as the bytes it was within the array, whatever its kind and spacing. */
class BatchBytesTest {

    static final String[] ELEMENTS = { "{\"a\" : 1 ,\n \"b\":\"x\\u0000y\" , \"a\": 2}", "12.50e3", "-0",
            "\"str\\\"ing \\\\\"", "true", "null", "false", "[1, [2, {}] ]", "\"caf\u00e9 \uD83D\uDE00\"", "{}" };

    @Test
    void eachElementIsTheBytesItWasWithinTheArray() {
        String array = "[ " + String.join(" ,\r\n\t", ELEMENTS) + "\n]  ";
        BatchBytes bytes = new BatchBytes(() -> array.getBytes(StandardCharsets.UTF_8), new JsonFactory());
        for (int i = 0; i < ELEMENTS.length; i++) {
            assertEquals(ELEMENTS[i], new String(bytes.element(i), StandardCharsets.UTF_8), "element " + i);
        }
        assertNull(bytes.element(ELEMENTS.length));
    }

    @Test
    void aByteOrderMarkIsCountedIn() {
        BatchBytes bytes = new BatchBytes(() -> "\uFEFF[1,{\"x\":2}]".getBytes(StandardCharsets.UTF_8),
                new JsonFactory());
        assertEquals("{\"x\":2}", new String(bytes.element(1), StandardCharsets.UTF_8));
    }

    /** Jackson reads UTF-16 as characters, whose locations have no byte offset: the caller keeps what it read. */
    @Test
    void notFoundInAnArrayThatIsNotUtf8() {
        BatchBytes bytes = new BatchBytes(() -> "[1,2]".getBytes(StandardCharsets.UTF_16BE), new JsonFactory());
        assertNull(bytes.element(0));
    }

    @Test
    void theBytesAreAskedForOnlyWhenAnElementIs() {
        int[] asked = { 0 };
        BatchBytes bytes = new BatchBytes(() -> {
            asked[0]++;
            return "[1,2]".getBytes(StandardCharsets.UTF_8);
        }, new JsonFactory());
        assertEquals(0, asked[0]);
        bytes.element(0);
        bytes.element(1);
        assertEquals(1, asked[0]);
    }
}
