package io.starling.it.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.it.BrokerProcess;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.SoftAssertions;
import org.awaitility.core.ConditionTimeoutException;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durability promise, tested on a broker in a separate process ({@code starling.jar broker}) that is killed
 * with SIGKILL at random moments and restarted on the same data directory, several times, then restarted
 * gracefully: publishers at QoS 1 and 2 send numbered messages to persistent subscribers that are online, offline
 * and reconnecting. Afterwards every message whose PUBACK or PUBREC a publisher received has been delivered to
 * every subscriber, QoS 2 exactly once and QoS 1 at least once, in order per topic [MQTT-4.6.0-6]; sessions and
 * subscriptions survived (Session Present 1 on every reconnect, [MQTT-3.2.2-2]), and so did a retained message
 * acknowledged before the first kill.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class CrashRecoveryTest {

    private static final Logger LOG = LoggerFactory.getLogger(CrashRecoveryTest.class);
    private static final Path JAR = BrokerProcess.JAR;
    private static final String Q1 = "crash/q1";
    private static final String Q2 = "crash/q2";

    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // a failed run leaves broker.log behind
    Path dir;

    private Process broker;
    private int port;
    private final List<CrashClient> clients = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        clients.forEach(CrashClient::stop);
        if (broker != null) {
            broker.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private void startBroker(String fsync) throws IOException {
        Path config = dir.resolve("starling.yaml");
        Files.writeString(config, String.join("\n",
                "bind: 127.0.0.1",
                "port: " + port,
                "data-dir: " + dir.resolve("data"),
                "storage: rocksdb",
                "fsync: " + fsync,
                "max-queued-messages: 1000000",
                "max-queued-bytes: 1000000000",
                ""), StandardCharsets.UTF_8);
        broker = BrokerProcess.start(dir, config, port, Duration.ofSeconds(60), "-Xmx256m");
    }

    private CrashClient client(String id) {
        CrashClient c = new CrashClient(id, port);
        clients.add(c);
        return c;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private int ackedTotal(CrashClient... publishers) {
        int n = 0;
        for (CrashClient p : publishers) {
            n += p.ackedCount();
        }
        return n;
    }

    @ParameterizedTest(name = "fsync: {0}")
    @ValueSource(strings = {"always", "os"})
    void acknowledgedMessagesSurviveSigkillAndGracefulRestarts(String fsync) throws Exception {
        assertThat(JAR).as("the broker jar (built by starling-cli)").exists();
        port = freePort();
        startBroker(fsync);
        Random random = new Random();
        CrashClient online = client("crash-online").subscribe(Q1, 1).subscribe(Q2, 2).start();
        CrashClient offline = client("crash-offline").subscribe(Q1, 1).subscribe(Q2, 2).start();
        CrashClient flappy = client("crash-flappy").subscribe(Q1, 1).subscribe(Q2, 2).start();
        await().atMost(Duration.ofSeconds(30)).until(() -> online.isConnected() && offline.isConnected()
                && flappy.isConnected());
        offline.offline(); // subscribed, then away until the end: its queue lives on disk through every crash
        // a retained message, acknowledged (PUBACK) before the first kill, must be there after all of them
        MqttClient retainer = new MqttClient(
                "tcp://127.0.0.1:" + port, "crash-retainer", new MemoryPersistence());
        retainer.connect();
        retainer.publish("crash/retained", "kept".getBytes(StandardCharsets.UTF_8), 1, true);
        retainer.disconnect();
        retainer.close();
        CrashClient pub1 = client("crash-pub1").publish(Q1, 1, 100).start();
        CrashClient pub2 = client("crash-pub2").publish(Q2, 2, 100).start();

        for (int cycle = 0; cycle < 5; cycle++) {
            int target = ackedTotal(pub1, pub2) + 200 + random.nextInt(800);
            await().atMost(Duration.ofSeconds(90)).until(() -> ackedTotal(pub1, pub2) >= target);
            if (cycle % 2 == 0) {
                flappy.offline();
            } else {
                flappy.online();
            }
            LOG.info("SIGKILL {}: {} messages acknowledged, {} in flight", cycle, ackedTotal(pub1, pub2),
                    pub1.inflightCount() + pub2.inflightCount());
            broker.destroyForcibly().waitFor(); // SIGKILL, in the middle of the traffic
            startBroker(fsync);
        }
        int target = ackedTotal(pub1, pub2) + 300;
        await().atMost(Duration.ofSeconds(90)).until(() -> ackedTotal(pub1, pub2) >= target);
        broker.destroy(); // SIGTERM: a graceful restart
        assertThat(broker.waitFor(30, TimeUnit.SECONDS)).isTrue();
        startBroker(fsync);
        int last = ackedTotal(pub1, pub2) + 100;
        await().atMost(Duration.ofSeconds(90)).until(() -> ackedTotal(pub1, pub2) >= last);
        pub1.stopPublishing();
        pub2.stopPublishing();
        await().atMost(Duration.ofSeconds(60)).until(() -> pub1.inflightCount() == 0 && pub2.inflightCount() == 0);
        offline.online();
        flappy.online();

        LOG.info("acknowledged: {} at QoS 1, {} at QoS 2", pub1.ackedCount(), pub2.ackedCount());
        List<Integer> acked1 = pub1.acked();
        List<Integer> acked2 = pub2.acked();
        List<CrashClient> subscribers = List.of(online, offline, flappy);
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> subscribers.stream().allMatch(
                    sub -> missing(sub.received(Q1), acked1).isEmpty() && missing(sub.received(Q2), acked2).isEmpty()));
        } catch (ConditionTimeoutException e) {
            // fall through to the assertions, which say what is missing where
        }
        SoftAssertions soft = new SoftAssertions();
        BlockingQueue<String> retained = new LinkedBlockingQueue<>();
        MqttClient reader = new MqttClient(
                "tcp://127.0.0.1:" + port, "crash-reader", new MemoryPersistence());
        reader.connect();
        reader.subscribe("crash/retained", 1, (t, m) -> retained.add(new String(m.getPayload(), StandardCharsets.UTF_8)
                + (m.isRetained() ? " (retained)" : "")));
        soft.assertThat(retained.poll(10, TimeUnit.SECONDS)).as("the retained message after every crash")
                .isEqualTo("kept (retained)");
        reader.disconnect();
        reader.close();
        for (CrashClient sub : subscribers) {
            soft.assertThat(missing(sub.received(Q1), acked1)).as("%s: acknowledged QoS 1 messages not delivered", sub)
                    .isEmpty();
            List<Integer> lost = missing(sub.received(Q2), acked2);
            soft.assertThat(lost).as("%s: acknowledged QoS 2 messages not delivered; events:%n%s%npublisher:%n%s", sub,
                    lost.isEmpty() ? "" : sub.eventsAround(lost.get(0)),
                    lost.isEmpty() ? "" : pub2.eventsAround(lost.get(0))).isEmpty();
            List<Integer> q2 = sub.received(Q2);
            Integer dup = q2.stream().filter(n -> q2.indexOf(n) != q2.lastIndexOf(n)).findFirst().orElse(null);
            soft.assertThat(q2).as("%s: QoS 2 exactly once [MQTT-4.3.3-2]; events:%n%s", sub,
                    dup == null ? "" : sub.eventsAround(dup)).doesNotHaveDuplicates();
            soft.assertThat(firstOccurrences(sub.received(Q1))).as("%s: QoS 1 in order", sub).isSorted();
            soft.assertThat(q2).as("%s: QoS 2 in order", sub).isSorted();
            soft.assertThat(sub.sessionLost()).as("%s: session present after every reconnect", sub).isFalse();
        }
        soft.assertAll();
        assertThat(online.connections()).as("the online subscriber reconnected after each restart").isGreaterThanOrEqualTo(6);
    }

    private static List<Integer> missing(List<Integer> received, List<Integer> acked) {
        Set<Integer> got = new HashSet<>(received);
        return acked.stream().filter(n -> !got.contains(n)).toList();
    }

    private static List<Integer> firstOccurrences(List<Integer> received) {
        Set<Integer> seen = new HashSet<>();
        List<Integer> firsts = new ArrayList<>();
        for (Integer n : received) {
            if (seen.add(n)) {
                firsts.add(n);
            }
        }
        return firsts;
    }
}
