package io.starling.it.bridge;

import static io.starling.it.bridge.BridgeFixture.awaitConnected;
import static io.starling.it.bridge.BridgeFixture.uri;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.it.Msg;
import io.starling.it.transport.TestPki;
import io.starling.server.StarlingServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Starling bridged to a real Mosquitto broker (an edge broker forwarding telemetry to a cloud broker and receiving
 * commands back): both directions at QoS 0, 1 and 2 with the prefixes mapped, the remote down for a while and back
 * (nothing acknowledged lost, order kept, the state topic following), Starling restarted while the remote is down
 * (the queue survives in RocksDB), and the queue's bound with the drops counted.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BridgeToMosquittoTest {

    @TempDir
    Path tmp;

    private BridgeFixture fx;

    @BeforeEach
    void setUp() {
        fx = new BridgeFixture(tmp);
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    /** An edge broker's config: telemetry/# out as edge1/telemetry/#, edge1/commands/# in as cloud/commands/#. */
    static String edgeConfig(String remote, String protocol, String extra) {
        return edgeConfig(remote, protocol, extra, "");
    }

    /** As {@link #edgeConfig(String, String, String)}, with {@code bridgeKeys} (lines indented by 4) in the bridge. */
    static String edgeConfig(String remote, String protocol, String extra, String bridgeKeys) {
        return """
                %s
                bridges:
                  - name: cloud
                    addresses: [%s]
                    protocol: "%s"
                    client-id: edge1-bridge
                    keep-alive-seconds: 5
                    reconnect-delay-min-ms: 50
                    reconnect-delay-max-ms: 400
                %s    topics:
                      - {pattern: "telemetry/#", direction: out, qos: 2, remote-prefix: "edge1/"}
                      - {pattern: "commands/#", direction: in, qos: 2, local-prefix: "cloud/", remote-prefix: "edge1/"}
                """.formatted(extra, remote, protocol, bridgeKeys);
    }

    @ParameterizedTest(name = "MQTT {0}")
    @ValueSource(strings = {"3.1.1", "5.0"})
    void forwardsBothWaysAtEveryQos(String protocol) throws Exception {
        MosquittoBroker cloud = fx.mosquitto(List.of());
        StarlingServer edge = fx.starling(edgeConfig(cloud.address(), protocol, "storage: memory"));
        awaitConnected(edge, "cloud", true);
        Peer cloudSub = fx.peer(cloud.uri(), "cloud-sub").subscribe("edge1/telemetry/#", 2);
        Peer edgeSub = fx.peer(edge, "edge-sub").subscribe("cloud/commands/#", 2);
        Peer device = fx.peer(edge, "device");
        Peer backend = fx.peer(cloud.uri(), "backend");
        for (int qos = 0; qos <= 2; qos++) {
            device.publish("telemetry/t" + qos, "out-" + qos, qos);
            Msg out = cloudSub.next();
            assertThat(out.topic()).isEqualTo("edge1/telemetry/t" + qos);
            assertThat(out.text()).isEqualTo("out-" + qos);
            assertThat(out.qos()).isEqualTo(qos);

            backend.publish("edge1/commands/c" + qos, "in-" + qos, qos);
            Msg in = edgeSub.next();
            assertThat(in.topic()).isEqualTo("cloud/commands/c" + qos);
            assertThat(in.text()).isEqualTo("in-" + qos);
            assertThat(in.qos()).isEqualTo(qos);
        }
        // topics outside the mappings are not forwarded: a later mapped message is the next to arrive
        device.publish("other/x", "not-forwarded", 1);
        device.publish("telemetry/last", "last", 1);
        assertThat(cloudSub.next().text()).isEqualTo("last");
        await().until(() -> edge.bridges().forwardedOut("cloud") == 4 && edge.bridges().forwardedIn("cloud") == 3);
    }

    /**
     * The remote goes away and comes back: QoS 1 messages published meanwhile are queued, then all arrive, in order;
     * the state topic says 1, 0, 1.
     */
    @Test
    void remoteDownForAWhileThenBack() throws Exception {
        Path mosqData = tmp.resolve("mosq-data");
        java.nio.file.Files.createDirectories(mosqData);
        MosquittoBroker cloud = fx.mosquitto(MosquittoBroker.persistence(mosqData));
        StarlingServer edge = fx.starling(edgeConfig(cloud.address(), "3.1.1", "storage: memory"));
        awaitConnected(edge, "cloud", true);
        Peer state = fx.peer(edge, "state-watcher").subscribe("$SYS/broker/connection/cloud/state", 1);
        assertThat(state.next().text()).isEqualTo("1");
        // a persistent subscriber on the cloud side, offline while the remote is away
        Peer cloudSub = Peer.connect(cloud.uri(), "cloud-sub", false).subscribe("edge1/telemetry/#", 1);
        cloudSub.disconnect();
        cloudSub.close();

        cloud.stop();
        assertThat(state.next().text()).isEqualTo("0");
        awaitConnected(edge, "cloud", false);
        Peer device = fx.peer(edge, "device");
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            device.publish("telemetry/seq", "m" + i, 1);
            sent.add("m" + i);
        }
        await().until(() -> edge.bridges().queued("cloud") == 50);

        cloud.start();
        assertThat(state.next().text()).isEqualTo("1");
        Peer back = fx.track(Peer.connect(cloud.uri(), "cloud-sub", false));
        assertThat(back.texts(50)).containsExactlyElementsOf(sent);
        await().until(() -> edge.bridges().queued("cloud") == 0);
        assertThat(edge.bridges().dropped("cloud")).isZero();
    }

    /** Starling restarts while the remote is down: the queued messages are in RocksDB and reach the remote later. */
    @Test
    void queuedMessagesSurviveARestartOfStarling() throws Exception {
        Path mosqData = tmp.resolve("mosq-data");
        java.nio.file.Files.createDirectories(mosqData);
        MosquittoBroker cloud = fx.mosquitto(MosquittoBroker.persistence(mosqData));
        Path edgeData = tmp.resolve("edge-data");
        String config = edgeConfig(cloud.address(), "5.0", "storage: rocksdb");
        StarlingServer edge = fx.starling(config, edgeData, false);
        awaitConnected(edge, "cloud", true);
        Peer cloudSub = Peer.connect(cloud.uri(), "cloud-sub", false).subscribe("edge1/telemetry/#", 1);
        cloudSub.disconnect();
        cloudSub.close();

        cloud.stop();
        awaitConnected(edge, "cloud", false);
        List<String> sent = new ArrayList<>();
        try (Peer device = Peer.connect(uri(edge), "device")) {
            for (int i = 0; i < 30; i++) {
                device.publish("telemetry/seq", "r" + i, 1);
                sent.add("r" + i);
            }
        }
        edge.close();

        StarlingServer again = fx.starling(config, edgeData, false);
        cloud.start();
        awaitConnected(again, "cloud", true);
        Peer back = fx.track(Peer.connect(cloud.uri(), "cloud-sub", false));
        assertThat(back.texts(30)).containsExactlyElementsOf(sent);
    }

    /**
     * The bridge's queue is bounded by max-queued-messages: with the remote away, the messages past the bound are
     * dropped (drop-new) and counted, in the bridge's figures and in /metrics; the first ones arrive once it is back.
     */
    @Test
    void fullQueueDropsAndCounts() throws Exception {
        Path mosqData = tmp.resolve("mosq-data");
        java.nio.file.Files.createDirectories(mosqData);
        MosquittoBroker cloud = fx.mosquitto(MosquittoBroker.persistence(mosqData));
        StarlingServer edge = fx.starling(edgeConfig(cloud.address(), "3.1.1",
                "storage: memory\nmax-queued-messages: 5"), tmp.resolve("edge-data"), true);
        awaitConnected(edge, "cloud", true);
        Peer cloudSub = Peer.connect(cloud.uri(), "cloud-sub", false).subscribe("edge1/telemetry/#", 1);
        cloudSub.disconnect();
        cloudSub.close();
        cloud.stop();
        awaitConnected(edge, "cloud", false);
        Peer device = fx.peer(edge, "device");
        for (int i = 0; i < 20; i++) {
            device.publish("telemetry/seq", "q" + i, 1);
        }
        await().until(() -> edge.bridges().dropped("cloud") == 15);
        await().atMost(Duration.ofSeconds(10)).until(() -> BridgeFixture.metrics(edge)
                .contains("starling_bridge_dropped_total{bridge=\"cloud\"} 15.0"));
        assertThat(BridgeFixture.metrics(edge)).contains("starling_bridge_connected{bridge=\"cloud\"} 0.0");

        cloud.start();
        awaitConnected(edge, "cloud", true);
        Peer back = fx.track(Peer.connect(cloud.uri(), "cloud-sub", false));
        // drop-new: the first five were kept, in order
        assertThat(back.texts(5)).containsExactly("q0", "q1", "q2", "q3", "q4");
        device.publish("telemetry/seq", "after", 1);
        assertThat(back.next().text()).isEqualTo("after");
        assertThat(BridgeFixture.metrics(edge)).contains("starling_bridge_connected{bridge=\"cloud\"} 1.0");
    }

    /**
     * A bridge's own queue bound ({@code max-queued-messages} or {@code max-queued-bytes} in its entry), below the
     * broker's: with the remote away, the messages past it are dropped and counted in the bridge's figures and in
     * /metrics, while a local client's queue keeps every one under the broker's limits; the remote, once back, gets
     * exactly the kept ones (the oldest: a stored queue refuses the new ones, a memory one does with drop-new), in order.
     * Each message weighs 80 bytes as the queue limits count them (3 of payload, 13 of topic, 64).
     */
    @ParameterizedTest(name = "storage: {0}, {1}")
    @CsvSource(delimiter = '|', value = {"rocksdb|max-queued-messages: 5", "memory|max-queued-bytes: 450"})
    void aBridgesOwnQueueBoundDropsAndCounts(String storage, String bound) throws Exception {
        Path mosqData = tmp.resolve("mosq-data");
        java.nio.file.Files.createDirectories(mosqData);
        MosquittoBroker cloud = fx.mosquitto(MosquittoBroker.persistence(mosqData));
        StarlingServer edge = fx.starling(edgeConfig(cloud.address(), "3.1.1", "storage: " + storage,
                "    " + bound + "\n"), tmp.resolve("edge-data"), true);
        awaitConnected(edge, "cloud", true);
        Peer cloudSub = Peer.connect(cloud.uri(), "cloud-sub", false).subscribe("edge1/telemetry/#", 1);
        cloudSub.disconnect();
        cloudSub.close();
        // a local persistent client, away too: its queue has the broker's limits (1000 messages)
        try (Peer keeper = Peer.connect(uri(edge), "keeper", false)) {
            keeper.subscribe("telemetry/#", 1);
            keeper.disconnect();
        }
        cloud.stop();
        awaitConnected(edge, "cloud", false);
        Peer device = fx.peer(edge, "device");
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String text = String.format("q%02d", i);
            device.publish("telemetry/seq", text, 1);
            sent.add(text);
        }
        await().until(() -> edge.bridges().dropped("cloud") == 15);
        await().atMost(Duration.ofSeconds(10)).until(() -> BridgeFixture.metrics(edge)
                .contains("starling_bridge_dropped_total{bridge=\"cloud\"} 15.0"));
        try (Peer keeper = Peer.connect(uri(edge), "keeper", false)) {
            assertThat(keeper.texts(20)).containsExactlyElementsOf(sent);
        }

        cloud.start();
        awaitConnected(edge, "cloud", true);
        Peer back = fx.track(Peer.connect(cloud.uri(), "cloud-sub", false));
        assertThat(back.texts(5)).containsExactlyElementsOf(sent.subList(0, 5));
        device.publish("telemetry/seq", "after", 1);
        assertThat(back.next().text()).isEqualTo("after"); // nothing else came before it
        assertThat(edge.bridges().dropped("cloud")).isEqualTo(15);
    }

    /**
     * TLS to the remote: Mosquitto with a TLS listener that requires a client certificate; the bridge trusts the test
     * CA, checks the host name (the server certificate names 127.0.0.1) and presents its client certificate.
     */
    @Test
    void tlsToTheRemoteWithAClientCertificate() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(TestPki.opensslAvailable(), "openssl is needed for the certificates");
        TestPki pki = TestPki.create(tmp.resolve("pki"));
        MosquittoBroker cloud = fx.track(MosquittoBroker.startTls(tmp.resolve("mosq-tls"), pki.ca, pki.serverCert,
                pki.serverKey, true));
        String yaml = """
                storage: memory
                bridges:
                  - name: cloud
                    addresses: ["127.0.0.1:%d"]
                    protocol: "5.0"
                    reconnect-delay-min-ms: 50
                    reconnect-delay-max-ms: 400
                    tls: {ca: "%s", cert: "%s", key: "%s"}
                    topics:
                      - {pattern: "telemetry/#", direction: out, qos: 1, remote-prefix: "edge1/"}
                      - {pattern: "commands/#", direction: in, qos: 1, local-prefix: "cloud/", remote-prefix: "edge1/"}
                """.formatted(cloud.port(), pki.ca, pki.clientCert, pki.clientKey);
        StarlingServer edge = fx.starling(yaml);
        awaitConnected(edge, "cloud", true);
        Peer edgeSub = fx.peer(edge, "edge-sub").subscribe("cloud/commands/#", 1);
        // a client of the TLS listener: mosquitto_sub/pub with the same CA and client certificate
        Process sub = new ProcessBuilder("/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", Integer.toString(cloud.port()),
                "--cafile", pki.ca.toString(), "--cert", pki.clientCert.toString(), "--key", pki.clientKey.toString(),
                "-t", "edge1/telemetry/#", "-q", "1", "-C", "1", "-i", "cloud-sub").redirectErrorStream(true).start();
        fx.track(sub::destroyForcibly);
        // wait until mosquitto_sub is subscribed (its SUBACK is in Mosquitto's log), then publish
        awaitOrShowLog(cloud, () -> cloud.logText().contains("Sending SUBACK to cloud-sub"));
        fx.peer(edge, "device").publish("telemetry/t", "over-tls", 1);
        assertThat(sub.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(sub.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim())
                .isEqualTo("over-tls");
        Process pub = new ProcessBuilder("/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(cloud.port()),
                "--cafile", pki.ca.toString(), "--cert", pki.clientCert.toString(), "--key", pki.clientKey.toString(),
                "-t", "edge1/commands/open", "-q", "1", "-m", "back-over-tls").redirectErrorStream(true).start();
        assertThat(pub.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(edgeSub.next().text()).isEqualTo("back-over-tls");
        // the bridge's session on the remote: MQTT 5.0 (p5), Clean Start 0 (c0), over the TLS listener
        assertThat(cloud.logText()).contains("as starling-bridge-cloud (p5, c0, k60)");
    }

    /**
     * Mosquitto's own bridge into Starling, with {@code try_private true}: its CONNECT carries the bridge flag (protocol
     * level 0x84), and Starling does not send it back its own messages. Without that, the message published on
     * Mosquitto would come back from Starling and reach Mosquitto's subscriber twice, before the message published on
     * Starling after it, which travels the same connection. Mosquitto's default notifications are on
     * {@code $SYS/broker/connection/...}, with a Will there: Starling, whose {@code $SYS} is its own, drops that Will
     * for a bridge rather than refusing it.
     */
    @Test
    void mosquittoBridgingIntoStarlingIsNotSentItsOwnMessages() throws Exception {
        StarlingServer starling = fx.starling("storage: memory\n");
        MosquittoBroker mosq = fx.mosquitto(List.of(
                "connection to-starling",
                "address 127.0.0.1:" + starling.port(),
                "bridge_protocol_version mqttv311",
                "try_private true",
                "cleansession true",
                "remote_clientid mosquitto-bridge",
                "restart_timeout 1",
                "topic shared/# both 1"));
        awaitOrShowLog(mosq, () -> starling.broker().sessions().get("mosquitto-bridge") != null
                && starling.broker().subscriptionIndex().size() > 0);
        Peer mosqSub = fx.peer(mosq.uri(), "mosq-sub").subscribe("shared/#", 1);
        Peer starSub = fx.peer(starling, "star-sub").subscribe("shared/#", 1);
        // Mosquitto → Starling
        fx.peer(mosq.uri(), "mosq-pub").publish("shared/x", "X", 1);
        assertThat(starSub.next().text()).isEqualTo("X");
        // Starling → Mosquitto: after X, so an echo of X would come first
        fx.peer(starling, "star-pub").publish("shared/z", "Z", 1);
        assertThat(mosqSub.texts(2)).containsExactly("X", "Z");
        assertThat(starSub.next().text()).isEqualTo("Z");
    }

    /**
     * A remote whose certificate does not chain to the bridge's CA (another CA: a broker in the middle) is never
     * connected to: the handshake fails, the bridge tries again, nothing is forwarded.
     */
    @Test
    void tlsRemoteWithACertificateOfAnotherCaIsRefused() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(TestPki.opensslAvailable(), "openssl is needed for the certificates");
        TestPki pki = TestPki.create(tmp.resolve("pki"));
        MosquittoBroker cloud = fx.track(MosquittoBroker.startTls(tmp.resolve("mosq-tls"), pki.ca, pki.serverCert,
                pki.serverKey, false));
        StarlingServer edge = fx.starling("""
                storage: memory
                bridges:
                  - name: cloud
                    addresses: ["127.0.0.1:%d"]
                    reconnect-delay-min-ms: 50
                    reconnect-delay-max-ms: 200
                    tls: {ca: "%s"}
                    topics:
                      - {pattern: "#", direction: both, qos: 1}
                """.formatted(cloud.port(), pki.otherCa));
        // the readiness probe of MosquittoBroker is one connection; then at least two failed handshakes of the bridge
        awaitOrShowLog(cloud, () -> cloud.logText().split("New connection from", -1).length > 4);
        assertThat(cloud.logText()).doesNotContain("New client connected");
        assertThat(edge.bridges().connected("cloud")).isFalse();
    }

    /**
     * The remote stops while messages are in flight to it and published still: every message acknowledged to the
     * publisher reaches the cloud subscriber once the remote is back, in the order published. At QoS 1 a message
     * whose PUBACK the stop cut off is sent again (DUP), so it may arrive twice; the first arrivals are in order.
     */
    @Test
    void remoteStopsWhileMessagesAreInFlight() throws Exception {
        Path mosqData = tmp.resolve("mosq-data");
        java.nio.file.Files.createDirectories(mosqData);
        MosquittoBroker cloud = fx.mosquitto(MosquittoBroker.persistence(mosqData));
        StarlingServer edge = fx.starling(edgeConfig(cloud.address(), "3.1.1", "storage: memory"));
        awaitConnected(edge, "cloud", true);
        Peer first = Peer.connect(cloud.uri(), "cloud-sub", false).subscribe("edge1/telemetry/#", 1);
        int total = 400;
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            sent.add("f" + i);
        }
        java.util.concurrent.CompletableFuture<Void> publishing = java.util.concurrent.CompletableFuture.runAsync(() -> {
            try (Peer device = Peer.connect(uri(edge), "device")) {
                for (String m : sent) {
                    device.publish("telemetry/seq", m, 1);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        List<String> got = new ArrayList<>(first.texts(50));
        cloud.stop(); // while the device goes on publishing
        first.close();
        publishing.get(60, TimeUnit.SECONDS); // every message acknowledged to the device
        first.messages().forEach(m -> got.add(m.text()));
        cloud.start();
        try (Peer again = Peer.connect(cloud.uri(), "cloud-sub", false)) {
            while (new java.util.LinkedHashSet<>(got).size() < total) {
                got.add(again.next().text());
            }
        }
        assertThat(new ArrayList<>(new java.util.LinkedHashSet<>(got))).containsExactlyElementsOf(sent);
    }

    /** Waits for the condition; if it does not come, the failure shows what Mosquitto logged. */
    private static void awaitOrShowLog(MosquittoBroker m, java.util.concurrent.Callable<Boolean> condition) {
        try {
            await().until(condition);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("Mosquitto's log:\n" + m.logText(), e);
        }
    }
}
