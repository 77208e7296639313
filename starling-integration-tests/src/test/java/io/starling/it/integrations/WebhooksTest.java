package io.starling.it.integrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.starling.broker.config.AdminConfig;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.WebhooksConfig;
import io.starling.broker.config.WebhooksConfig.Event;
import io.starling.server.StarlingServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Webhooks against HTTP receivers in the test ({@code com.sun.net.httpserver}): every event type and its JSON
 * (hostile topic names and binary payloads encoded correctly), a receiver that never answers (a QoS 1
 * publish/subscribe loop completes while it stalls, and the drops are counted in {@code starling_webhook_dropped}),
 * and a receiver that is down, then up (the retries deliver).
 */
class WebhooksTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    Path dir;
    private final List<AutoCloseable> open = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    /** A receiver that puts every event it gets (each element of a batch) into {@code into}. */
    private URI receiver(int port, BlockingQueue<JsonNode> into, CountDownLatch stall) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        s.setExecutor(Executors.newCachedThreadPool());
        s.createContext("/hook", ex -> {
            JsonNode n = JSON.readTree(ex.getRequestBody());
            if (stall != null) {
                try {
                    stall.await(); // never answers while the test runs
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (!"Bearer hook-token".equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                ex.sendResponseHeaders(401, -1);
                ex.close();
                return;
            }
            if (n.isArray()) {
                n.forEach(into::add);
            } else {
                into.add(n);
            }
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        s.start();
        open.add(() -> s.stop(0));
        if (stall != null) {
            open.add(0, stall::countDown); // released before the server stops
        }
        return URI.create("http://127.0.0.1:" + s.getAddress().getPort() + "/hook");
    }

    private StarlingServer broker(WebhooksConfig.Hook hook) throws IOException {
        StarlingServer s = StarlingServer.start(BrokerConfig.builder().bindAddress("127.0.0.1").port(0)
                .dataDir(Files.createTempDirectory(dir, "data")).storage(BrokerConfig.Storage.MEMORY)
                .admin(AdminConfig.loopback(0)).webhooks(new WebhooksConfig(List.of(hook))).build());
        open.add(s);
        return s;
    }

    private static WebhooksConfig.Hook hook(URI url, int maxEvents, int retries, int batch, Duration timeout) {
        return new WebhooksConfig.Hook(url, EnumSet.allOf(Event.class), List.of("telemetry/#", "hostile/#"),
                Map.of("Authorization", "Bearer hook-token"), timeout, retries, Duration.ofMillis(100), maxEvents,
                1 << 20, batch);
    }

    private MqttClient client(StarlingServer s, String id, long sessionExpiry) throws Exception {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + s.port(), id, new MemoryPersistence());
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        o.setSessionExpiryInterval(sessionExpiry);
        c.connect(o);
        open.add(() -> {
            if (c.isConnected()) {
                c.disconnect();
            }
            c.close();
        });
        return c;
    }

    /** Takes events until one of {@code type} for {@code clientId} arrives (10 s at most). */
    private static JsonNode next(BlockingQueue<JsonNode> q, String type, String clientId) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        List<JsonNode> seen = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            JsonNode n = q.poll(100, TimeUnit.MILLISECONDS);
            if (n != null && n.path("event").asText().equals(type) && n.path("clientId").asText().equals(clientId)) {
                return n;
            }
            if (n != null) {
                seen.add(n);
            }
        }
        throw new AssertionError("no " + type + " for " + clientId + "; got " + seen);
    }

    private double metric(StarlingServer s, String name) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.adminPort()
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        for (String line : r.body().split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        throw new AssertionError(name + " not in the scrape");
    }

    @Test
    void everyEventTypeArrivesAsJsonWithHostileNamesAndPayloadsEncoded() throws Exception {
        BlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
        StarlingServer s = broker(hook(receiver(0, events, null), 1000, 3, 5, Duration.ofSeconds(5)));
        MqttClient c = client(s, "wh-client", 1);
        JsonNode created = next(events, "session.created", "wh-client");
        assertThat(created.path("timestamp").asLong()).isPositive();
        JsonNode connected = next(events, "client.connected", "wh-client");
        assertThat(connected.path("protocol").asText()).isEqualTo("5.0");
        assertThat(connected.path("sessionPresent").asBoolean()).isFalse();
        assertThat(connected.path("address").asText()).startsWith("127.0.0.1:");
        c.subscribe("hostile/#", 1);
        JsonNode sub = next(events, "client.subscribed", "wh-client");
        assertThat(sub.path("filter").asText()).isEqualTo("hostile/#");
        assertThat(sub.path("qos").asInt()).isEqualTo(1);
        // a topic with quotes, backslashes, a JSON-looking tail, a line separator, markup and non-ASCII letters
        String topic = "hostile/\"},{\"event\":\"forged\"}/back\\slash/\u2028/<script>/é/日本/\uD83D\uDE00";
        byte[] payload = new byte[256];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) i;
        }
        c.publish(topic, new MqttMessage(payload, 1, false, null));
        JsonNode pub = next(events, "message.published", "wh-client");
        assertThat(pub.path("topic").asText()).isEqualTo(topic);
        assertThat(pub.path("qos").asInt()).isEqualTo(1);
        assertThat(pub.path("retain").asBoolean()).isFalse();
        assertThat(Base64.getDecoder().decode(pub.path("payload").asText())).isEqualTo(payload);
        c.publish("telemetry/q0", new MqttMessage("qos 0".getBytes(StandardCharsets.UTF_8), 0, false, null));
        JsonNode q0 = next(events, "message.published", "wh-client");
        assertThat(q0.path("topic").asText()).isEqualTo("telemetry/q0");
        assertThat(q0.path("qos").asInt()).isZero();
        c.publish("other/x", new MqttMessage("not hooked".getBytes(StandardCharsets.UTF_8), 1, false, null));
        c.unsubscribe("hostile/#");
        assertThat(next(events, "client.unsubscribed", "wh-client").path("filter").asText()).isEqualTo("hostile/#");
        c.disconnect();
        assertThat(next(events, "client.disconnected", "wh-client").path("reason").asText()).isEqualTo("closed");
        // the session outlives the connection by 1 s, then expires
        next(events, "session.expired", "wh-client");
        assertThat(events).noneMatch(n -> n.path("event").asText().equals("forged"))
                .noneMatch(n -> n.path("topic").asText().equals("other/x"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(
                () -> assertThat(metric(s, "starling_webhook_sent_total")).isEqualTo(8)); // the eight above
        // a 3.1.1 client (Paho v3)
        org.eclipse.paho.client.mqttv3.MqttClient v3 = new org.eclipse.paho.client.mqttv3.MqttClient(
                "tcp://127.0.0.1:" + s.port(), "wh-v3", new org.eclipse.paho.client.mqttv3.persist.MemoryPersistence());
        v3.connect();
        open.add(v3::close);
        assertThat(next(events, "client.connected", "wh-v3").path("protocol").asText()).isEqualTo("3.1.1");
        v3.disconnect();
        next(events, "client.disconnected", "wh-v3");
        assertThat(metric(s, "starling_webhook_dropped_total")).isZero();
    }

    @Test
    void aReceiverThatNeverAnswersDoesNotSlowMqttTrafficAndDropsAreCounted() throws Exception {
        BlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
        CountDownLatch stall = new CountDownLatch(1);
        StarlingServer s = broker(hook(receiver(0, events, stall), 10, 0, 1, Duration.ofMinutes(5)));
        MqttClient sub = client(s, "wh-sub", 0);
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        sub.subscribe(new org.eclipse.paho.mqttv5.common.MqttSubscription[] {
                new org.eclipse.paho.mqttv5.common.MqttSubscription("telemetry/#", 1)},
                new org.eclipse.paho.mqttv5.client.IMqttMessageListener[] {(t, m) -> received.add(
                        new String(m.getPayload(), StandardCharsets.UTF_8))});
        MqttClient pub = client(s, "wh-pub", 0);
        // QoS 1 round trips, each waiting for its PUBACK and for the subscriber to get it, while the receiver stalls
        for (int i = 0; i < 300; i++) {
            pub.publish("telemetry/x", new MqttMessage(("m" + i).getBytes(StandardCharsets.UTF_8), 1, false, null));
            assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo("m" + i);
        }
        assertThat(events).as("nothing answered").isEmpty();
        assertThat(metric(s, "starling_webhook_dropped_total")).isGreaterThan(250);
        assertThat(metric(s, "starling_webhook_queued")).isLessThanOrEqualTo(10);
        assertThat(metric(s, "starling_webhook_sent_total")).isZero();
    }

    @Test
    void aReceiverThatAnswersErrorsGetsRetriesThenTheEventsCountAsFailed() throws Exception {
        HttpServer broken = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        AtomicRequests requests = new AtomicRequests();
        broken.createContext("/hook", ex -> {
            ex.getRequestBody().readAllBytes();
            requests.count.incrementAndGet();
            byte[] b = "<html>oops</html>".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(500, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        broken.start();
        open.add(() -> broken.stop(0));
        WebhooksConfig.Hook h = new WebhooksConfig.Hook(URI.create("http://127.0.0.1:" + broken.getAddress().getPort()
                + "/hook"), EnumSet.of(Event.MESSAGE_PUBLISHED), List.of("telemetry/#"), Map.of(),
                Duration.ofSeconds(2), 2, Duration.ofMillis(50), 100, 1 << 20, 1);
        StarlingServer s = broker(h);
        MqttClient c = client(s, "wh-500", 0);
        c.publish("telemetry/x", new MqttMessage(new byte[] {1}, 1, false, null));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(
                () -> assertThat(metric(s, "starling_webhook_failed_total")).isEqualTo(1));
        assertThat(metric(s, "starling_webhook_retried_total")).isEqualTo(2);
        assertThat(requests.count.get()).as("the first attempt and two retries").isEqualTo(3);
        assertThat(metric(s, "starling_webhook_sent_total")).isZero();
    }

    @Test
    void aReceiverThatHangsUpWithoutAnAnswerIsRetriedThenCountedAsFailed() throws Exception {
        ServerSocket hangup = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        open.add(hangup);
        AtomicRequests accepted = new AtomicRequests();
        Thread t = new Thread(() -> {
            while (!hangup.isClosed()) {
                try {
                    hangup.accept().close(); // takes the request's connection and closes it, not a byte answered
                    accepted.count.incrementAndGet();
                } catch (IOException e) {
                    return;
                }
            }
        }, "hangup");
        t.setDaemon(true);
        t.start();
        WebhooksConfig.Hook h = new WebhooksConfig.Hook(URI.create("http://127.0.0.1:" + hangup.getLocalPort()
                + "/hook"), EnumSet.of(Event.MESSAGE_PUBLISHED), List.of("telemetry/#"), Map.of(),
                Duration.ofSeconds(2), 1, Duration.ofMillis(50), 100, 1 << 20, 1);
        StarlingServer s = broker(h);
        MqttClient c = client(s, "wh-hangup", 0);
        c.publish("telemetry/x", new MqttMessage(new byte[] {1}, 1, false, null));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(
                () -> assertThat(metric(s, "starling_webhook_failed_total")).isEqualTo(1));
        assertThat(metric(s, "starling_webhook_retried_total")).isEqualTo(1);
        assertThat(accepted.count.get()).isGreaterThanOrEqualTo(2);
        // the broker goes on: a QoS 1 round trip
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        MqttClient sub = client(s, "wh-hangup-sub", 0);
        sub.subscribe(new org.eclipse.paho.mqttv5.common.MqttSubscription[] {
                new org.eclipse.paho.mqttv5.common.MqttSubscription("telemetry/#", 1)},
                new org.eclipse.paho.mqttv5.client.IMqttMessageListener[] {(topic, m) -> got.add(topic)});
        c.publish("telemetry/after", new MqttMessage(new byte[] {2}, 1, false, null));
        assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("telemetry/after");
    }

    private static final class AtomicRequests {
        final java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();
    }

    @Test
    void aReceiverThatIsDownThenUpGetsTheEventsThroughRetries() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        URI url = URI.create("http://127.0.0.1:" + port + "/hook");
        StarlingServer s = broker(hook(url, 1000, 10, 1, Duration.ofSeconds(2)));
        MqttClient c = client(s, "wh-retry", 0);
        c.publish("telemetry/retry", new MqttMessage("after the outage".getBytes(StandardCharsets.UTF_8), 1, false,
                null));
        await().atMost(Duration.ofSeconds(10)).until(() -> metric(s, "starling_webhook_retried_total") >= 2);
        BlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
        receiver(port, events, null);
        JsonNode pub = next(events, "message.published", "wh-retry");
        assertThat(new String(Base64.getDecoder().decode(pub.path("payload").asText()), StandardCharsets.UTF_8))
                .isEqualTo("after the outage");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(
                () -> assertThat(metric(s, "starling_webhook_failed_total")).isZero());
    }
}
