package io.starling.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.broker.config.BrokerConfig;
import io.starling.broker.session.Session;
import io.starling.server.StarlingServer;
import io.starling.testkit.RawClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The retained messages of a new subscription are handed over a page at a time as the session drains, within its
 * flow control [MQTT-3.3.1-6]: a wildcard subscription matching many more retained messages than
 * max-queued-messages gets every one of them, none dropped, a subscriber that stops reading holds the broker to
 * what its connection takes instead of every match at once, and live messages follow the retained ones.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RetainedFlowTest {

    private static final int MAX_QUEUED = 10;

    @TempDir
    Path dataDir;

    private StarlingServer server;
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private void start(BrokerConfig.Storage storage) {
        start(storage, MAX_QUEUED);
    }

    private void start(BrokerConfig.Storage storage, int maxQueued) {
        server = StarlingServer.start(BrokerConfig.builder().port(0).dataDir(dataDir).storage(storage)
                .fsync(BrokerConfig.Fsync.OS).maxQueuedMessages(maxQueued).maxInflightMessages(5).build());
    }

    private RawClient raw(String id) {
        RawClient c = RawClient.connect("127.0.0.1", server.port());
        open.add(c);
        c.send(Packets.connect(4, id, Packets.CLEAN, 0));
        byte[] connack = c.readPacket(Duration.ofSeconds(10));
        assertThat(connack[0] & 0xFF).isEqualTo(0x20);
        return c;
    }

    /**
     * Retains {@code n} messages of {@code size} bytes and QoS {@code qos} (0 or 1) on prefix/0 .. prefix/n-1,
     * pipelined, then waits for all.
     */
    private void retain(String prefix, int n, int size, int qos) {
        RawClient pub = raw(prefix + "-pub");
        String payload = "r".repeat(size);
        for (int i = 0; i < n; i++) {
            pub.send(Packets.publish(0x31 | qos << 1, prefix + "/" + i, i + 1, payload)); // RETAIN
        }
        if (qos == 0) {
            // a QoS 1 PUBLISH behind them: its PUBACK follows their processing (and, stored, their commit)
            pub.send(Packets.publish(0x32, "marker", 1, "m"));
            pub.expectPacket(0x40, 0x02, 0x00, 0x01);
        } else {
            for (int i = 0; i < n; i++) {
                pub.expectPacket(0x40, 0x02, (i + 1) >> 8, (i + 1) & 0xFF);
            }
        }
        assertThat(server.broker().retained().size()).isEqualTo(n);
    }

    @ParameterizedTest
    @EnumSource(BrokerConfig.Storage.class)
    void wildcardSubscriberGetsAHundredTimesMoreRetainedMessagesThanItsQueueHolds(BrokerConfig.Storage storage)
            throws Exception {
        start(storage);
        int n = 100 * MAX_QUEUED;
        retain("flow", n, 100, 1); // QoS 1: at most 5 in flight, 10 queued, the rest read as those drain
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        MqttClient sub = new MqttClient("tcp://127.0.0.1:" + server.port(), "flow-sub", new MemoryPersistence());
        open.add(() -> {
            if (sub.isConnected()) {
                sub.disconnectForcibly(0, 50);
            }
            sub.close(true);
        });
        sub.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage m) {
                got.add(topic + (m.isRetained() ? "" : " (not retained)"));
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
            }
        });
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setMaxInflight(1000);
        sub.connect(o);
        sub.subscribe("flow/#", 1);
        Set<String> topics = new HashSet<>();
        while (topics.size() < n) {
            String t = got.poll(10, TimeUnit.SECONDS);
            assertThat(t).as("retained message %d of %d", topics.size() + 1, n).isNotNull();
            assertThat(topics.add(t)).as("%s once, with RETAIN 1", t).isTrue();
        }
        assertThat(topics).allMatch(t -> t.matches("flow/\\d+"));
        assertThat(server.broker().metrics().messagesDropped.sum()).as("none dropped").isZero();
    }

    /**
     * A QoS 0 subscriber that does not read: the broker writes until the socket and the channel's buffer are full,
     * then waits (retained messages are not queued: they go out only when the connection takes them) and reads no
     * further page; nothing is dropped. Once the client reads, it gets every message. (Before paging, all 2,000 went
     * into the session at once and all but the queue's ten were dropped.)
     */
    @ParameterizedTest
    @EnumSource(BrokerConfig.Storage.class)
    void aSubscriberThatDoesNotReadHoldsTheBrokerToItsQueue(BrokerConfig.Storage storage) {
        start(storage);
        int n = 2000;
        retain("stall", n, 8 * 1024, 0); // 16 MiB: more than the socket buffers hold
        RawClient sub = raw("stall-sub");
        sub.send(Packets.subscribe(4, 1, "stall/#", 0));
        Session session = server.broker().sessions().get("stall-sub");
        // the client reads nothing: the broker writes until the connection takes no more, and queues nothing
        await().atMost(Duration.ofSeconds(60)).until(() -> !session.connection().isWritable());
        assertThat(session.queuedCount()).isZero();
        assertThat(server.broker().metrics().messagesDropped.sum()).isZero();

        byte[] suback = sub.readPacket(Duration.ofSeconds(10));
        assertThat(suback[0] & 0xFF).isEqualTo(0x90);
        Set<String> topics = new HashSet<>();
        while (topics.size() < n) {
            byte[] p = sub.readPacket(Duration.ofSeconds(30));
            assertThat(p).as("retained message %d of %d", topics.size() + 1, n).isNotNull();
            assertThat(p[0] & 0xFF).as("PUBLISH, QoS 0, RETAIN 1").isEqualTo(0x31);
            assertThat(topics.add(topicOf(p))).isTrue();
        }
        assertThat(server.broker().metrics().messagesDropped.sum()).as("none dropped").isZero();
    }

    /**
     * Unsubscribing while the retained messages of the filter are still being handed over stops them: the client
     * gets what was already written or queued for it, nothing more, and nothing is dropped.
     */
    @org.junit.jupiter.api.Test
    void unsubscribingStopsTheRetainedMessagesOfThatFilter() {
        start(BrokerConfig.Storage.ROCKSDB);
        int n = 2000;
        retain("unsub", n, 8 * 1024, 0);
        RawClient sub = raw("unsub-sub");
        sub.send(Packets.subscribe(4, 1, "unsub/#", 0));
        Session session = server.broker().sessions().get("unsub-sub");
        await().atMost(Duration.ofSeconds(60)).until(() -> !session.connection().isWritable());
        sub.send(Packets.packet(0xA2, new int[] {0, 2}, Packets.str("unsub/#")));  // UNSUBSCRIBE, packet id 2
        int retained = 0;
        boolean unsubAck = false;
        for (byte[] p = sub.readPacket(Duration.ofSeconds(10)); p != null; p = sub.readPacket(Duration.ofMillis(500))) {
            int type = (p[0] & 0xFF) >> 4;
            if (type == 3) {
                retained++;
            } else if (type == 11) {
                unsubAck = true;
            }
        }
        assertThat(unsubAck).isTrue();
        assertThat(retained).as("stopped well before all %d", n).isLessThan(n / 2);
        assertThat(server.broker().metrics().messagesDropped.sum()).isZero();
    }

    /**
     * Topics updated while their retained messages are being read page by page from the store: per topic, the
     * subscriber never gets an older value after a newer one (a retained message whose topic was updated after its
     * page was read is skipped, since the update reaches the subscriber live).
     */
    @org.junit.jupiter.api.Test
    void aTopicUpdatedWhileItsRetainedMessagesAreReadNeverGoesBackwards() throws Exception {
        start(BrokerConfig.Storage.ROCKSDB, 2000); // room for every live update: none is dropped
        int topics = 300;
        RawClient pub = raw("order-pub");
        for (int i = 0; i < topics; i++) {
            pub.send(Packets.publish(0x33, "order/" + i, i + 1, "0"));
        }
        for (int i = 0; i < topics; i++) {
            pub.expectPacket(0x40, 0x02, (i + 1) >> 8, (i + 1) & 0xFF);
        }
        java.util.Map<String, List<Integer>> seen = new java.util.concurrent.ConcurrentHashMap<>();
        BlockingQueue<String> arrivals = new LinkedBlockingQueue<>();
        MqttClient sub = new MqttClient("tcp://127.0.0.1:" + server.port(), "order-sub", new MemoryPersistence());
        open.add(() -> {
            if (sub.isConnected()) {
                sub.disconnectForcibly(0, 50);
            }
            sub.close(true);
        });
        sub.connect();
        sub.subscribe("order/#", 1, (t, m) -> {
            seen.computeIfAbsent(t, k -> java.util.Collections.synchronizedList(new ArrayList<>()))
                    .add(Integer.parseInt(new String(m.getPayload(), StandardCharsets.UTF_8)));
            arrivals.add(t);
        });
        // while the retained messages are being paged in: three more rounds of updates, pipelined
        int id = 1;
        for (int round = 1; round <= 3; round++) {
            for (int i = 0; i < topics; i++) {
                pub.send(Packets.publish(0x33, "order/" + i, id++, Integer.toString(round)));
            }
        }
        for (int i = 1; i < id; i++) {
            byte[] ack = pub.readPacket(Duration.ofSeconds(10));
            assertThat(ack[0] & 0xFF).isEqualTo(0x40);
        }
        // every topic ends with its last value
        await().atMost(Duration.ofSeconds(60)).until(() -> seen.size() == topics
                && seen.values().stream().allMatch(v -> !v.isEmpty() && v.get(v.size() - 1) == 3));
        for (java.util.Map.Entry<String, List<Integer>> e : seen.entrySet()) {
            List<Integer> values = new ArrayList<>(e.getValue());
            for (int k = 1; k < values.size(); k++) {
                assertThat(values.get(k)).as("%s got %s", e.getKey(), values).isGreaterThanOrEqualTo(values.get(k - 1));
            }
        }
        assertThat(server.broker().metrics().messagesDropped.sum()).isZero();
    }

    /**
     * Live messages published while the retained messages of a new subscription are still being handed over (the
     * subscriber does not read, the payloads come from the store) wait behind them: a live message never overtakes
     * the retained message of its own topic, which the same publisher sent earlier [MQTT-4.6.0-6], and nothing is
     * dropped while the queue has room.
     */
    @ParameterizedTest
    @EnumSource(BrokerConfig.Storage.class)
    void liveMessagesFollowTheRetainedMessagesOfANewSubscription_MQTT_4_6_0_6(BrokerConfig.Storage storage) {
        start(storage, 100);
        int n = 2000;
        retain("late", n, 8 * 1024, 0);
        RawClient sub = raw("late-sub");
        sub.send(Packets.subscribe(4, 1, "late/#", 0));
        Session session = server.broker().sessions().get("late-sub");
        await().atMost(Duration.ofSeconds(60)).until(() -> !session.connection().isWritable());
        RawClient pub = raw("late-live");
        for (int i = 0; i < 5; i++) {
            pub.send(Packets.publish(0x32, "late/" + i, i + 1, "live"));  // QoS 1, not retained
            pub.expectPacket(0x40, 0x02, 0x00, i + 1);
        }
        byte[] suback = sub.readPacket(Duration.ofSeconds(10));
        assertThat(suback[0] & 0xFF).isEqualTo(0x90);
        Set<String> retained = new HashSet<>();
        List<String> live = new ArrayList<>();
        while (live.size() < 5) {
            byte[] p = sub.readPacket(Duration.ofSeconds(30));
            assertThat(p).as("after %d retained and %d live messages", retained.size(), live.size()).isNotNull();
            String topic = topicOf(p);
            if ((p[0] & 0x01) != 0) {
                assertThat(live).as("no retained message after a live one").isEmpty();
                assertThat(retained.add(topic)).isTrue();
            } else {
                assertThat(retained).as("the retained messages came first").hasSize(n);
                live.add(topic);
            }
        }
        assertThat(live).containsExactly("late/0", "late/1", "late/2", "late/3", "late/4");
        assertThat(server.broker().metrics().messagesDropped.sum()).as("none dropped").isZero();
    }

    /** The topic of a 3.1.1 PUBLISH packet as read by RawClient (fixed header included). */
    private static String topicOf(byte[] p) {
        int i = 1;
        while ((p[i] & 0x80) != 0) {
            i++;
        }
        i++;
        int len = ((p[i] & 0xFF) << 8) | (p[i + 1] & 0xFF);
        return new String(p, i + 2, len, StandardCharsets.UTF_8);
    }
}
