package io.starling.it.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.ListenerConfig;
import io.starling.server.StarlingServer;
import io.starling.server.config.ConfigLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * max-publish-rate and max-publish-bytes-rate over real sockets: a QoS 1 publisher faster than its rate is slowed
 * (the broker stops reading it for a while after each message past its burst, counted by
 * {@code publishRateLimited}), not disconnected, and every message it sent arrives; a client of a listener whose own
 * value is 0 publishes unthrottled on the same broker; the keys are read from the config file, a listener's value
 * overriding the broker's.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PublishRateLimitTest {

    private static final int MESSAGES = 100;

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
                // best effort
            }
        }
        if (server != null) {
            server.close();
        }
    }

    private static MqttConnectOptions options() {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setAutomaticReconnect(false);
        o.setConnectionTimeout(10);
        o.setKeepAliveInterval(30);
        o.setMaxInflight(MESSAGES);
        return o;
    }

    /** A Paho 3.1.1 client that subscribes to {@code filter} and collects the payloads that arrive. */
    private void subscriber(int port, String filter, Set<String> received) throws Exception {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + port, "rate-sub", new MemoryPersistence());
        c.connect(options());
        open.add(() -> {
            c.disconnect();
            c.close();
        });
        c.subscribe(filter, 1, (t, m) -> received.add(t + " " + new String(m.getPayload(), StandardCharsets.UTF_8)));
    }

    private MqttAsyncClient publisher(int port, String id) throws Exception {
        MqttAsyncClient c = new MqttAsyncClient("tcp://127.0.0.1:" + port, id, new MemoryPersistence());
        c.connect(options()).waitForCompletion(10_000);
        open.add(() -> {
            if (c.isConnected()) {
                c.disconnect().waitForCompletion(5_000);
            }
            c.close();
        });
        return c;
    }

    /** Publishes {@link #MESSAGES} QoS 1 messages to {@code topic} as fast as the client can send them. */
    private static List<IMqttDeliveryToken> publishAll(MqttAsyncClient c, String topic) throws Exception {
        List<IMqttDeliveryToken> tokens = new ArrayList<>();
        for (int i = 0; i < MESSAGES; i++) {
            tokens.add(c.publish(topic, ("m" + i).getBytes(StandardCharsets.UTF_8), 1, false));
        }
        return tokens;
    }

    private long rateLimited() {
        return server.broker().metrics().publishRateLimited.sum();
    }

    @Test
    void aPublisherOverItsRateIsSlowedNotDisconnectedWhileAnotherListenerPublishesUnthrottled() throws Exception {
        server = StarlingServer.start(BrokerConfig.builder().dataDir(dataDir).maxPublishRate(20)
                .listeners(List.of(
                        ListenerConfig.builder(ListenerConfig.Type.TCP).port(0).build(),
                        ListenerConfig.builder(ListenerConfig.Type.TCP).port(0).maxPublishRate(0).build()))
                .build());
        int limited = server.port(0);
        int unlimited = server.port(1);
        Set<String> received = ConcurrentHashMap.newKeySet();
        subscriber(limited, "rate/#", received);

        // the listener whose own value is 0: its client is never paused
        MqttAsyncClient free = publisher(unlimited, "rate-free");
        for (IMqttDeliveryToken t : publishAll(free, "rate/free")) {
            t.waitForCompletion(10_000);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == MESSAGES);
        assertThat(rateLimited()).as("no pause at an unlimited rate").isZero();

        // the broker's 20 per second: a QoS 1 publisher that sends each message as soon as the previous one is
        // acknowledged, five times the burst; on a thread of its own
        MqttClient slow = new MqttClient("tcp://127.0.0.1:" + limited, "rate-slow", new MemoryPersistence());
        slow.connect(options());
        open.add(() -> {
            if (slow.isConnected()) {
                slow.disconnect();
            }
            slow.close();
        });
        ExecutorService thread = Executors.newSingleThreadExecutor();
        open.add(thread::shutdownNow);
        Future<?> slowDone = thread.submit(() -> {
            for (int i = 0; i < MESSAGES; i++) {
                slow.publish("rate/slow", ("m" + i).getBytes(StandardCharsets.UTF_8), 1, false);
            }
            return null;
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> rateLimited() > 0);

        // meanwhile, on the same broker, the other client publishes unthrottled
        for (IMqttDeliveryToken t : publishAll(free, "rate/free2")) {
            t.waitForCompletion(10_000);
        }

        slowDone.get(30, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 3 * MESSAGES);
        for (int i = 0; i < MESSAGES; i++) {
            assertThat(received).contains("rate/slow m" + i, "rate/free2 m" + i);
        }
        assertThat(slow.isConnected()).as("slowed, not disconnected").isTrue();
        // past the burst of 20, (nearly) every message found the bucket empty and waited 1/20 s for it to refill
        assertThat(rateLimited()).as("pauses").isGreaterThanOrEqualTo(MESSAGES / 2);
    }

    @Test
    void theKeysAreReadAndAListenerValueOverridesTheBrokers() throws Exception {
        Path file = dataDir.resolve("starling.yaml");
        Files.writeString(file, """
                max-publish-rate: 20
                max-publish-bytes-rate: 100000
                listeners:
                  - type: tcp
                    port: 1883
                  - type: tcp
                    port: 1884
                    max-publish-rate: 0
                    max-publish-bytes-rate: 5000
                  - type: ws
                    port: 8080
                    max-publish-rate: 50
                """);
        BrokerConfig c = ConfigLoader.load(file).build();
        assertThat(c.limits().maxPublishRate()).isEqualTo(20);
        assertThat(c.limits().maxPublishBytesRate()).isEqualTo(100_000);
        List<ListenerConfig> l = c.listeners();
        assertThat(l.get(0).effectiveMaxPublishRate(c)).as("the broker's").isEqualTo(20);
        assertThat(l.get(0).effectiveMaxPublishBytesRate(c)).isEqualTo(100_000);
        assertThat(l.get(1).effectiveMaxPublishRate(c)).as("0 on the listener: unlimited there").isZero();
        assertThat(l.get(1).effectiveMaxPublishBytesRate(c)).isEqualTo(5000);
        assertThat(l.get(2).effectiveMaxPublishRate(c)).isEqualTo(50);
        assertThat(l.get(2).effectiveMaxPublishBytesRate(c)).isEqualTo(100_000);

        Files.writeString(file, "storage: memory\n");
        BrokerConfig d = ConfigLoader.load(file).build();
        assertThat(d.limits().maxPublishRate()).as("unlimited by default").isZero();
        assertThat(d.limits().maxPublishBytesRate()).isZero();

        Files.writeString(file, "max-publish-rate: -1\n");
        assertThatThrownBy(() -> ConfigLoader.load(file)).hasMessageContaining("max-publish-rate");
        Files.writeString(file, "listeners:\n  - type: tcp\n    max-publish-bytes-rate: fast\n");
        assertThatThrownBy(() -> ConfigLoader.load(file)).hasMessageContaining("max-publish-bytes-rate");
    }
}
