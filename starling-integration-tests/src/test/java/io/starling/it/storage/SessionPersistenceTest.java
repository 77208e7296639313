package io.starling.it.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.broker.config.BrokerConfig;
import io.starling.server.StarlingServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code storage: rocksdb}: persistent sessions — their subscriptions, offline queues (paged from disk) and state —
 * survive a restart of the broker; clean sessions and Clean Start leave nothing behind.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SessionPersistenceTest {

    @TempDir
    Path dataDir;

    private BrokerConfig config() {
        return BrokerConfig.builder().port(0).dataDir(dataDir).storage(BrokerConfig.Storage.ROCKSDB)
                .fsync(BrokerConfig.Fsync.OS).maxQueuedMessages(10_000).build();
    }

    private static MqttClient client(StarlingServer server, String id, boolean cleanSession, MqttCallback cb)
            throws Exception {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + server.port(), id, new MemoryPersistence());
        if (cb != null) {
            c.setCallback(cb);
        }
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(cleanSession);
        o.setMaxInflight(1000);
        c.connect(o);
        return c;
    }

    /** Collects "topic payload" of each message. */
    private static final class Collector implements MqttCallback {
        final BlockingQueue<String> got = new LinkedBlockingQueue<>();

        @Override
        public void connectionLost(Throwable cause) {
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            got.add(topic + " " + new String(message.getPayload(), StandardCharsets.UTF_8));
        }

        @Override
        public void deliveryComplete(IMqttDeliveryToken token) {
        }

        List<String> take(int n) throws InterruptedException {
            List<String> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                String s = got.poll(20, TimeUnit.SECONDS);
                assertThat(s).as("message %d of %d", i, n).isNotNull();
                out.add(s);
            }
            return out;
        }
    }

    @Test
    void anOfflineQueueLongerThanAPageSurvivesARestartInOrder_MQTT_4_1_0_1() throws Exception {
        int n = 2_000; // several pages of the stored queue
        try (StarlingServer first = StarlingServer.start(config())) {
            MqttClient sub = client(first, "persist-offline", false, null);
            sub.subscribe("q/#", 1);
            sub.disconnect();
            sub.close();
            MqttClient pub = client(first, "persist-publisher", true, null);
            for (int i = 0; i < n; i++) {
                pub.publish("q/" + (i % 3), ("m" + i).getBytes(StandardCharsets.UTF_8), 1, false);
            }
            pub.disconnect();
            pub.close();
        }
        try (StarlingServer second = StarlingServer.start(config())) {
            Collector c = new Collector();
            MqttClient sub = new MqttClient("tcp://127.0.0.1:" + second.port(), "persist-offline",
                    new MemoryPersistence());
            sub.setCallback(c);
            MqttConnectOptions o = new MqttConnectOptions();
            o.setCleanSession(false);
            // [MQTT-3.2.2-2] the stored session is resumed: Session Present 1
            assertThat(sub.connectWithResult(o).getSessionPresent()).isTrue();
            List<String> got = c.take(n);
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                expected.add("q/" + (i % 3) + " m" + i);
            }
            // [MQTT-4.6.0-6] in the order published
            assertThat(got).containsExactlyElementsOf(expected);
            sub.disconnect();
            sub.close();
        }
        try (StarlingServer third = StarlingServer.start(config())) {
            // everything was acknowledged: nothing comes again
            Collector c = new Collector();
            MqttClient sub = client(third, "persist-offline", false, c);
            MqttClient pub = client(third, "persist-publisher", true, null);
            pub.publish("q/0", "after".getBytes(StandardCharsets.UTF_8), 1, false);
            assertThat(c.take(1)).containsExactly("q/0 after");
            sub.disconnect();
            sub.close();
            pub.disconnect();
            pub.close();
        }
    }

    @Test
    void subscriptionsOfAPersistentSessionSurviveARestart() throws Exception {
        try (StarlingServer first = StarlingServer.start(config())) {
            MqttClient sub = client(first, "persist-subs", false, null);
            sub.subscribe(new String[] {"a/+", "b/#"}, new int[] {1, 2});
            sub.unsubscribe("b/#");
            sub.disconnect();
            sub.close();
        }
        try (StarlingServer second = StarlingServer.start(config())) {
            MqttClient pub = client(second, "persist-subs-pub", true, null);
            pub.publish("a/1", "one".getBytes(StandardCharsets.UTF_8), 1, false);
            pub.publish("b/1", "unsubscribed".getBytes(StandardCharsets.UTF_8), 1, false);
            pub.publish("a/2", "two".getBytes(StandardCharsets.UTF_8), 2, false);
            Collector c = new Collector();
            MqttClient sub = client(second, "persist-subs", false, c);
            assertThat(c.take(2)).containsExactly("a/1 one", "a/2 two");
            assertThat(c.got.poll(300, TimeUnit.MILLISECONDS)).isNull();
            sub.disconnect();
            sub.close();
            pub.disconnect();
            pub.close();
        }
    }

    @Test
    void cleanSessionsLeaveNothingBehind_MQTT_3_1_2_6() throws Exception {
        try (StarlingServer first = StarlingServer.start(config())) {
            MqttClient sub = client(first, "persist-clean", false, null);
            sub.subscribe("c/#", 1);
            sub.disconnect();
            MqttClient pub = client(first, "persist-clean-pub", true, null);
            pub.publish("c/1", "queued".getBytes(StandardCharsets.UTF_8), 1, false);
            // Clean Session 1 on the stored session: its subscriptions and queue are discarded
            MqttClient again = client(first, "persist-clean", true, null);
            again.disconnect();
            again.close();
            sub.close();
            pub.disconnect();
            pub.close();
        }
        try (StarlingServer second = StarlingServer.start(config())) {
            MqttClient pub = client(second, "persist-clean-pub", true, null);
            Collector c = new Collector();
            MqttClient sub = new MqttClient("tcp://127.0.0.1:" + second.port(), "persist-clean",
                    new MemoryPersistence());
            sub.setCallback(c);
            MqttConnectOptions o = new MqttConnectOptions();
            o.setCleanSession(false);
            assertThat(sub.connectWithResult(o).getSessionPresent()).isFalse();
            pub.publish("c/1", "after".getBytes(StandardCharsets.UTF_8), 1, false);
            assertThat(c.got.poll(500, TimeUnit.MILLISECONDS)).as("no subscription came back").isNull();
            sub.disconnect();
            sub.close();
            pub.disconnect();
            pub.close();
        }
    }
}
