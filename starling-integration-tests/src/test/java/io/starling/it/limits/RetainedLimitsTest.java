package io.starling.it.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubRecException;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import io.starling.broker.config.BrokerConfig;
import io.starling.it.Msg;
import io.starling.it.Packets;
import io.starling.server.StarlingServer;
import io.starling.server.config.ConfigLoader;
import io.starling.testkit.RawClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * max-retained-messages and max-retained-bytes seen from real clients. Beyond the limits a retained PUBLISH that
 * would add a topic or grow the total is refused as a retained message: a 5.0 QoS 1/2 publisher gets PUBACK/PUBREC
 * 0x97 Quota exceeded and the message goes nowhere; a 3.1.1 publisher (which cannot be refused [MQTT-3.3.5-2]) and a
 * QoS 0 one get the message routed to the current subscribers, acknowledged as usual, but not retained. Replacing a
 * topic's message with one no larger, and removing one, always work.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class RetainedLimitsTest {

    private static final long TIMEOUT_MS = 10_000;

    @TempDir
    Path dataDir;

    private StarlingServer server;
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void stop() {
        for (AutoCloseable c : open) {
            try {
                c.close();
            } catch (Exception e) {
                // closing anyway
            }
        }
        if (server != null) {
            server.close();
        }
    }

    private void start(BrokerConfig.Storage storage, Consumer<BrokerConfig.Builder> limits) {
        BrokerConfig.Builder b = BrokerConfig.builder().port(0).dataDir(dataDir).storage(storage);
        limits.accept(b);
        server = StarlingServer.start(b.build());
    }

    private long refused() {
        return server.broker().metrics().retainedRefused.sum();
    }

    // ---------------------------------------------------------------- clients

    /** A Paho 3.1.1 client whose messages land in a queue. */
    private final class V3 implements AutoCloseable {
        final org.eclipse.paho.client.mqttv3.MqttClient c;
        final BlockingQueue<Msg> messages = new LinkedBlockingQueue<>();

        V3(String id) throws Exception {
            c = new org.eclipse.paho.client.mqttv3.MqttClient("tcp://127.0.0.1:" + server.port(), id,
                    new org.eclipse.paho.client.mqttv3.persist.MemoryPersistence());
            c.setTimeToWait(TIMEOUT_MS);
            c.setCallback(new MqttCallback() {
                @Override
                public void connectionLost(Throwable cause) {
                }

                @Override
                public void messageArrived(String topic, MqttMessage m) {
                    messages.add(new Msg(topic, m.getPayload(), m.getQos(), m.isRetained()));
                }

                @Override
                public void deliveryComplete(IMqttDeliveryToken token) {
                }
            });
            MqttConnectOptions o = new MqttConnectOptions();
            o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
            o.setCleanSession(true);
            c.connect(o);
            open.add(this);
        }

        void subscribe(String filter) throws Exception {
            c.subscribeWithResponse(filter, 1).waitForCompletion(TIMEOUT_MS);
        }

        /**
         * The {@code n} retained messages a new subscription to {@code filter} gets, as topic=payload, sorted; fails
         * if fewer arrive, or more within a short quiet period after them.
         */
        List<String> retainedOn(String filter, int n) throws Exception {
            subscribe(filter);
            List<String> got = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Msg m = messages.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS);
                assertThat(m).as("retained message %d of %d on %s, got %s", i + 1, n, filter, got).isNotNull();
                assertThat(m.retain()).as("sent because of the new subscription").isTrue();
                got.add(m.topic() + "=" + m.text());
            }
            Msg more = messages.poll(500, TimeUnit.MILLISECONDS);
            assertThat(more).as("nothing more after %s", got).isNull();
            got.sort(String::compareTo);
            return got;
        }

        void publish(String topic, String payload, int qos, boolean retain) throws Exception {
            c.publish(topic, payload.getBytes(StandardCharsets.UTF_8), qos, retain);
        }

        boolean isConnected() {
            return c.isConnected();
        }

        @Override
        public void close() throws org.eclipse.paho.client.mqttv3.MqttException {
            if (c.isConnected()) {
                c.disconnectForcibly(0, 50);
            }
            c.close(true);
        }
    }

    /** A Paho 5.0 client; publish returns the PUBACK/PUBREC reason code. */
    private MqttAsyncClient pahoV5(String id) throws Exception {
        MqttAsyncClient c = new MqttAsyncClient("tcp://127.0.0.1:" + server.port(), id,
                new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        o.setAutomaticReconnect(false);
        c.connect(o).waitForCompletion(TIMEOUT_MS);
        open.add(() -> {
            if (c.isConnected()) {
                c.disconnectForcibly(0, 50, false);
            }
            c.close(true);
        });
        return c;
    }

    private static int publish(MqttAsyncClient c, String topic, String payload, int qos, boolean retain) throws Exception {
        org.eclipse.paho.mqttv5.common.MqttMessage m =
                new org.eclipse.paho.mqttv5.common.MqttMessage(payload.getBytes(StandardCharsets.UTF_8));
        m.setQos(qos);
        m.setRetained(retain);
        try {
            IMqttToken t = c.publish(topic, m);
            t.waitForCompletion(TIMEOUT_MS);
            int[] codes = t.getReasonCodes();
            return codes == null || codes.length == 0 ? 0 : codes[0];
        } catch (MqttException e) {
            return e.getReasonCode();
        }
    }

    private Mqtt5AsyncClient hivemq(String id) throws Exception {
        Mqtt5AsyncClient c = Mqtt5Client.builder().identifier(id).serverHost("127.0.0.1").serverPort(server.port())
                .buildAsync();
        c.connectWith().cleanStart(true).send().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        open.add(() -> c.disconnect().get(2, TimeUnit.SECONDS));
        return c;
    }

    /** The PUBREC reason code of a retained QoS 2 PUBLISH from HiveMQ. */
    private static int publishQos2(Mqtt5AsyncClient c, String topic, String payload) throws Exception {
        Mqtt5PublishResult r;
        try {
            r = c.publish(Mqtt5Publish.builder().topic(topic).qos(MqttQos.EXACTLY_ONCE).retain(true)
                    .payload(payload.getBytes(StandardCharsets.UTF_8)).build()).get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Mqtt5PubRecException p) {
                return p.getMqttMessage().getReasonCode().getCode();
            }
            throw e;
        }
        if (r.getError().isPresent() && r.getError().get() instanceof Mqtt5PubRecException p) {
            return p.getMqttMessage().getReasonCode().getCode();
        }
        assertThat(r.getError()).isEmpty();
        return ((Mqtt5PublishResult.Mqtt5Qos2Result) r).getPubRec().getReasonCode().getCode();
    }

    // ---------------------------------------------------------------- tests

    /**
     * 5.0: at max-retained-messages a retained QoS 1 PUBLISH to a new topic gets PUBACK 0x97 (3.4.2.1), a QoS 2 one
     * PUBREC 0x97 (3.5.2.1); neither is routed (a reason code of 0x80 or more means the message was not accepted).
     * Replacing and removing at the limit work, and a removal makes room.
     */
    @ParameterizedTest
    @EnumSource(value = BrokerConfig.Storage.class)
    void v5PublisherGetsQuotaExceededAndTheMessageGoesNowhere(BrokerConfig.Storage storage) throws Exception {
        start(storage, b -> b.maxRetainedMessages(2));
        MqttAsyncClient pub = pahoV5("rl-pub5");
        Mqtt5AsyncClient pub2 = hivemq("rl-pub5h");
        V3 live = new V3("rl-live");
        live.subscribe("rl/#");
        assertThat(publish(pub, "rl/a", "A", 1, true)).isZero();
        assertThat(publish(pub, "rl/b", "B", 1, true)).isZero();
        assertThat(live.messages.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS)).isNotNull();
        assertThat(live.messages.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS)).isNotNull();

        assertThat(publish(pub, "rl/c", "C", 1, true)).as("PUBACK Quota exceeded").isEqualTo(0x97);
        assertThat(publishQos2(pub2, "rl/c", "C2")).as("PUBREC Quota exceeded").isEqualTo(0x97);
        assertThat(refused()).isEqualTo(2);
        // a message that is not retained still goes through, and the subscriber got nothing of the refused ones
        assertThat(publish(pub, "rl/plain", "not retained", 1, false)).isZero();
        Msg first = live.messages.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        assertThat(first).isNotNull();
        assertThat(first.topic()).isEqualTo("rl/plain");

        // replacing with a message of no greater size, and removing, work at the limit
        assertThat(publish(pub, "rl/a", "Z", 1, true)).isZero();
        assertThat(publishQos2(pub2, "rl/b", "")).isZero();
        assertThat(new V3("rl-new1").retainedOn("rl/#", 1)).containsExactly("rl/a=Z");
        // the removal made room for one
        assertThat(publish(pub, "rl/c", "C", 1, true)).isZero();
        assertThat(publish(pub, "rl/d", "D", 1, true)).isEqualTo(0x97);
        assertThat(new V3("rl-new2").retainedOn("rl/#", 2)).containsExactly("rl/a=Z", "rl/c=C");
        assertThat(refused()).isEqualTo(3);
        assertThat(server.broker().retained().size()).isEqualTo(2);
    }

    /**
     * 3.1.1 cannot refuse a PUBLISH: it gets its PUBACK/PUBREC as usual [MQTT-3.3.5-2] and keeps its connection; the
     * message reaches the current subscribers as an ordinary one but is not retained. A 5.0 QoS 0 PUBLISH likewise
     * (there is no acknowledgement to carry a refusal, and the limit is the broker's, not the client's fault).
     */
    @Test
    void v311AndQos0AreRoutedButNotRetained_MQTT_3_3_5_2() throws Exception {
        start(BrokerConfig.Storage.ROCKSDB, b -> b.maxRetainedMessages(1));
        V3 live = new V3("rl3-live");
        live.subscribe("rl3/#");
        V3 pub = new V3("rl-pub3");
        pub.publish("rl3/kept", "K", 1, true);
        assertThat(live.messages.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS)).isNotNull();

        pub.publish("rl3/over1", "one", 1, true);
        pub.publish("rl3/over2", "two", 2, true);
        pub.publish("rl3/over0", "zero", 0, true);
        MqttAsyncClient pub5 = pahoV5("rl-pub5q0");
        assertThat(publish(pub5, "rl3/over5", "five", 0, true)).isZero();
        List<String> liveGot = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Msg m = live.messages.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS);
            assertThat(m).as("routed to the current subscriber").isNotNull();
            assertThat(m.retain()).isFalse();
            liveGot.add(m.topic() + "=" + m.text());
        }
        assertThat(liveGot).containsExactlyInAnyOrder("rl3/over1=one", "rl3/over2=two", "rl3/over0=zero", "rl3/over5=five");
        assertThat(pub.isConnected()).isTrue();
        assertThat(pub5.isConnected()).isTrue();
        assertThat(refused()).isEqualTo(4);
        assertThat(new V3("rl3-new").retainedOn("rl3/#", 1)).as("none of them retained").containsExactly("rl3/kept=K");
    }

    /** max-retained-bytes: growing the total beyond it is refused, shrinking and equal sizes are not. */
    @Test
    void bytesLimitRefusesGrowthOnly() throws Exception {
        // size = payload + topic length: "rb/x" + 40 = 44
        start(BrokerConfig.Storage.ROCKSDB, b -> b.maxRetainedBytes(100).maxRetainedMessages(0));
        MqttAsyncClient pub = pahoV5("rl-bytes");
        String forty = "x".repeat(40);
        assertThat(publish(pub, "rb/x", forty, 1, true)).isEqualTo(0x10);
        assertThat(publish(pub, "rb/y", forty, 1, true)).isEqualTo(0x10);   // 88 bytes
        assertThat(publish(pub, "rb/z", forty, 1, true)).isEqualTo(0x97);   // would be 132
        assertThat(publish(pub, "rb/x", forty + "x".repeat(13), 1, true)).as("grows to 101").isEqualTo(0x97);
        assertThat(publish(pub, "rb/x", forty + "x".repeat(12), 1, true)).as("grows to exactly 100").isEqualTo(0x10);
        assertThat(publish(pub, "rb/x", "small", 1, true)).as("shrinks").isEqualTo(0x10);
        assertThat(publish(pub, "rb/z", "x".repeat(7), 1, true)).as("fits again").isEqualTo(0x10);
        assertThat(server.broker().retained().bytes()).isEqualTo(4 + 5 + 44 + 4 + 7);
        assertThat(new V3("rb-sub").retainedOn("rb/+", 3)).containsExactly("rb/x=small", "rb/y=" + forty, "rb/z=xxxxxxx");
    }

    /** The exact bytes of a refusal: 5.0 QoS 2 PUBREC 0x97, after which the packet id is free again. */
    @Test
    void rawV5Qos2RefusalFreesThePacketId() throws Exception {
        start(BrokerConfig.Storage.ROCKSDB, b -> b.maxRetainedMessages(1));
        RawClient c = RawClient.connect("127.0.0.1", server.port());
        open.add(c);
        c.send(Packets.connect(5, "rl-raw", Packets.CLEAN, 0));
        assertThat(c.readPacket(Duration.ofSeconds(10))[0] & 0xFF).isEqualTo(0x20);
        c.send(publish5(0x35, "raw/1", 7, "one"));                       // QoS 2, RETAIN
        c.expectPacket(0x50, 0x03, 0x00, 0x07, 0x10);                    // PUBREC, no matching subscribers
        c.send(0x62, 0x02, 0x00, 0x07);                                  // PUBREL
        c.expectPacket(0x70, 0x02, 0x00, 0x07);                          // PUBCOMP
        c.send(publish5(0x35, "raw/2", 8, "two"));
        byte[] rec = c.readPacket(Duration.ofSeconds(10));
        assertThat(rec[0] & 0xFF).isEqualTo(0x50);
        assertThat(rec[2] & 0xFF).isZero();
        assertThat(rec[3] & 0xFF).isEqualTo(8);
        assertThat(rec[4] & 0xFF).as("Quota exceeded").isEqualTo(0x97);
        // the id is not awaiting PUBREL: a PUBREL for it is answered 0x92 Packet Identifier not found
        c.send(0x62, 0x02, 0x00, 0x08);
        c.expectPacket(0x70, 0x03, 0x00, 0x08, 0x92);
    }

    /** A 5.0 PUBLISH with QoS 1 or 2 and no properties. */
    private static int[] publish5(int firstByte, String topic, int packetId, String payload) {
        return Packets.packet(firstByte, Packets.str(topic), new int[] {packetId >> 8, packetId & 0xFF, 0},
                Packets.bytes(payload));
    }

    @Test
    void configKeysAreReadAndChecked() throws Exception {
        Path file = dataDir.resolve("starling.yaml");
        Files.writeString(file, "max-retained-messages: 5000\nmax-retained-bytes: 1048576\n");
        BrokerConfig c = ConfigLoader.load(file).build();
        assertThat(c.limits().maxRetainedMessages()).isEqualTo(5000);
        assertThat(c.maxRetainedBytes()).isEqualTo(1_048_576);
        Files.writeString(file, "max-retained-bytes: 10%\nstorage: memory\n");
        assertThat(ConfigLoader.load(file).build().maxRetainedBytes())
                .isEqualTo(Runtime.getRuntime().maxMemory() / 100 * 10);
        // the defaults: 1,000,000 messages; bytes by storage
        Files.writeString(file, "storage: rocksdb\n");
        BrokerConfig d = ConfigLoader.load(file).build();
        assertThat(d.limits().maxRetainedMessages()).isEqualTo(1_000_000);
        assertThat(d.maxRetainedBytes()).isEqualTo(4L << 30);
        Files.writeString(file, "storage: memory\n");
        assertThat(ConfigLoader.load(file).build().maxRetainedBytes())
                .isEqualTo(Runtime.getRuntime().maxMemory() / 100 * 25);
        Files.writeString(file, "max-retained-messages: -1\n");
        assertThatThrownBy(() -> ConfigLoader.load(file).build()).hasMessageContaining("max-retained-messages");
        Files.writeString(file, "max-retained-bytes: lots\n");
        assertThatThrownBy(() -> ConfigLoader.load(file)).hasMessageContaining("max-retained-bytes");
    }
}
