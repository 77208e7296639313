package io.starling.it.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.connect.Mqtt5Connect;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import io.starling.broker.config.BrokerConfig;
import io.starling.server.StarlingServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stored sessions over restarts, with the HiveMQ MQTT 5 client: the per-session limit of a stored queue, Session
 * Expiry that runs out while the broker is stopped, and Message Expiry of stored messages.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StoredSessionLifecycleTest {

    @TempDir
    Path dataDir;

    private StarlingServer server;
    private final List<Mqtt5AsyncClient> clients = new ArrayList<>();

    @AfterEach
    void tearDown() {
        for (Mqtt5AsyncClient c : clients) {
            if (c.getState().isConnected()) {
                c.disconnect();
            }
        }
        if (server != null) {
            server.close();
        }
    }

    private void start(UnaryOperator<BrokerConfig.Builder> custom) {
        server = StarlingServer.start(custom.apply(BrokerConfig.builder().port(0).dataDir(dataDir)
                .storage(BrokerConfig.Storage.ROCKSDB).fsync(BrokerConfig.Fsync.OS)).build());
    }

    private void restart(UnaryOperator<BrokerConfig.Builder> custom) {
        server.close();
        start(custom);
    }

    /** Connects with Clean Start 0 and the given Session Expiry Interval; returns whether a session was present. */
    private boolean connect(Mqtt5AsyncClient c, long expiry) throws Exception {
        return c.connect(Mqtt5Connect.builder().cleanStart(false).sessionExpiryInterval(expiry).build())
                .get(10, TimeUnit.SECONDS).isSessionPresent();
    }

    private Mqtt5AsyncClient client(String id, BlockingQueue<String> into) {
        Mqtt5AsyncClient c = Mqtt5Client.builder().identifier(id).serverHost("127.0.0.1").serverPort(server.port())
                .buildAsync();
        if (into != null) {
            c.publishes(MqttGlobalPublishFilter.ALL, p -> into.add(new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8)));
        }
        clients.add(c);
        return c;
    }

    private void publish(String topic, String payload, Long expiry) throws Exception {
        Mqtt5AsyncClient pub = client("lifecycle-pub-" + System.nanoTime(), null);
        pub.connect().get(10, TimeUnit.SECONDS);
        var b = Mqtt5Publish.builder().topic(topic).qos(MqttQos.AT_LEAST_ONCE)
                .payload(payload.getBytes(StandardCharsets.UTF_8));
        if (expiry != null) {
            b.messageExpiryInterval(expiry);
        }
        pub.publish(b.build()).get(10, TimeUnit.SECONDS); // PUBACK: stored
        pub.disconnect().get(10, TimeUnit.SECONDS);
    }

    private void subscribeAndLeave(String id, String filter, long expiry) throws Exception {
        Mqtt5AsyncClient c = client(id, null);
        connect(c, expiry);
        c.subscribeWith().topicFilter(filter).qos(MqttQos.AT_LEAST_ONCE).send().get(10, TimeUnit.SECONDS);
        c.disconnect().get(10, TimeUnit.SECONDS);
    }

    private static void awaitPassed(long sinceMillis, long millis) {
        await().atMost(Duration.ofMillis(millis + 5_000)).pollInterval(Duration.ofMillis(50))
                .until(() -> System.currentTimeMillis() - sinceMillis > millis);
    }

    @Test
    void aFullStoredQueueRefusesTheNewestAndCountsThemDropped() throws Exception {
        UnaryOperator<BrokerConfig.Builder> three = b -> b.maxQueuedMessages(3);
        start(three);
        subscribeAndLeave("lifecycle-full", "full/t", 300);
        for (int i = 1; i <= 6; i++) {
            publish("full/t", "m" + i, null);
        }
        // a stored queue never drops what it accepted: m4..m6 are refused, whatever drop-policy says
        await().atMost(Duration.ofSeconds(10)).until(() -> server.broker().metrics().messagesDropped.sum() == 3);
        restart(three);
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        Mqtt5AsyncClient c = client("lifecycle-full", got);
        assertThat(connect(c, 300)).isTrue();
        assertThat(List.of(got.poll(10, TimeUnit.SECONDS), got.poll(10, TimeUnit.SECONDS), got.poll(10, TimeUnit.SECONDS)))
                .containsExactly("m1", "m2", "m3");
        assertThat(got.poll(300, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    void allStoredQueuesTogetherAreBoundedByMaxStoredBytesTotal() throws Exception {
        // each message weighs payload 2 + topic 6 + 64 = 72 bytes: 150 bytes of stored queues hold two
        UnaryOperator<BrokerConfig.Builder> bound = b -> b.maxStoredBytesTotal(150);
        start(bound);
        subscribeAndLeave("lifecycle-total-a", "tot/a", 300);
        subscribeAndLeave("lifecycle-total-b", "tot/b", 300);
        publish("tot/a", "a1", null);
        publish("tot/b", "b1", null);
        publish("tot/a", "a2", null); // over the bound: refused although queue a holds one message
        publish("tot/b", "b2", null);
        await().atMost(Duration.ofSeconds(10)).until(() -> server.broker().metrics().messagesDropped.sum() == 2);
        restart(bound);
        BlockingQueue<String> gotA = new LinkedBlockingQueue<>();
        BlockingQueue<String> gotB = new LinkedBlockingQueue<>();
        assertThat(connect(client("lifecycle-total-a", gotA), 300)).isTrue();
        assertThat(connect(client("lifecycle-total-b", gotB), 300)).isTrue();
        assertThat(gotA.poll(10, TimeUnit.SECONDS)).isEqualTo("a1");
        assertThat(gotB.poll(10, TimeUnit.SECONDS)).isEqualTo("b1");
        assertThat(gotA.poll(300, TimeUnit.MILLISECONDS)).isNull();
        assertThat(gotB.poll(300, TimeUnit.MILLISECONDS)).isNull();
    }

    // [MQTT-3.1.2-23] the session is kept for the Session Expiry Interval after the connection closes, and no longer:
    // an interval that runs out while the broker is stopped has ended the session when it starts again
    @Test
    void aSessionWhoseExpiryPassedWhileTheBrokerWasStoppedIsGone_MQTT_3_1_2_23() throws Exception {
        start(b -> b);
        subscribeAndLeave("lifecycle-short", "exp/t", 1);
        subscribeAndLeave("lifecycle-long", "exp/t", 300);
        long left = System.currentTimeMillis();
        server.close();
        awaitPassed(left, 1_500);
        start(b -> b);
        assertThat(connect(client("lifecycle-short", null), 0)).as("expired while stopped").isFalse();
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        Mqtt5AsyncClient longLived = client("lifecycle-long", got);
        assertThat(connect(longLived, 300)).as("still within its interval").isTrue();
        publish("exp/t", "after", null);
        assertThat(got.poll(10, TimeUnit.SECONDS)).as("its subscription came back with it").isEqualTo("after");
    }

    // [MQTT-3.3.2-5] a stored message whose Message Expiry Interval passed (here across a restart) is not delivered
    @Test
    void aStoredMessageThatExpiredAcrossARestartIsNotDelivered_MQTT_3_3_2_5() throws Exception {
        start(b -> b);
        subscribeAndLeave("lifecycle-mx", "mx/t", 300);
        publish("mx/t", "short", 1L);
        publish("mx/t", "long", 300L);
        long published = System.currentTimeMillis();
        restart(b -> b);
        awaitPassed(published, 1_500);
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        assertThat(connect(client("lifecycle-mx", got), 300)).isTrue();
        assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("long");
        assertThat(got.poll(300, TimeUnit.MILLISECONDS)).isNull();
    }
}
