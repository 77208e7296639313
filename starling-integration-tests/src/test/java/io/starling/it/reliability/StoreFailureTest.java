package io.starling.it.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.store.StoreStatus;
import io.starling.it.spec.Wire;
import io.starling.server.StarlingServer;
import io.starling.testkit.RawClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store on a disk that fails, with real faults: a tmpfs that fills up, an ext4 directory made immutable, a data
 * directory deleted while the broker runs. Whatever the fault, no acknowledgement that depends on the store leaves
 * after it ([MQTT-4.3.2-2] PUBACK, [MQTT-4.3.3-2] PUBREC, SUBACK, CONNACK): 5.0 clients get the error reason code,
 * 3.1.1 clients a closed connection; what needs no store (clean sessions, QoS 0) goes on; the failure is logged once
 * and shown in the store's status; a full disk that gets space again resumes by itself; and every message
 * acknowledged before the fault, or after the store resumed, reaches the persistent subscriber after a restart.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class StoreFailureTest {

    private static final String PAYLOAD = "x".repeat(32 << 10);

    @TempDir
    Path temp;

    private final List<AutoCloseable> closing = new ArrayList<>();
    private StarlingServer server;
    private BrokerConfig config;

    @AfterEach
    void tearDown() throws Exception {
        if (server != null) {
            server.close();
        }
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    private void start(Path dataDir) {
        config = BrokerConfig.builder().bindAddress("127.0.0.1").port(0).dataDir(dataDir)
                .storage(BrokerConfig.Storage.ROCKSDB).fsync(BrokerConfig.Fsync.ALWAYS).build();
        server = StarlingServer.start(config);
    }

    private void restart() {
        server.close();
        server = StarlingServer.start(config);
    }

    private RawClient raw() {
        RawClient c = RawClient.connect("127.0.0.1", server.port());
        closing.add(c);
        return c;
    }

    private StoreStatus status() {
        return server.broker().store().status();
    }

    /** A persistent 5.0 session subscribed to {@code filter}, then disconnected: its messages are stored. */
    private void persistentSubscriber(String clientId, String filter) {
        try (RawClient c = raw()) {
            assertThat(Raw.connect5(c, clientId, 3600)).isZero();
            assertThat(Raw.subscribe5(c, 1, filter)).isEqualTo(1);
            c.send(0xE0, 0x00); // DISCONNECT
        }
    }

    /** Reconnects a persistent 5.0 session and collects the payload prefixes ("name:") it is sent. */
    private Set<String> drain(String clientId) {
        Set<String> got = new HashSet<>();
        try (RawClient c = raw()) {
            c.send(Wire.connect5(clientId, 0, 0, Wire.props(Wire.sessionExpiry(3600))));
            byte[] connack = c.readPacket(Raw.ANSWER);
            assertThat(connack[2] & 1).as("session present").isEqualTo(1);
            while (true) {
                byte[] p = c.readPacket(Duration.ofSeconds(3));
                if (p == null) {
                    return got;
                }
                if ((p[0] & 0xF0) == 0x30) {
                    int i = 1;
                    while ((p[i] & 0x80) != 0) {
                        i++;
                    }
                    i++;
                    int topicLength = ((p[i] & 0xFF) << 8) | (p[i + 1] & 0xFF);
                    int pid = i + 2 + topicLength;
                    int props = pid + 2;
                    int payload = props + 1 + (p[props] & 0xFF);
                    String text = new String(p, payload, p.length - payload, java.nio.charset.StandardCharsets.UTF_8);
                    got.add(text.substring(0, text.indexOf(':') + 1));
                    c.send(0x40, 0x02, p[pid] & 0xFF, p[pid + 1] & 0xFF); // PUBACK
                }
            }
        }
    }

    /** The payload of the retained message a new subscriber to {@code topic} gets. */
    private String retained(String topic) {
        try (RawClient c = raw()) {
            assertThat(Raw.connect5(c, "reader", 0)).isZero();
            assertThat(Raw.subscribe5(c, 1, topic)).isEqualTo(1);
            byte[] p = c.readPacket(Raw.ANSWER);
            assertThat(p[0] & 0xF1).as("a retained PUBLISH").isEqualTo(0x31);
            int i = 1;
            while ((p[i] & 0x80) != 0) {
                i++;
            }
            i++;
            int props = i + 2 + (((p[i] & 0xFF) << 8) | (p[i + 1] & 0xFF)) + ((p[0] & 0x06) != 0 ? 2 : 0);
            int payload = props + 1 + (p[props] & 0xFF);
            return new String(p, payload, p.length - payload, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** Publishes (5.0, QoS 1) until the broker refuses one; returns its reason code and how many were accepted. */
    private int[] publishUntilRefused(RawClient pub, String topic) {
        for (int i = 1; i <= 5000; i++) {
            int rc = Raw.publish5(pub, topic, i % 65535 + 1, "fill" + i + ":" + PAYLOAD, false);
            if (rc != 0) {
                return new int[] {rc, i - 1};
            }
        }
        throw new AssertionError("5000 messages of 32 KiB were all acknowledged on a full disk");
    }

    @Test
    void aFullDiskRefusesWhatNeedsTheStoreKeepsTheRestAndResumesOnItsOwn() throws Exception {
        FaultyDisk disk = FaultyDisk.tmpfs(96);
        closing.add(disk);
        LogCapture logs = new LogCapture();
        closing.add(logs);
        start(disk.path("data"));
        persistentSubscriber("keeper", "t/#");
        RawClient online = raw(); // a persistent session that stays connected: its SUBSCRIBE needs the store
        assertThat(Raw.connect5(online, "online", 3600)).isZero();
        RawClient clean = raw(); // a clean session: needs no store
        assertThat(Raw.connect5(clean, "clean", 0)).isZero();
        assertThat(Raw.subscribe5(clean, 1, "c/#")).isEqualTo(1);
        RawClient pub5 = raw();
        assertThat(Raw.connect5(pub5, "pub5", 0)).isZero();
        assertThat(Raw.publish5(pub5, "t/a", 1, "before:", false)).as("stored and acknowledged").isZero();
        assertThat(Raw.publish5(pub5, "r/x", 2, "old", true)).as("a retained message, no subscriber").isEqualTo(0x10);

        disk.fill();
        int[] refused = publishUntilRefused(pub5, "t/fill");
        assertThat(refused[0]).as("PUBACK reason code on a full disk").isEqualTo(0x80);
        assertThat(status().writable()).isFalse();
        assertThat(status().mayResume()).isTrue();

        // every client that asks for something that needs the store gets a clear answer, on whichever event loop
        for (int i = 0; i < 4; i++) {
            RawClient p = raw();
            assertThat(Raw.connect5(p, "pub-" + i, 0)).isZero();
            assertThat(Raw.publish5(p, "t/b", 7, "refused" + i + ":", false)).as("5.0 PUBACK").isEqualTo(0x80);
        }
        // a retained update that is not stored is not served either: new subscribers get what the store still has
        assertThat(Raw.publish5(pub5, "r/x", 21, "new", true)).as("retained update refused").isEqualTo(0x80);
        assertThat(retained("r/x")).isEqualTo("old");
        // [MQTT-4.3.3-2] a refused QoS 2 PUBLISH: its packet id is free again, so the same id after the recovery is
        // a new message, routed and stored, not a duplicate of one never stored
        assertThat(Raw.publish5Qos2(pub5, "t/q2", 20, "q2refused:")).as("5.0 PUBREC").isEqualTo(0x80);
        RawClient pub311 = raw();
        assertThat(Raw.connect311(pub311, "pub311", true)).isZero();
        assertThat(Raw.publish311(pub311, "t/c", 9, "refused311:")).as("3.1.1: no PUBACK, connection closed").isNull();
        assertThat(Raw.subscribe5(online, 2, "s/#")).as("SUBACK of a stored session").isEqualTo(0x80);
        try (RawClient c = raw()) {
            assertThat(Raw.connect5(c, "new-persistent", 3600)).as("5.0 CONNACK: server unavailable").isEqualTo(0x88);
        }
        try (RawClient c = raw()) {
            assertThat(Raw.connect311(c, "new-persistent-311", false)).as("3.1.1 CONNACK: server unavailable")
                    .isEqualTo(0x03);
        }

        // what needs no store goes on: a clean session's QoS 1 round trip, QoS 0, PINGREQ
        assertThat(Raw.publish5(pub5, "c/x", 11, "clean:", false)).as("no store involved").isZero();
        byte[] delivered = clean.readPacket(Raw.ANSWER);
        assertThat(delivered[0] & 0xF0).as("the clean subscriber gets it").isEqualTo(0x30);
        clean.send(Wire.publish5(0, "c/q0", 0, Wire.props(), "qos0"));
        assertThat(clean.readPacket(Raw.ANSWER)[0] & 0xF0).isEqualTo(0x30);
        Raw.ping(online);
        // the refused subscription is not there: a message on s/x does not reach "online"
        assertThat(Raw.publish5(pub5, "s/x", 12, "unsubscribed:", false)).as("no matching subscriber").isEqualTo(0x10);

        List<String> errors = logs.find(Level.ERROR, m -> m.contains("cannot write"));
        assertThat(errors).as("the failure, logged once with its cause").hasSize(1);
        assertThat(errors.get(0)).contains("No space left on device").contains("free space");

        disk.free();
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                .until(() -> status().writable());
        assertThat(logs.find(Level.WARN, m -> m.contains("writes again after"))).hasSize(1);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(Raw.publish5(pub5, "t/d", 13, "after:", false)).as("acknowledged again").isZero());
        assertThat(Raw.publish5Qos2(pub5, "t/q2", 20, "q2after:")).as("the same packet id, now stored").isZero();
        assertThat(Raw.release5(pub5, 20)).isZero();
        assertThat(Raw.subscribe5(online, 3, "s/#")).isEqualTo(1);
        try (RawClient c = raw()) {
            assertThat(Raw.connect5(c, "new-persistent", 3600)).isZero();
        }

        restart();
        assertThat(retained("r/x")).as("the retained message after the restart").isEqualTo("old");
        Set<String> got = drain("keeper");
        assertThat(got).as("every message acknowledged before the fault and after the recovery")
                .contains("before:", "after:", "q2after:");
        for (int i = 1; i <= refused[1]; i++) {
            assertThat(got).as("acknowledged while the disk filled").contains("fill" + i + ":");
        }
    }

    @Test
    void aRemovedDataDirectoryIsDetectedAndNothingMoreIsAcknowledgedThatNeedsIt() throws Exception {
        LogCapture logs = new LogCapture();
        closing.add(logs);
        Path dataDir = temp.resolve("data");
        start(dataDir);
        persistentSubscriber("keeper", "t/#");
        RawClient clean = raw();
        assertThat(Raw.connect5(clean, "clean", 0)).isZero();
        assertThat(Raw.subscribe5(clean, 1, "c/#")).isEqualTo(1);
        RawClient pub = raw();
        assertThat(Raw.connect5(pub, "pub", 0)).isZero();
        assertThat(Raw.publish5(pub, "t/a", 1, "before:", false)).isZero();

        FaultyDisk.deleteTree(dataDir);
        assertThat(Files.exists(dataDir)).isFalse();
        assertThat(Raw.publish5(pub, "t/b", 2, "gone:", false)).as("written into a removed directory")
                .isEqualTo(0x80);
        assertThat(status().writable()).isFalse();
        assertThat(status().mayResume()).as("only a restart helps").isFalse();
        assertThat(logs.find(Level.ERROR, m -> m.contains("was removed or replaced"))).hasSize(1);
        assertThat(Raw.publish5(pub, "t/c", 3, "still gone:", false)).isEqualTo(0x80);
        assertThat(Raw.publish5(pub, "c/x", 4, "clean:", false)).as("no store involved").isZero();
        assertThat(clean.readPacket(Raw.ANSWER)[0] & 0xF0).isEqualTo(0x30);
    }

    @Test
    void anUnwritableDirectoryRefusesUntilRestartAndSaysSo() throws Exception {
        FaultyDisk disk = FaultyDisk.ext4(128);
        closing.add(disk);
        LogCapture logs = new LogCapture();
        closing.add(logs);
        Path dataDir = disk.path("data");
        start(dataDir);
        persistentSubscriber("keeper", "t/#");
        RawClient pub = raw();
        assertThat(Raw.connect5(pub, "pub", 0)).isZero();
        assertThat(Raw.publish5(pub, "t/a", 1, "before:", false)).isZero();

        // RocksDB appends to the files it has open; it fails once it needs a new one (a memtable flush)
        disk.makeImmutable(dataDir.resolve("db"));
        int[] refused = publishUntilRefused(pub, "t/fill");
        assertThat(refused[0]).isEqualTo(0x80);
        assertThat(status().writable()).isFalse();
        assertThat(status().mayResume()).isFalse();
        List<String> errors = logs.find(Level.ERROR, m -> m.contains("cannot write"));
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0)).contains("restart the broker");
        disk.makeMutable(dataDir.resolve("db"));

        restart();
        Set<String> got = drain("keeper");
        assertThat(got).contains("before:");
        for (int i = 1; i <= refused[1]; i++) {
            assertThat(got).as("acknowledged before the directory became unwritable").contains("fill" + i + ":");
        }
    }
}
