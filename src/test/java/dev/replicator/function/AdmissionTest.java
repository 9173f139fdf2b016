package dev.replicator.function;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

import dev.replicator.testing.PostgresResource;
import dev.replicator.testing.TestDatabases;

/**
 * Requests are admitted by their body bytes before the body is read: over the budget a request is answered 503 with
 * Retry-After; a request alone is always admitted.
 */
@QuarkusTest
@QuarkusTestResource(PostgresResource.class)
@TestProfile(AdmissionTest.SmallBudget.class)
class AdmissionTest {

    static final int BUDGET = 8192;

    public static class SmallBudget implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("replicator.admission.max-bytes-in-flight", String.valueOf(BUDGET));
        }
    }

    @TestHTTPResource("/")
    URL url;

    @Test
    void aRequestOverTheByteBudgetIsRefusedBeforeItsBodyIsReadAndOneAloneIsAlwaysAdmitted() throws Exception {
        try (Socket held = socket(); Socket other = socket()) {
            // headers only: admitted by its Content-Length, its body still to come
            byte[] heldBody = batch(1, 6000);
            OutputStream heldOut = held.getOutputStream();
            heldOut.write(headers(heldBody.length));
            heldOut.flush();
            awaitBytesInFlight(6000);

            // 6,000 + 3,000 > 8,192: refused at once, though its whole body is sent
            byte[] body = batch(2, 3000);
            Answer refused = exchange(other, body);
            assertEquals(503, refused.status, refused.text);
            assertTrue(refused.text.contains("Retry-After: 1"), refused.text);
            assertTrue(refused.text.contains("6000 body bytes in flight"), refused.text);
            assertEquals("", TestDatabases.copy(PostgresResource.target(), "SELECT * FROM scratch WHERE k = 2"),
                    "nothing of a refused request is applied");

            // the held request completes; the connection of the refused one is still usable
            heldOut.write(heldBody);
            heldOut.flush();
            Answer held1 = read(held.getInputStream());
            assertEquals(200, held1.status, held1.text);
            awaitBytesInFlight(0);
            Answer retried = exchange(other, body);
            assertEquals(200, retried.status, retried.text);
        }
        // alone, a request larger than the whole budget is admitted
        given().contentType("application/json").body(batch(3, 3 * BUDGET)).post("/").then().statusCode(200);
        assertEquals("1\tv\n2\tv\n3\tv\n", TestDatabases.copy(PostgresResource.target(),
                "SELECT k, v FROM scratch WHERE k IN (1, 2, 3) ORDER BY k"));
        awaitBytesInFlight(0);
    }

    /** A batch of two native changes of scratch row k, padded with spaces to exactly this many bytes. */
    private static byte[] batch(int k, int bytes) {
        String change = "{\"specversion\":\"1.0\",\"id\":\"admission-%d-%d\",\"source\":\"/t\","
                + "\"type\":\"replicator.change.v1\",\"data\":{\"table\":\"public.scratch\",\"op\":\"upsert\","
                + "\"position\":%d,\"after\":{\"k\":%d,\"v\":\"v\"}}}";
        String json = "[" + String.format(change, k, 1, 100 + k, k) + "," + String.format(change, k, 2, 200 + k, k) + "]";
        return (json + " ".repeat(bytes - json.length())).getBytes(StandardCharsets.UTF_8);
    }

    private Socket socket() throws IOException {
        Socket socket = new Socket(url.getHost(), url.getPort());
        socket.setSoTimeout(30_000);
        return socket;
    }

    private static byte[] headers(int length) {
        return ("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: " + length
                + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static Answer exchange(Socket socket, byte[] body) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(headers(body.length));
        out.write(body);
        out.flush();
        return read(socket.getInputStream());
    }

    record Answer(int status, String text) {
    }

    /** One HTTP/1.1 answer with a Content-Length: the status, headers and body as text. */
    private static Answer read(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed after: " + head);
            }
            head.write(b);
        }
        String headers = head.toString(StandardCharsets.US_ASCII);
        int length = 0;
        for (String line : headers.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring("content-length:".length()).trim());
            }
        }
        String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
        return new Answer(Integer.parseInt(headers.substring(9, 12)), headers + body);
    }

    private static void awaitBytesInFlight(long bytes) throws InterruptedException {
        String gauge = "";
        for (int i = 0; i < 200; i++) {
            String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
            gauge = metrics.lines().filter(l -> l.startsWith("replicator_in_flight_bytes ")).findFirst().orElse("");
            if (gauge.equals("replicator_in_flight_bytes " + (double) bytes)) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("body bytes in flight: expected " + bytes + ", metric says '" + gauge + "'");
    }
}
