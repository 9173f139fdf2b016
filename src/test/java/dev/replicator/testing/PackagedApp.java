package dev.replicator.testing;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The packaged application started as its own process, as a container would run it: the native binary when the
 * integration tests run with {@code -Dnative}, otherwise {@code java -jar quarkus-run.jar} from
 * {@code target/quarkus-app} (an AppCDS archive records relative paths).
 */
public final class PackagedApp implements AutoCloseable {

    private final Process process;
    private final Path log;

    private PackagedApp(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /**
     * Starts the application with these JVM options (ignored by a native binary), {@code -D} properties and
     * environment; its output goes to {@code log}.
     */
    public static PackagedApp start(List<String> jvmOptions, Map<String, String> properties, Map<String, String> env,
            Path log) throws IOException {
        List<String> command = new ArrayList<>();
        String nativeImage = System.getProperty("native.image.path");
        boolean isNative = nativeImage != null && Files.isExecutable(Path.of(nativeImage));
        if (isNative) {
            command.add(Path.of(nativeImage).toAbsolutePath().toString());
        } else {
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(jvmOptions);
        }
        properties.forEach((name, value) -> command.add("-D" + name + "=" + value));
        if (!isNative) {
            command.addAll(List.of("-jar", "quarkus-run.jar"));
        }
        File directory = new File(isNative ? "." : "target/quarkus-app");
        ProcessBuilder builder = new ProcessBuilder(command).directory(directory).redirectErrorStream(true)
                .redirectOutput(log.toAbsolutePath().toFile());
        builder.environment().putAll(env);
        return new PackagedApp(builder.start(), log);
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path log() {
        return log;
    }

    /** Resident memory of the process now, in KiB, from {@code /proc}. */
    public long rssKb() throws IOException {
        return procStatus("VmRSS:");
    }

    /** Peak resident memory of the process so far, in KiB, from {@code /proc}. */
    public long peakRssKb() throws IOException {
        return procStatus("VmHWM:");
    }

    private long procStatus(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return -1;
    }

    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor();
    }
}
