package io.starling.it.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.starling.broker.config.BrokerConfig;
import io.starling.server.StarlingServer;
import io.starling.store.rocksdb.StoreException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code storage: rocksdb}: retained messages survive a restart; an unusable data directory is a clear error. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RetainedPersistenceTest {

    @TempDir
    Path dataDir;

    private BrokerConfig config(BrokerConfig.Fsync fsync) {
        return BrokerConfig.builder().port(0).dataDir(dataDir).storage(BrokerConfig.Storage.ROCKSDB).fsync(fsync).build();
    }

    private static MqttClient connect(StarlingServer server, String id) throws Exception {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + server.port(), id, new MemoryPersistence());
        c.connect();
        return c;
    }

    private void retainedSurvivesARestart(BrokerConfig.Fsync fsync) throws Exception {
        try (StarlingServer first = StarlingServer.start(config(fsync))) {
            MqttClient pub = connect(first, "persist-pub");
            // QoS 1: the PUBACK leaves only once the retained message is committed
            pub.publish("persist/a", "kept".getBytes(StandardCharsets.UTF_8), 1, true);
            pub.publish("persist/b", "dropped".getBytes(StandardCharsets.UTF_8), 1, true);
            pub.publish("persist/b", new byte[0], 1, true); // [MQTT-3.3.1-10] empty payload clears it
            pub.disconnect();
            pub.close();
        }
        try (StarlingServer second = StarlingServer.start(config(fsync))) {
            MqttClient sub = connect(second, "persist-sub");
            BlockingQueue<String> got = new LinkedBlockingQueue<>();
            sub.subscribe("persist/#", 1, (t, m) -> got.add(t + "=" + new String(m.getPayload(), StandardCharsets.UTF_8)
                    + (m.isRetained() ? " retained" : "")));
            assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("persist/a=kept retained");
            assertThat(got.poll(300, TimeUnit.MILLISECONDS)).as("the cleared topic stays cleared").isNull();
            sub.disconnect();
            sub.close();
        }
    }

    @Test
    void retainedMessagesSurviveARestartWithFsyncAlways() throws Exception {
        retainedSurvivesARestart(BrokerConfig.Fsync.ALWAYS);
    }

    @Test
    void retainedMessagesSurviveARestartWithFsyncOs() throws Exception {
        retainedSurvivesARestart(BrokerConfig.Fsync.OS);
    }

    @Test
    void aDataDirectoryInUseIsRefusedWithAClearMessage() {
        try (StarlingServer first = StarlingServer.start(config(BrokerConfig.Fsync.ALWAYS))) {
            assertThat(first.port()).isPositive();
            assertThatThrownBy(() -> StarlingServer.start(config(BrokerConfig.Fsync.ALWAYS)))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining(dataDir.toString());
        }
    }

    /**
     * The heap holds the index of the retained messages (topic, size, expiry), not their payloads: a payload leaves
     * the heap once its write is committed, a restart reads the index alone, and a subscription reads the payloads
     * from disk a page at a time without keeping them.
     */
    @Test
    void afterARestartTheHeapHoldsTheIndexNotThePayloads() throws Exception {
        int n = 500;
        byte[] payload = new byte[4096];
        long bytes = 0;
        try (StarlingServer first = StarlingServer.start(config(BrokerConfig.Fsync.OS))) {
            MqttClient pub = connect(first, "persist-big");
            for (int i = 0; i < n; i++) {
                payload[0] = (byte) i;
                pub.publish("big/" + i, payload, 0, true);
                bytes += payload.length + ("big/" + i).length();
            }
            // its PUBACK follows the commit of the retained messages before it
            pub.publish("persist/marker", "m".getBytes(StandardCharsets.UTF_8), 1, false);
            assertThat(first.broker().retained().size()).isEqualTo(n);
            assertThat(first.broker().retained().heldPayloadBytes()).as("committed, so not in the heap").isZero();
            pub.disconnect();
            pub.close();
        }
        try (StarlingServer second = StarlingServer.start(config(BrokerConfig.Fsync.OS))) {
            assertThat(second.broker().retained().size()).isEqualTo(n);
            assertThat(second.broker().retained().bytes()).isEqualTo(bytes);
            assertThat(second.broker().retained().heldPayloadBytes()).as("start-up read no payload").isZero();
            MqttClient sub = connect(second, "persist-big-sub");
            BlockingQueue<MqttMessage> got = new LinkedBlockingQueue<>();
            java.util.Set<String> topics = java.util.concurrent.ConcurrentHashMap.newKeySet();
            sub.subscribe("big/#", 0, (t, m) -> {
                topics.add(t);
                got.add(m);
            });
            for (int i = 0; i < n; i++) {
                MqttMessage m = got.poll(10, TimeUnit.SECONDS);
                assertThat(m).as("retained message %d of %d", i + 1, n).isNotNull();
                assertThat(m.isRetained()).isTrue();
                assertThat(m.getPayload()).hasSize(4096);
            }
            assertThat(topics).hasSize(n);
            assertThat(second.broker().retained().heldPayloadBytes()).as("reading keeps no payload").isZero();
            sub.disconnect();
            sub.close();
        }
    }

    @Test
    void qos0RetainedMessageIsCommittedBeforeALaterPubAck() throws Exception {
        try (StarlingServer first = StarlingServer.start(config(BrokerConfig.Fsync.ALWAYS))) {
            MqttClient pub = connect(first, "persist-q0");
            MqttMessage m = new MqttMessage("zero".getBytes(StandardCharsets.UTF_8));
            m.setQos(0);
            m.setRetained(true);
            pub.publish("persist/q0", m);
            // a QoS 1 publish behind it on the same connection: its PUBACK follows the earlier retained write
            pub.publish("persist/marker", "m".getBytes(StandardCharsets.UTF_8), 1, false);
            pub.disconnect();
            pub.close();
        }
        try (StarlingServer second = StarlingServer.start(config(BrokerConfig.Fsync.ALWAYS))) {
            MqttClient sub = connect(second, "persist-q0-sub");
            BlockingQueue<String> got = new LinkedBlockingQueue<>();
            sub.subscribe("persist/q0", 0, (t, msg) -> got.add(new String(msg.getPayload(), StandardCharsets.UTF_8)));
            assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("zero");
            sub.disconnect();
            sub.close();
        }
    }
}
