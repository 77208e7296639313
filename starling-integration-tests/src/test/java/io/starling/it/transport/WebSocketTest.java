package io.starling.it.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.ListenerConfig;
import io.starling.broker.config.ListenerConfig.Type;
import io.starling.server.StarlingServer;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MQTT over WebSocket: Paho v3 and v5 (ws:// and wss:// URIs), the HiveMQ client's WebSocket transport, and raw
 * frames from the JDK's WebSocket client (a packet split over two frames, two packets in one frame, the
 * subprotocols, a text frame, a wrong path).
 */
class WebSocketTest {

    @TempDir
    static Path tmp;

    static TestPki pki;
    static StarlingServer server;
    static SSLContext trustTestCa;
    static TrustManagerFactory trustManagers;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(TestPki.opensslAvailable(), "openssl is not installed (bin/test installs it)");
        pki = TestPki.create(tmp.resolve("pki"));
        server = StarlingServer.start(BrokerConfig.builder()
                .dataDir(tmp.resolve("data"))
                .listeners(List.of(
                        ListenerConfig.builder(Type.WS).port(0).build(),
                        ListenerConfig.builder(Type.WSS).port(0).cert(pki.serverCert).key(pki.serverKey).build(),
                        ListenerConfig.builder(Type.WS).port(0).path("/custom/path").build()))
                .build());
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        try (InputStream in = Files.newInputStream(pki.ca)) {
            ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trustManagers.init(ks);
        trustTestCa = SSLContext.getInstance("TLS");
        trustTestCa.init(null, trustManagers.getTrustManagers(), null);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static int wsPort() {
        return server.port(0);
    }

    static int wssPort() {
        return server.port(1);
    }

    // ------------------------------------------------------------------ Paho

    @Test
    void pahoV3OverWs() throws Exception {
        pahoV3RoundTrip("ws://127.0.0.1:" + wsPort() + "/mqtt", false);
    }

    @Test
    void pahoV3OverWss() throws Exception {
        pahoV3RoundTrip("wss://127.0.0.1:" + wssPort() + "/mqtt", true);
    }

    @Test
    void pahoV3OnAConfiguredPath() throws Exception {
        pahoV3RoundTrip("ws://127.0.0.1:" + server.port(2) + "/custom/path", false);
    }

    private static void pahoV3RoundTrip(String uri, boolean tls) throws Exception {
        MqttClient c = new MqttClient(uri, "paho3-" + UUID.randomUUID().toString().substring(0, 8), new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(true);
        if (tls) {
            o.setSocketFactory(trustTestCa.getSocketFactory());
        }
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        try {
            c.connect(o);
            String topic = "ws/paho3/" + UUID.randomUUID();
            c.subscribe(topic, 1, (t, m) -> got.add(t + " " + new String(m.getPayload(), StandardCharsets.UTF_8)));
            byte[] big = new byte[200_000]; // larger than one frame of many clients' defaults
            Arrays.fill(big, (byte) 'x');
            c.publish(topic, "hello".getBytes(StandardCharsets.UTF_8), 1, false);
            c.publish(topic, big, 1, false);
            assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo(topic + " hello");
            assertThat(got.poll(10, TimeUnit.SECONDS)).hasSize(topic.length() + 1 + big.length);
            c.disconnect();
        } finally {
            c.close();
        }
    }

    @Test
    void pahoV5OverWsAndWss() throws Exception {
        for (String uri : List.of("ws://127.0.0.1:" + wsPort() + "/mqtt", "wss://127.0.0.1:" + wssPort() + "/mqtt")) {
            org.eclipse.paho.mqttv5.client.MqttClient c = new org.eclipse.paho.mqttv5.client.MqttClient(uri,
                    "paho5-" + UUID.randomUUID().toString().substring(0, 8),
                    new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
            MqttConnectionOptions o = new MqttConnectionOptions();
            o.setCleanStart(true);
            if (uri.startsWith("wss")) {
                o.setSocketFactory(trustTestCa.getSocketFactory());
            }
            BlockingQueue<String> got = new LinkedBlockingQueue<>();
            try {
                c.connect(o);
                String topic = "ws/paho5/" + UUID.randomUUID();
                c.subscribe(new org.eclipse.paho.mqttv5.common.MqttSubscription[] {
                    new org.eclipse.paho.mqttv5.common.MqttSubscription(topic, 1)},
                        new org.eclipse.paho.mqttv5.client.IMqttMessageListener[] {
                            (t, m) -> got.add(t + " " + new String(m.getPayload(), StandardCharsets.UTF_8))});
                c.publish(topic, "v5 over websocket".getBytes(StandardCharsets.UTF_8), 1, false);
                assertThat(got.poll(10, TimeUnit.SECONDS)).as(uri).isEqualTo(topic + " v5 over websocket");
                c.disconnect();
            } finally {
                c.close();
            }
        }
    }

    // ------------------------------------------------------------------ HiveMQ

    @Test
    void hiveMqOverWsAndWss() throws Exception {
        for (boolean tls : new boolean[] {false, true}) {
            var builder = Mqtt5Client.builder()
                    .identifier("hive-" + UUID.randomUUID().toString().substring(0, 8))
                    .serverHost("127.0.0.1")
                    .serverPort(tls ? wssPort() : wsPort())
                    .webSocketConfig().serverPath("mqtt").subprotocol("mqtt").applyWebSocketConfig();
            if (tls) {
                builder = builder.sslConfig().trustManagerFactory(trustManagers).applySslConfig();
            }
            Mqtt5BlockingClient c = builder.buildBlocking();
            c.connect();
            String topic = "ws/hivemq/" + tls + "/" + UUID.randomUUID();
            try (Mqtt5BlockingClient.Mqtt5Publishes publishes = c.publishes(com.hivemq.client.mqtt.MqttGlobalPublishFilter.ALL)) {
                c.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();
                c.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE)
                        .payload("hivemq".getBytes(StandardCharsets.UTF_8)).send();
                Optional<Mqtt5Publish> p = publishes.receive(10, TimeUnit.SECONDS);
                assertThat(p).as("tls=" + tls).isPresent();
                assertThat(new String(p.get().getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("hivemq");
            }
            c.disconnect();
        }
    }

    // ------------------------------------------------------------------ raw frames

    /** CONNECT, MQTT 3.1.1, client id "rawws", keep-alive 60, clean session. */
    static final byte[] CONNECT = {0x10, 0x11, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 5, 'r', 'a', 'w', 'w', 's'};
    static final byte[] CONNACK = {0x20, 2, 0, 0};
    /** SUBSCRIBE packet id 1 to "a/b" QoS 0. */
    static final byte[] SUBSCRIBE = {(byte) 0x82, 8, 0, 1, 0, 3, 'a', '/', 'b', 0};
    static final byte[] SUBACK = {(byte) 0x90, 3, 0, 1, 0};
    /** PUBLISH QoS 0 to "a/b", payload "hi". */
    static final byte[] PUBLISH = {0x30, 7, 0, 3, 'a', '/', 'b', 'h', 'i'};
    static final byte[] PINGREQ = {(byte) 0xC0, 0};
    static final byte[] PINGRESP = {(byte) 0xD0, 0};

    @Test
    void packetSplitOverTwoFramesAndTwoPacketsInOneFrame() throws Exception {
        RawWs ws = RawWs.open(URI.create("ws://127.0.0.1:" + wsPort() + "/mqtt"), "mqtt");
        assertThat(ws.socket.getSubprotocol()).isEqualTo("mqtt");
        // CONNECT split in the middle of its variable header, over two binary frames (two messages)
        ws.socket.sendBinary(ByteBuffer.wrap(CONNECT, 0, 7), true).join();
        ws.socket.sendBinary(ByteBuffer.wrap(CONNECT, 7, CONNECT.length - 7), true).join();
        ws.expect(CONNACK);
        // SUBSCRIBE and PUBLISH in one frame: SUBACK, then the message back
        ws.socket.sendBinary(ByteBuffer.wrap(concat(SUBSCRIBE, PUBLISH)), true).join();
        ws.expect(concat(SUBACK, PUBLISH));
        // a packet split over the fragments of one message (continuation frame)
        ws.socket.sendBinary(ByteBuffer.wrap(PINGREQ, 0, 1), false).join();
        ws.socket.sendBinary(ByteBuffer.wrap(PINGREQ, 1, 1), true).join();
        ws.expect(PINGRESP);
        ws.socket.sendClose(WebSocket.NORMAL_CLOSURE, "").join();
    }

    @Test
    void eachPacketFromTheBrokerIsOneBinaryFrame() throws Exception {
        RawWs ws = RawWs.open(URI.create("ws://127.0.0.1:" + wsPort() + "/mqtt"), "mqtt");
        ws.socket.sendBinary(ByteBuffer.wrap(concat(CONNECT, PINGREQ, PINGREQ)), true).join();
        assertThat(ws.frames.poll(10, TimeUnit.SECONDS)).isEqualTo(CONNACK);
        assertThat(ws.frames.poll(10, TimeUnit.SECONDS)).isEqualTo(PINGRESP);
        assertThat(ws.frames.poll(10, TimeUnit.SECONDS)).isEqualTo(PINGRESP);
        ws.socket.abort();
    }

    @Test
    void mqttv31SubprotocolIsAccepted() throws Exception {
        RawWs ws = RawWs.open(URI.create("ws://127.0.0.1:" + wsPort() + "/mqtt"), "mqttv3.1");
        assertThat(ws.socket.getSubprotocol()).isEqualTo("mqttv3.1");
        byte[] connect31 = {0x10, 0x13, 0, 6, 'M', 'Q', 'I', 's', 'd', 'p', 3, 2, 0, 60, 0, 5, 'r', 'a', 'w', '3', '1'};
        ws.socket.sendBinary(ByteBuffer.wrap(connect31), true).join();
        ws.expect(CONNACK);
        ws.socket.abort();
    }

    @Test
    void textFrameClosesTheConnection() throws Exception {
        RawWs ws = RawWs.open(URI.create("ws://127.0.0.1:" + wsPort() + "/mqtt"), "mqtt");
        ws.socket.sendText("CONNECT", true).join();
        assertThat(ws.closed.get(10, TimeUnit.SECONDS)).isEqualTo(1003);
    }

    @Test
    void wrongPathIsNotUpgraded() {
        assertThatThrownBy(() -> RawWs.open(URI.create("ws://127.0.0.1:" + wsPort() + "/other"), "mqtt"))
                .isInstanceOf(CompletionException.class);
    }

    @Test
    void rawOverWss() throws Exception {
        RawWs ws = RawWs.open(URI.create("wss://localhost:" + wssPort() + "/mqtt"), "mqtt");
        ws.socket.sendBinary(ByteBuffer.wrap(CONNECT), true).join();
        ws.expect(CONNACK);
        ws.socket.abort();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** A JDK WebSocket whose binary messages are collected, one entry per complete message. */
    static final class RawWs implements WebSocket.Listener {
        final BlockingQueue<byte[]> frames = new LinkedBlockingQueue<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
        WebSocket socket;

        static RawWs open(URI uri, String subprotocol) {
            RawWs l = new RawWs();
            HttpClient http = HttpClient.newBuilder().sslContext(trustTestCa).connectTimeout(Duration.ofSeconds(10)).build();
            l.socket = http.newWebSocketBuilder().subprotocols(subprotocol).buildAsync(uri, l).join();
            return l;
        }

        /** Reads messages until {@code expected} bytes have arrived and checks them. */
        void expect(byte[] expected) throws InterruptedException {
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (got.size() < expected.length && System.nanoTime() < deadline) {
                byte[] f = frames.poll(100, TimeUnit.MILLISECONDS);
                if (f != null) {
                    got.writeBytes(f);
                }
            }
            assertThat(got.toByteArray()).isEqualTo(expected);
        }

        @Override
        public void onOpen(WebSocket webSocket) {
            webSocket.request(Long.MAX_VALUE);
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            partial.writeBytes(b);
            if (last) {
                frames.add(partial.toByteArray());
                partial.reset();
            }
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.completeExceptionally(error);
        }
    }
}
