package dev.replicator.apply;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;

/**
 * How long the calling thread has waited for a CPU so far: runnable, but another thread had the core. Read from
 * Linux's scheduler statistics ({@code /proc/thread-self/schedstat}: time on a CPU, time waiting for one, slices).
 * Where the file is missing (another system, a sandbox without it) {@link #waited} answers -1.
 * <p>
 * Opened by the thread it measures and used only there: the file names the thread that opened it.
 */
final class CpuWait implements AutoCloseable {

    private static final String THIS_THREAD = "/proc/thread-self/schedstat";

    private final RandomAccessFile file;
    private final byte[] buffer = new byte[96];

    private CpuWait(RandomAccessFile file) {
        this.file = file;
    }

    /** The calling thread's statistics. */
    static CpuWait ofThisThread() {
        return of(THIS_THREAD);
    }

    static CpuWait of(String path) {
        try {
            return new CpuWait(new RandomAccessFile(path, "r"));
        } catch (IOException | SecurityException e) {
            return new CpuWait(null);
        }
    }

    /** Nanoseconds this thread has waited for a CPU since it started, or -1 when that is not known here. */
    long waited() {
        if (file == null) {
            return -1;
        }
        try {
            file.seek(0); // the kernel writes the figures afresh on every read from the start
            int length = file.read(buffer);
            return length <= 0 ? -1 : secondNumber(buffer, length);
        } catch (IOException e) {
            return -1;
        }
    }

    /** The second of the space-separated numbers, or -1 when the text is not three numbers. */
    static long secondNumber(byte[] text, int length) {
        String[] fields = new String(text, 0, length, StandardCharsets.US_ASCII).trim().split(" ");
        if (fields.length < 2) {
            return -1;
        }
        try {
            return Long.parseLong(fields[1]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    @Override
    public void close() {
        if (file != null) {
            try {
                file.close();
            } catch (IOException e) {
                // nothing was written; nothing to lose
            }
        }
    }
}
