package dev.replicator.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * A TCP proxy that holds every chunk of bytes for half a round trip in each direction, so the benchmark can show what
 * a database across a network costs, where each round trip is paid in waiting, not CPU. Benchmarks only.
 */
final class DelayingProxy implements AutoCloseable {

    private final ServerSocket server;
    private final int targetPort;
    private final long halfTripNanos;

    DelayingProxy(int targetPort, Duration roundTrip) throws IOException {
        this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        this.targetPort = targetPort;
        this.halfTripNanos = roundTrip.toNanos() / 2;
        daemon(this::accept);
    }

    /** Platform threads, so the proxy runs on Java 17; a benchmark opens few connections. */
    private static void daemon(Runnable task) {
        Thread thread = new Thread(task, "delaying-proxy");
        thread.setDaemon(true);
        thread.start();
    }

    int port() {
        return server.getLocalPort();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket target = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                client.setTcpNoDelay(true);
                target.setTcpNoDelay(true);
                daemon(() -> pump(client, target));
                daemon(() -> pump(target, client));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    /** Copies one direction: what was read is written once half a round trip has passed since it arrived. */
    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[64 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            for (int read = in.read(buffer); read >= 0; read = in.read(buffer)) {
                long due = System.nanoTime() + halfTripNanos;
                for (long left = due - System.nanoTime(); left > 0; left = due - System.nanoTime()) {
                    LockSupport.parkNanos(left);
                }
                out.write(buffer, 0, read);
                out.flush();
            }
        } catch (IOException e) {
            // one side closed
        } finally {
            close(from);
            close(to);
        }
    }

    private static void close(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
