package io.starling.it.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.broker.config.BrokerConfig;
import io.starling.broker.session.Session;
import io.starling.it.Packets;
import io.starling.server.StarlingServer;
import io.starling.server.protocol.MqttConnection;
import io.starling.testkit.RawClient;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that sends as fast as it can and never reads what the broker answers: QoS 1 PUBLISH (each answered with a
 * PUBACK), PINGREQ (PINGRESP) or SUBSCRIBE to a filter with retained messages (SUBACK, then the retained messages).
 * The answers fill its socket; from then on the broker must stop reading it, so that what it holds for the client is
 * bounded (the outbound high-water mark, 128 KiB, plus one answer), instead of reading on and piling answers up in
 * memory without bound. Other clients are not affected, and once the client reads, everything it sent is answered,
 * in order.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class NonReadingClientTest {

    /** A message published to the client's own subscription in the tests that fill its socket first. */
    private static final int FILL_MESSAGE = 64 * 1024;
    /**
     * Netty's outbound high-water mark of client connections (128 KiB), room for the one message that crossed it and
     * for the one answer that found it crossed.
     */
    private static final long OUTBOUND_BOUND = 128 * 1024 + FILL_MESSAGE + 4096;

    @TempDir
    Path dataDir;

    private StarlingServer server;
    private RawClient client;
    private MqttClient healthy;

    @BeforeEach
    void start() {
        server = StarlingServer.start(BrokerConfig.builder().port(0).dataDir(dataDir)
                .storage(BrokerConfig.Storage.MEMORY).build());
    }

    @AfterEach
    void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        if (healthy != null) {
            if (healthy.isConnected()) {
                healthy.disconnect();
            }
            healthy.close();
        }
        server.close();
    }

    @Test
    void qos1PublisherThatNeverReadsIsPausedNotBuffered() throws Exception {
        // QoS 1 PUBLISH to a topic nobody subscribes to, packet ids 1..65535 round and round: PUBACK each. Its socket
        // is filled first, as for the ping flood: otherwise the broker answers a million PUBLISHes before the kernel's
        // buffers are full, and the test spends minutes on a busy machine reading them back
        floodAndCheck("nr-pub", i -> Packets.publish(0x32, "nr/t", i % 65_535 + 1, "p"), 0x40, "nr/fill");
    }

    @Test
    void pingFloodThatNeverReadsIsPausedNotBuffered() throws Exception {
        // its socket is filled with messages for it first (6.4 MB, more than the kernel's buffers take), so that the
        // first PINGRESP already finds it full
        floodAndCheck("nr-ping", i -> new int[] {0xC0, 0x00}, 0xD0, "nr/fill");
    }

    @Test
    void subscribeFloodThatNeverReadsIsPausedNotBuffered() throws Exception {
        // every SUBSCRIBE is answered with a SUBACK, then with the 5 retained messages (which queue, bounded)
        String prefix = "nr/r/" + "l".repeat(500);
        MqttClient retainer = new MqttClient("tcp://127.0.0.1:" + server.port(), "nr-retainer", new MemoryPersistence());
        retainer.connect();
        for (int i = 0; i < 5; i++) {
            retainer.publish(prefix + "/" + i, new byte[1024], 1, true);
        }
        retainer.disconnect();
        retainer.close();
        floodAndCheck("nr-sub", i -> Packets.subscribe(4, i % 65_535 + 1, prefix + "/#", 0), 0x90, null);
    }

    @Test
    void aClientThatTakesNothingForAKeepAlivePeriodIsDisconnectedAndItsWillPublished() throws Exception {
        healthy = new MqttClient("tcp://127.0.0.1:" + server.port(), "nr-watcher", new MemoryPersistence());
        healthy.connect();
        BlockingQueue<String> wills = new LinkedBlockingQueue<>();
        healthy.subscribe("nr/will", 1, (t, m) -> wills.add(new String(m.getPayload(), StandardCharsets.UTF_8)));

        // a 5.0 client with keep-alive 1 s and a Will, whose socket is filled and which then only pings
        client = RawClient.connectWithBuffers("127.0.0.1", server.port(), 4096, 8192);
        client.send(Packets.connectWithWill(5, "nr-dead", Packets.CLEAN, 1, "nr/will", "gone"));
        byte[] connack = client.readPacket(Duration.ofSeconds(10));
        assertThat(connack[0] & 0xFF).isEqualTo(0x20);
        assertThat(connack[3] & 0xFF).as("CONNACK reason code").isZero();
        client.send(Packets.subscribe(5, 1, "nr/fill", 0));
        assertThat(client.readPacket(Duration.ofSeconds(10))[0] & 0xFF).as("SUBACK").isEqualTo(0x90);
        RawClient c = client;
        // PINGREQ every 200 ms, scheduled: alive, but it never reads the PINGRESP
        ScheduledExecutorService pinger = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "nr-pinger");
            t.setDaemon(true);
            return t;
        });
        try {
            // once the connection is closed, send throws and the schedule ends
            pinger.scheduleAtFixedRate(() -> c.send(0xC0, 0x00), 0, 200, TimeUnit.MILLISECONDS);
            fill("nr/fill"); // its PINGREQs go on meanwhile: it is never silent

            // [MQTT-3.1.2-22] the broker could not see its PINGREQs (it stopped reading it), but the client took nothing
            // for a whole keep-alive period: the connection is closed as for a keep-alive timeout, and the Will goes out
            assertThat(wills.poll(30, TimeUnit.SECONDS)).isEqualTo("gone");
            assertThat(client.awaitClosed(Duration.ofSeconds(30))).isTrue();
        } finally {
            pinger.shutdownNow();
        }
    }

    /** Publishes 6.4 MB to {@code topic} (QoS 1, each PUBACK awaited), more than the kernel's socket buffers take. */
    private void fill(String topic) throws Exception {
        MqttClient filler = new MqttClient("tcp://127.0.0.1:" + server.port(), "nr-filler", new MemoryPersistence());
        filler.connect();
        for (int i = 0; i < 100; i++) {
            filler.publish(topic, new byte[FILL_MESSAGE], 1, false);
        }
        filler.disconnect();
        filler.close();
    }

    /**
     * Sends {@code packet(i)} for i = 0, 1, ... without reading until the broker stops reading; checks the bound and
     * that others are served meanwhile; then reads everything and checks that each packet got its answer. With a
     * {@code fill} topic, the client subscribes to it first and 6.4 MB are published to it before the flood.
     */
    private void floodAndCheck(String clientId, IntFunction<int[]> packet, int answerType, String fill)
            throws Exception {
        client = RawClient.connectWithBuffers("127.0.0.1", server.port(), 4096, 8192);
        client.send(Packets.connect(4, clientId, Packets.CLEAN, 0));
        client.expectPacket(0x20, 0x02, 0x00, 0x00);
        if (fill != null) {
            client.send(Packets.subscribe(4, 1, fill, 0));
            client.expectPacket(0x90, 0x03, 0x00, 0x01, 0x00);
            fill(fill);
        }

        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong sent = new AtomicLong();
        RawClient c = client;
        Thread flood = new Thread(() -> {
            try {
                for (int i = 0; !stop.get(); ) {
                    ByteArrayOutputStream chunk = new ByteArrayOutputStream();
                    int n = 0;
                    while (chunk.size() < 8192) {
                        chunk.writeBytes(RawClient.toBytes(packet.apply(i++)));
                        n++;
                    }
                    c.send(chunk.toByteArray()); // blocks once the broker no longer reads
                    sent.addAndGet(n);
                }
            } catch (RuntimeException e) {
                // closed at the end of the test
            }
        }, "nr-flood");
        flood.setDaemon(true);
        flood.start();

        Session session = server.broker().sessions().get(clientId);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5))
                .until(() -> onOwner(session, MqttConnection::isReadPaused));
        stop.set(true); // what it has sent by now is enough: less to answer at the end
        long received = server.broker().metrics().messagesReceived();
        assertThat(onOwner(session, MqttConnection::pendingOutboundBytes)).isLessThanOrEqualTo(OUTBOUND_BOUND);

        // meanwhile another client is served as usual
        healthy = new MqttClient("tcp://127.0.0.1:" + server.port(), "nr-healthy", new MemoryPersistence());
        healthy.connect();
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        healthy.subscribe("ok/#", 1, (t, m) -> got.add(new String(m.getPayload(), StandardCharsets.UTF_8)));
        healthy.publish("ok/1", "served".getBytes(StandardCharsets.UTF_8), 1, false);
        assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("served");
        // the flooding client is still paused and still bounded: nothing it sent since was read
        assertThat(onOwner(session, MqttConnection::isReadPaused)).isTrue();
        assertThat(onOwner(session, MqttConnection::pendingOutboundBytes)).isLessThanOrEqualTo(OUTBOUND_BOUND);
        assertThat(server.broker().metrics().messagesReceived()).isEqualTo(received + 1); // ok/1 only

        // the client reads now: it is read again, and every packet it managed to send is answered, in order
        long[] answers = new long[1];
        while (flood.isAlive()) {
            byte[] p = client.readPacket(Duration.ofMillis(200));
            if (p != null) {
                check(p, answerType, answers);
            }
        }
        while (answers[0] < sent.get()) {
            byte[] p = client.readPacket(Duration.ofSeconds(30));
            assertThat(p).as("answer %d of %d", answers[0], sent.get()).isNotNull();
            check(p, answerType, answers);
        }
        assertThat(answers[0]).isEqualTo(sent.get());
    }

    /** Counts an answer, checking its type and (PUBACK, SUBACK) its packet id; skips retained messages. */
    private static void check(byte[] p, int answerType, long[] answers) {
        int type = p[0] & 0xFF;
        if ((type & 0xF0) == 0x30) {
            return; // a retained message after a SUBACK
        }
        assertThat(type).as("answer %d", answers[0]).isEqualTo(answerType);
        if (answerType == 0x40 || answerType == 0x90) {
            int offset = Packets.bodyOffset(p);
            int id = (p[offset] & 0xFF) << 8 | p[offset + 1] & 0xFF;
            assertThat(id).as("answer %d in order", answers[0]).isEqualTo((int) (answers[0] % 65_535 + 1));
        }
        answers[0]++;
    }

    private <T> T onOwner(Session s, java.util.function.Function<MqttConnection, T> read) throws Exception {
        return s.owner().submit(() -> read.apply((MqttConnection) s.connection())).get(10, TimeUnit.SECONDS);
    }
}
