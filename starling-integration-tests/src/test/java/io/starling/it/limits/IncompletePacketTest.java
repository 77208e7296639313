package io.starling.it.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.ListenerConfig;
import io.starling.broker.config.ListenerConfig.Type;
import io.starling.it.LogCapture;
import io.starling.it.Packets;
import io.starling.server.StarlingServer;
import io.starling.server.config.ConfigLoader;
import io.starling.server.transport.IncompletePacketBudget;
import io.starling.server.transport.IncompletePacketBudget.Cause;
import io.starling.testkit.RawClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Connections that send the fixed header of a large PUBLISH and then trickle its body (keep alive 0, so nothing else
 * would ever close them): each holds a growing receive buffer. The broker bounds the bytes held for incomplete
 * packets over all connections ({@code max-incomplete-packet-bytes-total}) and the time from a packet's first byte
 * to its last ({@code incomplete-packet-timeout-seconds}), over TCP and WebSocket, and closes the connections beyond
 * either with one log line, no stack trace, while a Paho client keeps publishing and receiving.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class IncompletePacketTest {

    /** max-packet-size and max-incomplete-packet-bytes-total of the tests of the bound. */
    private static final int BOUND = 256 * 1024;
    /** The Remaining Length the tricklers announce: a packet of about 250 kB. */
    private static final int CLAIMED = 250_000;
    /** How much of it each trickler sends before it stops: more than half the bound, so two cannot both hold it. */
    private static final int SENT = 150 * 1024;

    @TempDir
    Path tmp;

    private StarlingServer server;
    private final List<AutoCloseable> open = new ArrayList<>();
    private final ScheduledExecutorService trickle = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() throws Exception {
        trickle.shutdownNow();
        for (AutoCloseable c : open) {
            c.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private StarlingServer start(Consumer<BrokerConfig.Builder> customiser) {
        BrokerConfig.Builder b = BrokerConfig.builder().bindAddress("127.0.0.1").port(0).dataDir(tmp.resolve("data"))
                .storage(BrokerConfig.Storage.MEMORY).maxPacketSize(BOUND);
        customiser.accept(b);
        server = StarlingServer.start(b.build());
        return server;
    }

    private <T extends AutoCloseable> T track(T c) {
        open.add(c);
        return c;
    }

    /** The fixed header and topic of a 3.1.1 QoS 0 PUBLISH whose Remaining Length is {@link #CLAIMED}. */
    private static byte[] bigPublishHeader() {
        return new byte[] {0x30, (byte) (0x80 | CLAIMED % 128), (byte) (0x80 | CLAIMED / 128 % 128),
            (byte) (CLAIMED / 16_384), 0, 1, 'x'};
    }

    /**
     * Sends {@code bytes} more of body to every trickler every {@code periodMs}, until it is closed or has sent
     * {@code upTo} bytes of body.
     */
    private void startTrickling(List<Trickler> tricklers, int bytes, long periodMs, long upTo) {
        byte[] chunk = new byte[bytes];
        trickle.scheduleWithFixedDelay(() -> {
            for (Trickler t : tricklers) {
                if (!t.isClosed() && t.sent < upTo) {
                    t.send(chunk);
                    t.sent += bytes;
                }
            }
        }, 0, periodMs, TimeUnit.MILLISECONDS);
    }

    /**
     * Publishes and receives with Paho until at most {@code survivors} tricklers are open; checks the bound meanwhile.
     */
    private void roundTripsUntilClosed(Observer paho, List<Trickler> tricklers, int survivors,
            IncompletePacketBudget budget) {
        AtomicInteger n = new AtomicInteger();
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(50)).until(() -> {
            paho.roundTrip("message " + n.incrementAndGet());
            if (budget.limit() > 0) {
                assertThat(budget.heldBytes()).isLessThanOrEqualTo(budget.limit());
            }
            return tricklers.stream().filter(t -> !t.isClosed()).count() <= survivors;
        });
        assertThat(n.get()).as("Paho round trips while the tricklers were open").isPositive();
    }

    @Test
    void incompletePacketsOverTheBoundAreClosedWhileOthersCarryOn() throws Exception {
        start(b -> b.maxIncompletePacketBytesTotal(BOUND).incompletePacketTimeout(Duration.ZERO));
        IncompletePacketBudget budget = server.incompletePackets();
        try (LogCapture log = LogCapture.start()) {
            Observer paho = track(new Observer(server.port()));
            List<Trickler> tricklers = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                Trickler t = track(Trickler.tcp(server.port()));
                t.send(RawClient.toBytes(Packets.connect(4, "trickler-" + i, Packets.CLEAN, 0)));
                t.awaitPacket();
                t.send(bigPublishHeader());
                tricklers.add(t);
            }
            startTrickling(tricklers, 2048, 20, SENT);
            // each would hold more than half the bound: all but at most one are closed, none completes its packet
            roundTripsUntilClosed(paho, tricklers, 1, budget);

            assertThat(budget.closed(Cause.BYTES)).isGreaterThanOrEqualTo(15);
            tricklers.forEach(Trickler::close);
            await().atMost(Duration.ofSeconds(10)).until(() -> budget.heldBytes() == 0);
            paho.roundTrip("b".repeat(200_000)); // a large packet still gets through
            assertThat(log.lines("max-incomplete-packet-bytes-total")).as("logged, at most once per 10 s")
                    .isNotEmpty().hasSizeLessThan(15);
            assertThat(log.errorsAndStackTraces()).isEmpty();
        }
    }

    @Test
    void packetsNotCompleteInTimeAreClosedButIdleConnectionsAreNot() throws Exception {
        start(b -> b.maxPacketSize(1 << 20).incompletePacketTimeout(Duration.ofSeconds(1)));
        IncompletePacketBudget budget = server.incompletePackets();
        try (LogCapture log = LogCapture.start()) {
            Observer paho = track(new Observer(server.port()));
            Trickler idle = track(Trickler.tcp(server.port()));
            idle.send(RawClient.toBytes(Packets.connect(5, "idle", Packets.CLEAN, 0)));
            idle.awaitPacket();
            List<Trickler> tricklers = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                int level = i < 2 ? 5 : 4;
                Trickler t = track(Trickler.tcp(server.port()));
                t.send(RawClient.toBytes(Packets.connect(level, "slow-" + i, Packets.CLEAN, 0)));
                t.awaitPacket();
                byte[] header = bigPublishHeader();
                if (level == 5) {
                    header = Arrays.copyOf(header, header.length + 1); // 5.0: PUBLISH properties length 0
                }
                t.send(header);
                tricklers.add(t);
            }
            startTrickling(tricklers, 16, 100, Long.MAX_VALUE);
            roundTripsUntilClosed(paho, tricklers, 0, budget);

            assertThat(budget.closed(Cause.TIMEOUT)).isEqualTo(10);
            for (Trickler t : tricklers.subList(0, 2)) {
                // 5.0: DISCONNECT 0x80 Unspecified error before the close (the server may say why it closes)
                byte[] after = t.packetAfterFirst();
                assertThat(after).as("5.0 DISCONNECT").isNotNull();
                assertThat(after[0] & 0xFF).isEqualTo(0xE0);
                assertThat(after[2] & 0xFF).isEqualTo(0x80);
            }
            assertThat(idle.isClosed()).as("a connection without an incomplete packet is not timed").isFalse();
            await().atMost(Duration.ofSeconds(10)).until(() -> budget.heldBytes() == 0);
            assertThat(log.lines("incomplete-packet-timeout-seconds")).isNotEmpty().hasSizeLessThan(10);
            assertThat(log.errorsAndStackTraces()).isEmpty();
        }
    }

    @Test
    void webSocketFramesAreHeldToTheSameBound() throws Exception {
        start(b -> b.maxIncompletePacketBytesTotal(BOUND).incompletePacketTimeout(Duration.ZERO)
                .listeners(List.of(ListenerConfig.builder(Type.TCP).port(0).build(),
                        ListenerConfig.builder(Type.WS).port(0).build())));
        IncompletePacketBudget budget = server.incompletePackets();
        try (LogCapture log = LogCapture.start()) {
            Observer paho = track(new Observer(server.port(0)));
            List<Trickler> tricklers = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Trickler t = track(Trickler.webSocket(server.port(1)));
                t.send(Trickler.frame(RawClient.toBytes(Packets.connect(4, "ws-trickler-" + i, Packets.CLEAN, 0))));
                t.awaitFrame();
                // one binary frame claiming a whole PUBLISH of 1 MB, masked with a zero key: its payload as sent
                t.send(new byte[] {(byte) 0x82, (byte) (0x80 | 127), 0, 0, 0, 0, 0, (byte) (CLAIMED >> 16),
                    (byte) (CLAIMED >> 8), (byte) CLAIMED, 0, 0, 0, 0});
                t.send(bigPublishHeader());
                tricklers.add(t);
            }
            startTrickling(tricklers, 2048, 20, SENT);
            roundTripsUntilClosed(paho, tricklers, 1, budget);

            assertThat(budget.closed(Cause.BYTES)).isGreaterThanOrEqualTo(7);
            tricklers.forEach(Trickler::close);
            await().atMost(Duration.ofSeconds(10)).until(() -> budget.heldBytes() == 0);
            assertThat(log.lines("WebSocket frame")).isNotEmpty();
            assertThat(log.errorsAndStackTraces()).isEmpty();
        }
    }

    // CONNECT arrives before the client is authenticated: max-connect-packet-size bounds it, checked at the fixed
    // header; a larger CONNECT is closed without CONNACK. After CONNACK, max-packet-size applies.
    @Test
    void aConnectOverMaxConnectPacketSizeIsClosedAtItsHeader() throws Exception {
        start(b -> b.maxConnectPacketSize(1024));
        try (LogCapture log = LogCapture.start()) {
            try (RawClient big = RawClient.connect("127.0.0.1", server.port())) {
                big.send(RawClient.toBytes(Packets.connect(4, "c".repeat(2000), Packets.CLEAN, 0)));
                assertThat(big.awaitClosed(Duration.ofSeconds(10))).isTrue();
            }
            try (RawClient header = RawClient.connect("127.0.0.1", server.port())) {
                header.send(0x10, 0x81, 0x08); // a CONNECT of 1028 bytes: closed at these three
                assertThat(header.awaitClosed(Duration.ofSeconds(10))).isTrue();
            }
            Observer paho = track(new Observer(server.port()));
            paho.roundTrip("x".repeat(100_000));
            assertThat(log.errorsAndStackTraces()).isEmpty();
        }
    }

    // The keys in the config file, their validation and defaults.
    @Test
    void configKeys() throws Exception {
        BrokerConfig.Limits l = load("max-incomplete-packet-bytes-total: 10%\nincomplete-packet-timeout-seconds: 5\n"
                + "max-connect-packet-size: 4096\n").limits();
        assertThat(l.maxIncompletePacketBytesTotal()).isEqualTo(BrokerConfig.directMemoryPercent(10));
        assertThat(l.incompletePacketTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(l.maxConnectPacketSize()).isEqualTo(4096);
        assertThat(load("max-incomplete-packet-bytes-total: 0\nincomplete-packet-timeout-seconds: 0\n").limits())
                .satisfies(z -> assertThat(z.maxIncompletePacketBytesTotal()).isZero())
                .satisfies(z -> assertThat(z.incompletePacketTimeout()).isZero());
        BrokerConfig.Limits d = BrokerConfig.defaults().limits();
        assertThat(d.incompletePacketTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(d.maxConnectPacketSize()).isEqualTo(131_072);
        assertThat(d.maxIncompletePacketBytesTotal()).isEqualTo(Math.max(BrokerConfig.directMemoryPercent(25),
                BrokerConfig.defaults().maxPacketSize()));
        for (String bad : new String[] {"incomplete-packet-timeout-seconds: -1", "max-connect-packet-size: 8",
            "max-incomplete-packet-bytes-total: -5", "max-incomplete-packet-bytes-total: lots",
            "max-incomplete-packet-bytes-total: 1000\nmax-packet-size: 2000"}) {
            assertThatThrownBy(() -> load(bad)).as(bad).hasMessageContaining(bad.split(":")[0]);
        }
    }

    private BrokerConfig load(String yaml) throws IOException {
        Path f = tmp.resolve("starling-" + UUID.randomUUID() + ".yaml");
        Files.writeString(f, yaml);
        return ConfigLoader.load(f).build();
    }

    /** A raw socket that sends what it is told and collects what the broker sends until the broker closes it. */
    static final class Trickler implements AutoCloseable {
        private final Socket socket;
        private final OutputStream out;
        private final ByteArrayOutputStream received = new ByteArrayOutputStream();
        private volatile boolean closed;
        private int skip;
        /** Body bytes sent (by the trickling thread). */
        long sent;

        private Trickler(int port) throws IOException {
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            out = socket.getOutputStream();
            Thread reader = new Thread(this::read, "trickler-reader");
            reader.setDaemon(true);
            reader.start();
        }

        static Trickler tcp(int port) throws IOException {
            return new Trickler(port);
        }

        /** A WebSocket connection to {@code /mqtt} after the HTTP upgrade (subprotocol mqtt). */
        static Trickler webSocket(int port) throws IOException {
            Trickler t = new Trickler(port);
            t.send(("GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                    + "Sec-WebSocket-Protocol: mqtt\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            await().atMost(Duration.ofSeconds(10)).until(() -> t.text().contains("\r\n\r\n"));
            assertThat(t.text()).startsWith("HTTP/1.1 101");
            t.skip = t.text().indexOf("\r\n\r\n") + 4;
            return t;
        }

        /** A masked binary WebSocket frame (zero masking key) carrying {@code payload}. */
        static byte[] frame(byte[] payload) {
            ByteArrayOutputStream f = new ByteArrayOutputStream();
            f.write(0x82);
            f.write(0x80 | payload.length); // short payloads only
            f.writeBytes(new byte[4]);
            f.writeBytes(payload);
            return f.toByteArray();
        }

        private void read() {
            byte[] buffer = new byte[4096];
            try (InputStream in = socket.getInputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    synchronized (received) {
                        received.write(buffer, 0, n);
                    }
                }
            } catch (IOException e) {
                // reset or closed: closed either way
            }
            closed = true;
        }

        private byte[] bytes() {
            synchronized (received) {
                return received.toByteArray();
            }
        }

        private String text() {
            return new String(bytes(), StandardCharsets.ISO_8859_1);
        }

        void send(byte[] bytes) {
            try {
                out.write(bytes);
                out.flush();
            } catch (IOException e) {
                // closed by the broker: the reader sees it
            }
        }

        boolean isClosed() {
            return closed;
        }

        /** Waits for the first MQTT packet (CONNACK) on a TCP connection. */
        void awaitPacket() {
            await().atMost(Duration.ofSeconds(10)).until(() -> packetLength(bytes(), 0) > 0);
        }

        /** Waits for the first WebSocket frame (carrying CONNACK) after the upgrade response. */
        void awaitFrame() {
            await().atMost(Duration.ofSeconds(10)).until(() -> bytes().length >= skip + 2
                    && bytes().length >= skip + 2 + (bytes()[skip + 1] & 0x7F));
        }

        /** The MQTT packet after the first one, {@code null} if there is none (TCP). */
        byte[] packetAfterFirst() {
            byte[] all = bytes();
            int first = packetLength(all, 0);
            int second = packetLength(all, first);
            return second < 0 ? null : Arrays.copyOfRange(all, first, first + second);
        }

        /** The length of the whole packet starting at {@code at} (Remaining Length below 128), -1 if incomplete. */
        private static int packetLength(byte[] b, int at) {
            if (b.length < at + 2) {
                return -1;
            }
            int length = 2 + (b[at + 1] & 0x7F);
            return b.length >= at + length ? length : -1;
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException e) {
                // closed
            }
        }
    }

    /** A Paho 3.1.1 client subscribed to {@code ok/#} that checks its own messages come back. */
    static final class Observer implements AutoCloseable, MqttCallback {
        private final MqttClient client;
        private final BlockingQueue<String> received = new LinkedBlockingQueue<>();

        Observer(int port) throws Exception {
            client = new MqttClient("tcp://127.0.0.1:" + port, "observer-" + UUID.randomUUID(), new MemoryPersistence());
            client.setCallback(this);
            MqttConnectOptions o = new MqttConnectOptions();
            o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
            o.setCleanSession(true);
            o.setMaxInflight(100);
            client.connect(o);
            client.subscribe("ok/#", 1);
        }

        void roundTrip(String text) throws Exception {
            client.publish("ok/t", text.getBytes(StandardCharsets.US_ASCII), 1, false);
            String got = received.poll(20, TimeUnit.SECONDS);
            assertThat(got).as("own message back").isEqualTo(text);
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            received.add(new String(message.getPayload(), StandardCharsets.US_ASCII));
        }

        @Override
        public void connectionLost(Throwable cause) {
            received.add("connection lost: " + cause);
        }

        @Override
        public void deliveryComplete(IMqttDeliveryToken token) {
        }

        @Override
        public void close() throws MqttException {
            if (client.isConnected()) {
                client.disconnect();
            }
            client.close();
        }
    }
}
