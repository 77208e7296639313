package io.starling.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.session.Session;
import io.starling.codec.PacketEncoder;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.packet.ConnectPacket;
import io.starling.codec.packet.MqttPacket;
import io.starling.codec.packet.PublishPacket;
import io.starling.codec.packet.SubscribePacket;
import io.starling.codec.packet.TopicSubscription;
import io.starling.server.StarlingServer;
import io.starling.testkit.RawClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A subscriber that stops reading must not make the broker buffer without bound: its queue stays within
 * max-queued-messages, the excess is dropped and counted, and other clients carry on.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BackpressureTest {

    private static final int MAX_QUEUED = 50;

    @TempDir
    Path dataDir;

    private StarlingServer server;
    /** Held in a field: an unreachable socket is closed by the JDK's cleaner, which would end the session. */
    private RawClient slow;

    @BeforeEach
    void start() {
        server = StarlingServer.start(BrokerConfig.builder().port(0).dataDir(dataDir)
                .maxQueuedMessages(MAX_QUEUED).maxInflightMessages(10).build());
    }

    @AfterEach
    void stop() {
        slow.close();
        server.close();
    }

    private static byte[] bytes(MqttPacket p) {
        ByteBuf buf = PacketEncoder.encode(UnpooledByteBufAllocator.DEFAULT, p, ProtocolVersion.MQTT_3_1_1);
        try {
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }

    private RawClient connect(String clientId) {
        RawClient c = RawClient.connect("127.0.0.1", server.port());
        c.send(bytes(new ConnectPacket(ProtocolVersion.MQTT_3_1_1, clientId, true, 0, null, null, null,
                Properties.EMPTY)));
        c.expectPacket(0x20, 0x02, 0x00, 0x00); // CONNACK accepted
        return c;
    }

    private void subscribeAndStopReading(String clientId, int qos) {
        slow = connect(clientId);
        slow.send(bytes(new SubscribePacket(1, List.of(TopicSubscription.of("slow/#", qos)), Properties.EMPTY)));
        slow.expectPacket(0x90, 0x03, 0x00, 0x01, qos); // SUBACK
        // from here on the slow client reads nothing (its kernel buffers take tens of MB on loopback)
    }

    private void floodAndCheckBounded(String slowId, int qos) throws Exception {
        MqttClient healthy = new MqttClient("tcp://127.0.0.1:" + server.port(), "healthy", new MemoryPersistence());
        healthy.connect();
        java.util.concurrent.BlockingQueue<String> got = new java.util.concurrent.LinkedBlockingQueue<>();
        healthy.subscribe("ok/#", 1, (t, m) -> got.add(new String(m.getPayload(), java.nio.charset.StandardCharsets.UTF_8)));

        RawClient publisher = connect("flooder");
        byte[] payload = new byte[16 * 1024];
        Session slow = server.broker().sessions().get(slowId);
        for (int i = 0; i < 20_000 && server.broker().metrics().messagesDropped.sum() == 0; i++) {
            publisher.send(bytes(new PublishPacket("slow/x", qos, false, false, qos == 0 ? 0 : i % 65_535 + 1, Properties.EMPTY,
                    payload)));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> server.broker().metrics().messagesDropped.sum() > 0);
        int[] queued = new int[1];
        slow.owner().submit(() -> queued[0] = slow.queuedCount()).get();
        assertThat(queued[0]).isLessThanOrEqualTo(MAX_QUEUED);

        healthy.publish("ok/1", "still working".getBytes(java.nio.charset.StandardCharsets.UTF_8), 1, false);
        assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("still working");
        healthy.disconnect();
        healthy.close();
        publisher.close();
    }

    @Test
    void qos1SubscriberThatNeverAcksIsBoundedByWindowAndQueue() throws Exception {
        subscribeAndStopReading("slow1", 1);
        floodAndCheckBounded("slow1", 1);
    }

    @Test
    void qos0SubscriberThatStopsReadingIsBoundedByWritabilityAndQueue() throws Exception {
        subscribeAndStopReading("slow0", 0);
        floodAndCheckBounded("slow0", 0);
    }
}
