package io.starling.it.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.broker.config.BrokerConfig;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.session.QueueBudget;
import io.starling.broker.session.Session;
import io.starling.it.Packets;
import io.starling.server.StarlingServer;
import io.starling.testkit.RawClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thirty subscribers that stop reading (raw sockets with small receive buffers: they subscribe to {@code hot/#},
 * read their SUBACK and from then on only send PINGREQs) get every message published to {@code hot/...}, far more
 * than max-queued-bytes-total, while their own limits are far above it. They must cost only themselves: the budget
 * sheds from their queues (counted as dropped, theirs only), and meanwhile a publisher to {@code hot/x} with its own
 * reading subscriber (Paho 5.0) and a publisher to {@code cold/y}, which the stalled ones do not subscribe to, with its
 * subscriber (Paho 3.1.1), go on getting every PUBACK and every message. Before, the stalled queues held the budget
 * and every publisher of the broker was paused until those sockets closed, which their PINGREQs prevented.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class StalledConsumersTest {

    private static final long BUDGET = 1024 * 1024;
    private static final int STALLED = 30;
    /** Messages published after every stalled subscriber has lost some. */
    private static final int MESSAGES = 100;
    /** The most published before that: far more than the socket buffers of the stalled ones take. */
    private static final int MAX_MESSAGES = 3000;
    private static final int RETAINED = 20;
    private static final byte[] PAYLOAD = "h".repeat(16 * 1024).getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dataDir;

    private StarlingServer server;
    private final List<RawClient> stalled = new ArrayList<>();
    private final List<AutoCloseable> clients = new ArrayList<>();
    private final ScheduledExecutorService pinger = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() throws Exception {
        pinger.shutdownNow();
        stalled.forEach(RawClient::close);
        for (AutoCloseable c : clients) {
            c.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void stalledSubscribersLoseTheirOwnMessagesAndNobodyElseWaits() throws Exception {
        server = StarlingServer.start(BrokerConfig.builder().port(0).dataDir(dataDir).ioThreads(3)
                .maxQueuedBytesTotal(BUDGET).maxQueuedMessages(100_000).build());
        String uri = "tcp://127.0.0.1:" + server.port();
        BrokerMetrics metrics = server.broker().metrics();
        QueueBudget budget = server.broker().queueBudget();

        // retained messages the stalled subscribers get on subscribe, 2.4 MB of queue between them
        var retainer = v3(uri, "sc-retainer");
        for (int i = 0; i < RETAINED; i++) {
            retainer.publish("hot/r/" + i, PAYLOAD, 1, true);
        }

        for (int i = 0; i < STALLED; i++) {
            RawClient c = RawClient.connectWithBuffers("127.0.0.1", server.port(), 4096, 0);
            stalled.add(c);
            // keep-alive 60 s: a client that takes nothing for that long is disconnected (NonReadingClientTest)
            c.send(Packets.connect(4, "sc-stalled-" + i, Packets.CLEAN, 60));
            c.expectPacket(0x20, 0x02, 0x00, 0x00);
            int qos = i % 2;
            c.send(Packets.subscribe(4, 1, "hot/#", qos));
            c.expectPacket(0x90, 0x03, 0x00, 0x01, qos);
            // from here on it reads nothing, but pings as a live client does
        }
        pinger.scheduleAtFixedRate(() -> stalled.forEach(c -> {
            try {
                c.send(0xC0, 0x00); // PINGREQ
            } catch (RuntimeException e) {
                // closed at the end of the test
            }
        }), 0, 500, TimeUnit.MILLISECONDS);

        BlockingQueue<String> hot = new LinkedBlockingQueue<>();
        var hotSub = v5(uri, "sc-hot-sub");
        hotSub.subscribe(new org.eclipse.paho.mqttv5.common.MqttSubscription[] {
            new org.eclipse.paho.mqttv5.common.MqttSubscription("hot/x", 1)},
                new org.eclipse.paho.mqttv5.client.IMqttMessageListener[] {
                    (t, m) -> hot.add(new String(m.getPayload(), 0, 8, StandardCharsets.UTF_8))});
        BlockingQueue<String> cold = new LinkedBlockingQueue<>();
        var coldSub = v3(uri, "sc-cold-sub");
        coldSub.subscribe("cold/#", 1, (t, m) -> cold.add(new String(m.getPayload(), StandardCharsets.UTF_8)));
        var hotPub = v5(uri, "sc-hot-pub");
        var coldPub = v3(uri, "sc-cold-pub");

        int afterAllDropped = -1;
        for (int i = 0; afterAllDropped < 0 || i < afterAllDropped + MESSAGES; i++) {
            assertThat(i).as("messages published before every stalled subscriber lost some").isLessThan(MAX_MESSAGES);
            String id = String.format("%08d", i);
            byte[] payload = PAYLOAD.clone();
            System.arraycopy(id.getBytes(StandardCharsets.US_ASCII), 0, payload, 0, 8);
            // both return only once their PUBACK is in: a paused publisher would time out here
            hotPub.publish("hot/x", payload, 1, false);
            coldPub.publish("cold/y", id.getBytes(StandardCharsets.US_ASCII), 1, false);
            assertThat(hot.poll(30, TimeUnit.SECONDS)).as("hot message %d to the reading subscriber", i).isEqualTo(id);
            assertThat(cold.poll(30, TimeUnit.SECONDS)).as("cold message %d", i).isEqualTo(id);
            if (afterAllDropped < 0 && i % 20 == 19 && allStalledDropped()) {
                afterAllDropped = i;
            }
        }

        // the stalled queues went far beyond the budget's worth of messages: the budget shed from them
        assertThat(metrics.messagesShed.sum()).isPositive();
        await().atMost(Duration.ofSeconds(30)).until(() -> budget.queuedBytes() < budget.shedMark());
        // every drop was a stalled subscriber's, and each of them lost some; the readers lost nothing
        long stalledDrops = 0;
        for (int i = 0; i < STALLED; i++) {
            Session s = server.broker().sessions().get("sc-stalled-" + i);
            assertThat(s.isOnline()).as("stalled subscriber %d still connected (its PINGREQs)", i).isTrue();
            long dropped = onOwner(s, s::droppedCount);
            assertThat(dropped).as("messages dropped for stalled subscriber %d", i).isPositive();
            stalledDrops += dropped;
        }
        for (String id : List.of("sc-hot-sub", "sc-cold-sub")) {
            Session s = server.broker().sessions().get(id);
            assertThat(onOwner(s, s::droppedCount)).as(id).isZero();
        }
        assertThat(stalledDrops).isEqualTo(metrics.messagesDropped.sum());
    }

    private boolean allStalledDropped() throws Exception {
        for (int i = 0; i < STALLED; i++) {
            Session s = server.broker().sessions().get("sc-stalled-" + i);
            if (onOwner(s, s::droppedCount) == 0) {
                return false;
            }
        }
        return true;
    }

    private static <T> T onOwner(Session s, java.util.concurrent.Callable<T> read) throws Exception {
        return s.owner().submit(read).get(10, TimeUnit.SECONDS);
    }

    private org.eclipse.paho.client.mqttv3.MqttClient v3(String uri, String id) throws Exception {
        var c = new org.eclipse.paho.client.mqttv3.MqttClient(uri, id, new MemoryPersistence());
        c.setTimeToWait(30_000);
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setKeepAliveInterval(60);
        c.connect(o);
        clients.add(() -> {
            if (c.isConnected()) {
                c.disconnect();
            }
            c.close();
        });
        return c;
    }

    private org.eclipse.paho.mqttv5.client.MqttClient v5(String uri, String id) throws Exception {
        var c = new org.eclipse.paho.mqttv5.client.MqttClient(uri, id,
                new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
        c.setTimeToWait(30_000);
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setKeepAliveInterval(60);
        c.connect(o);
        clients.add(() -> {
            if (c.isConnected()) {
                c.disconnect();
            }
            c.close();
        });
        return c;
    }
}
