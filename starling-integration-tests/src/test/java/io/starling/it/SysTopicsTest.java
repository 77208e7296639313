package io.starling.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.starling.broker.config.BrokerConfig;
import io.starling.broker.retain.RetainedStore;
import io.starling.server.StarlingServer;
import io.starling.server.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code $SYS/broker/...} topics, read with {@code mosquitto_sub} from a broker that publishes them every second:
 * the version, and values that move as Paho clients connect and publish; a subscriber to {@code #} never gets them
 * [MQTT-4.7.2-1]; {@code sys-interval-seconds: 0} publishes nothing. (Who may read them: security/SysAclTest.)
 */
class SysTopicsTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension(b -> b.sysIntervalSeconds(1));
    @RegisterExtension
    Clients clients = new Clients(broker);

    private final List<Mosquitto.Sub> subs = new ArrayList<>();

    @BeforeAll
    static void starlingOnly() {
        assumeFalse(BrokerExtension.isMosquitto(), "Starling's $SYS values");
    }

    @AfterEach
    void stopSubscribers() {
        subs.forEach(Mosquitto.Sub::close);
    }

    /** The latest value of each topic a {@code mosquitto_sub} of {@code filter} received. */
    private Map<String, String> watch(String filter) throws Exception {
        BlockingQueue<Msg> sink = new LinkedBlockingQueue<>();
        Map<String, String> latest = new ConcurrentHashMap<>();
        Mosquitto.Sub sub = Mosquitto.Sub.start(4, broker, sink, List.of("-i", Names.clientId("sys"), "-t", filter));
        subs.add(sub);
        Thread t = new Thread(() -> {
            try {
                while (true) {
                    Msg m = sink.take();
                    latest.put(m.topic(), m.text());
                }
            } catch (InterruptedException e) {
                // done
            }
        }, "sys-watch");
        t.setDaemon(true);
        t.start();
        return latest;
    }

    private static long number(Map<String, String> values, String topic) {
        String v = values.get(topic);
        return v == null ? -1 : Long.parseLong(v);
    }

    @Test
    void theVersionIsRetainedFromTheStart() throws Exception {
        Map<String, String> values = watch("$SYS/broker/version");
        await().atMost(Duration.ofSeconds(10)).until(() -> values.containsKey("$SYS/broker/version"));
        assertThat(values.get("$SYS/broker/version")).matches("starling \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
    }

    @Test
    void connectedClientsAndReceivedMessagesMoveAsClientsConnectAndPublish() throws Exception {
        Map<String, String> values = watch("$SYS/broker/#");
        await().atMost(Duration.ofSeconds(10)).until(() -> number(values, "$SYS/broker/clients/connected") >= 1
                && values.containsKey("$SYS/broker/messages/received") && values.containsKey("$SYS/broker/uptime"));
        long connected = number(values, "$SYS/broker/clients/connected");
        long received = number(values, "$SYS/broker/messages/received");
        TestClient a = clients.connect(ClientKind.PAHO_V311);
        TestClient b = clients.connect(ClientKind.PAHO_V5);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> number(values, "$SYS/broker/clients/connected") >= connected + 2);
        for (int i = 0; i < 5; i++) {
            a.publish("it/sys/" + i, "x", 1);
        }
        b.publish("it/sys/b", "y", 1);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> number(values, "$SYS/broker/messages/received") >= received + 6);
        assertThat(number(values, "$SYS/broker/clients/maximum")).isGreaterThanOrEqualTo(connected + 2);
        assertThat(values.get("$SYS/broker/uptime")).matches("\\d+ seconds");
        a.close();
        b.close();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> number(values, "$SYS/broker/clients/connected") <= connected);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> !"0.00".equals(values.get("$SYS/broker/load/messages/received/1min")));
    }

    @Test
    void aSubscriberToHashGetsNoSysMessage() throws Exception { // [MQTT-4.7.2-1]
        TestClient hash = clients.connect(ClientKind.PAHO_V311);
        hash.subscribe("#", 0);
        Map<String, String> sys = watch("$SYS/broker/uptime");
        // two publications of the uptime pass while the '#' subscriber is listening
        await().atMost(Duration.ofSeconds(10)).until(() -> sys.containsKey("$SYS/broker/uptime"));
        String first = sys.get("$SYS/broker/uptime");
        await().atMost(Duration.ofSeconds(10)).until(() -> !first.equals(sys.get("$SYS/broker/uptime")));
        TestClient pub = clients.connect(ClientKind.PAHO_V311);
        pub.publish("it/sys/marker", "end", 1);
        List<Msg> seen = new ArrayList<>();
        Msg m;
        do {
            m = hash.nextMessage();
            seen.add(m);
        } while (!m.topic().equals("it/sys/marker"));
        assertThat(seen).extracting(Msg::topic).noneMatch(t -> t.startsWith("$"));
    }

    @Test
    void sysMessagesAreRetainedApartAndNeverStored() throws Exception {
        TestClient pub = clients.connect(ClientKind.PAHO_V311);
        String topic = Names.topic("sys-retained");
        pub.publish(topic, "kept".getBytes(java.nio.charset.StandardCharsets.UTF_8), 1, true);
        await().atMost(Duration.ofSeconds(10)).until(() -> broker.server().broker().systemRetained().size() > 10);
        assertThat(sysEntries(broker.server().broker().retained())).isEmpty();
        assertThat(sysEntries(broker.server().broker().systemRetained())).contains("$SYS/broker/uptime");
        broker.restart(); // RocksDB: the clients' retained messages come back, no $SYS one among them
        assertThat(sysEntries(broker.server().broker().retained())).isEmpty();
        RetainedStore.Cursor c = broker.server().broker().retained().cursor(topic);
        assertThat(broker.server().broker().retained().next(c, 10, Long.MAX_VALUE)).hasSize(1);
    }

    private static List<String> sysEntries(RetainedStore store) {
        RetainedStore.Cursor c = store.cursor("$SYS/#");
        List<String> topics = new ArrayList<>();
        while (!c.exhausted()) {
            store.next(c, 100, Long.MAX_VALUE).forEach(h -> topics.add(h.topic()));
        }
        return topics;
    }

    @Test
    void theConfigKeyIsReadAndChecked(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("starling.yaml");
        Files.writeString(file, "storage: memory\n");
        assertThat(ConfigLoader.load(file).build().sysIntervalSeconds()).isEqualTo(10);
        Files.writeString(file, "sys-interval-seconds: 0\n");
        assertThat(ConfigLoader.load(file).build().sysIntervalSeconds()).isZero();
        Files.writeString(file, "sys-interval-seconds: 60\n");
        assertThat(ConfigLoader.load(file).build().sysIntervalSeconds()).isEqualTo(60);
        Files.writeString(file, "sys-interval-seconds: -1\n");
        assertThatThrownBy(() -> ConfigLoader.load(file).build()).hasMessageContaining("sys-interval-seconds");
    }

    @Test
    void intervalZeroPublishesNothing() throws Exception {
        BrokerConfig config = BrokerConfig.builder().bindAddress("127.0.0.1").port(0)
                .storage(BrokerConfig.Storage.MEMORY).sysIntervalSeconds(0).build();
        try (StarlingServer server = StarlingServer.start(config)) {
            assertThat(server.broker().systemRetained().size()).isZero();
            await().during(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(5))
                    .until(() -> server.broker().systemRetained().size() == 0);
        }
    }
}
