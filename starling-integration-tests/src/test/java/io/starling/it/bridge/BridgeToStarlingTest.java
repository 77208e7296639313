package io.starling.it.bridge;

import static io.starling.it.bridge.BridgeFixture.awaitConnected;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.starling.it.Msg;
import io.starling.server.StarlingServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Starling bridged to a second Starling (in process): both directions at QoS 0, 1 and 2, the metrics, no loop when
 * one bridge forwards everything both ways (5.0 No Local on the remote; on 3.1.1 Mosquitto's bridge flag, which
 * Starling as the remote honours), and the client ids of the bridges' local sessions kept from clients.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BridgeToStarlingTest {

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

    private StarlingServer remote() {
        return fx.starling("storage: memory\n");
    }

    private StarlingServer bridged(StarlingServer remote, String protocol, String bridgeKeys, String topics,
            boolean admin) {
        String yaml = """
                storage: memory
                bridges:
                  - name: b
                    addresses: ["127.0.0.1:%d"]
                    protocol: "%s"
                    reconnect-delay-min-ms: 50
                    reconnect-delay-max-ms: 400
                %s    topics:
                %s""".formatted(remote.port(), protocol, bridgeKeys, topics);
        return fx.starling(yaml, tmp.resolve("a-data"), admin);
    }

    @ParameterizedTest(name = "MQTT {0}")
    @ValueSource(strings = {"3.1.1", "5.0"})
    void forwardsBothWaysAtEveryQos(String protocol) throws Exception {
        StarlingServer b = remote();
        StarlingServer a = bridged(b, protocol, "", """
                      - {pattern: "a2b/#", direction: out, qos: 2}
                      - {pattern: "b2a/#", direction: in, qos: 2}
                """, true);
        awaitConnected(a, "b", true);
        Peer subB = fx.peer(b, "sub-b").subscribe("a2b/#", 2);
        Peer subA = fx.peer(a, "sub-a").subscribe("b2a/#", 2);
        Peer pubA = fx.peer(a, "pub-a");
        Peer pubB = fx.peer(b, "pub-b");
        for (int qos = 0; qos <= 2; qos++) {
            pubA.publish("a2b/" + qos, "x" + qos, qos);
            Msg m = subB.next();
            assertThat(m.topic()).isEqualTo("a2b/" + qos);
            assertThat(m.text()).isEqualTo("x" + qos);
            assertThat(m.qos()).isEqualTo(qos);
            pubB.publish("b2a/" + qos, "y" + qos, qos);
            Msg n = subA.next();
            assertThat(n.topic()).isEqualTo("b2a/" + qos);
            assertThat(n.qos()).isEqualTo(qos);
        }
        // a retained message keeps its flag across the bridge (Retain As Published), and is retained on the remote
        pubA.publish("a2b/retained", "kept", 1, true);
        assertThat(subB.next().text()).isEqualTo("kept");
        try (Peer late = Peer.connect(BridgeFixture.uri(b), "late-b")) {
            late.subscribe("a2b/retained", 1);
            Msg r = late.next();
            assertThat(r.text()).isEqualTo("kept");
            assertThat(r.retain()).isTrue();
        }
        await().untilAsserted(() -> {
            String metrics = BridgeFixture.metrics(a);
            assertThat(metrics).contains("starling_bridge_connected{bridge=\"b\"} 1.0")
                    .contains("starling_bridge_messages_forwarded_total{bridge=\"b\",direction=\"out\"} 4.0")
                    .contains("starling_bridge_messages_forwarded_total{bridge=\"b\",direction=\"in\"} 3.0");
        });
        // every bridge metric of docs/operations.md is there, with its help text, and no other
        String scrape = BridgeFixture.metrics(a);
        List<String> documented = new ArrayList<>();
        Path ops = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(ops.resolve("docs"))) {
            ops = ops.getParent();
        }
        Matcher row = Pattern.compile("(?m)^\\| `(starling_bridge_[a-z_]+)[`{]").matcher(
                Files.readString(ops.resolve("docs/operations.md")));
        while (row.find()) {
            documented.add(row.group(1));
        }
        assertThat(documented).hasSize(6);
        for (String name : documented) {
            assertThat(scrape).as(name).containsPattern("(?m)^" + name + "\\{bridge=\"b\"");
            assertThat(scrape).as(name).containsPattern("(?m)^# HELP " + name + " \\S");
        }
        Matcher exposed = Pattern.compile("(?m)^# TYPE (starling_bridge_[a-z_]+) ").matcher(scrape);
        while (exposed.find()) {
            assertThat(documented).as("documented").contains(exposed.group(1));
        }
        // the remote sees the bridge as a client with the configured id
        assertThat(b.broker().sessions().get("starling-bridge-b")).isNotNull();
    }

    /**
     * One bridge forwards {@code #} both ways between A and B: a message published on either side reaches every
     * subscriber on both sides once. A message the remote echoed back would arrive before the next one published on
     * the other side, which travels the same connection after it.
     */
    @ParameterizedTest(name = "MQTT {0}")
    @ValueSource(strings = {"3.1.1", "5.0"})
    void noLoopWhenBridgingEverythingBothWays(String protocol) throws Exception {
        StarlingServer b = remote();
        StarlingServer a = bridged(b, protocol, "", """
                      - {pattern: "#", direction: both, qos: 1}
                """, false);
        awaitConnected(a, "b", true);
        Peer subA = fx.peer(a, "sub-a").subscribe("#", 1);
        Peer subB = fx.peer(b, "sub-b").subscribe("#", 1);
        Peer pubA = fx.peer(a, "pub-a");
        Peer pubB = fx.peer(b, "pub-b");

        pubA.publish("t/x", "X", 1);
        assertThat(subB.next().text()).isEqualTo("X");
        pubB.publish("t/z", "Z", 1);
        assertThat(subA.texts(2)).containsExactly("X", "Z");
        pubA.publish("t/w", "W", 1);
        assertThat(subB.texts(2)).containsExactly("Z", "W");
        assertThat(subA.next().text()).isEqualTo("W");
    }

    /** The control: a 3.1.1 bridge without the bridge flag to a remote that subscribes it to its own messages loops. */
    @Test
    void withoutTheBridgeFlagA311BridgeGetsItsMessagesBack() throws Exception {
        StarlingServer b = remote();
        StarlingServer a = bridged(b, "3.1.1", "    bridge-flag: false\n", """
                      - {pattern: "#", direction: both, qos: 1}
                """, false);
        awaitConnected(a, "b", true);
        Peer subA = fx.peer(a, "sub-a").subscribe("#", 1);
        Peer subB = fx.peer(b, "sub-b").subscribe("#", 1);
        fx.peer(a, "pub-a").publish("t/x", "X", 1);
        assertThat(subB.next().text()).isEqualTo("X");
        // echoed once by B; A publishes it as the bridge's, which its own (No Local) subscription does not take again
        assertThat(subA.texts(2)).containsExactly("X", "X");
    }

    /** [MQTT-3.1.3-5] allows a server to refuse client ids: those of the bridges' local sessions are refused. */
    @Test
    void clientsCannotTakeABridgesLocalSession() throws Exception {
        StarlingServer b = remote();
        StarlingServer a = bridged(b, "5.0", "", """
                      - {pattern: "x/#", direction: out, qos: 1}
                """, false);
        awaitConnected(a, "b", true);
        assertThatThrownBy(() -> Peer.connect(BridgeFixture.uri(a), "$bridge/b"))
                .isInstanceOfSatisfying(MqttException.class,
                        e -> assertThat(e.getReasonCode()).isEqualTo(MqttException.REASON_CODE_INVALID_CLIENT_ID));
        assertThat(a.bridges().connected("b")).isTrue();
        Peer subB = fx.peer(b, "sub-b").subscribe("x/#", 1);
        fx.peer(a, "pub-a").publish("x/1", "still", 1);
        assertThat(subB.next().text()).isEqualTo("still");
    }

    /**
     * A mapping that would bring the remote's messages into {@code $SYS} (a hostile or mistaken prefix): refused as a
     * client's PUBLISH to {@code $SYS} is, acknowledged to the remote and counted; the next mapped message arrives.
     */
    @Test
    void messagesFromTheRemoteCannotReachSys() throws Exception {
        StarlingServer b = remote();
        StarlingServer a = bridged(b, "5.0", "", """
                      - {pattern: "x/#", direction: in, qos: 1, local-prefix: "$SYS/"}
                      - {pattern: "ok/#", direction: in, qos: 1}
                """, false);
        awaitConnected(a, "b", true);
        // one client for both filters: what reaches it is in the order it was routed
        Peer sub = fx.peer(a, "sub-a").subscribe("$SYS/x/#", 1).subscribe("ok/#", 1);
        Peer pubB = fx.peer(b, "pub-b");
        pubB.publish("x/1", "into-sys", 1);
        pubB.publish("ok/1", "fine", 1);
        Msg m = sub.next();
        assertThat(m.topic()).isEqualTo("ok/1");
        assertThat(sub.messages()).isEmpty();
        await().until(() -> a.bridges().forwardedIn("b") == 1 && a.bridges().refusedIn("b") == 1);
    }

    /** Failover: the first address refuses connections, the bridge goes on to the next and forwards there. */
    @Test
    void failsOverToTheNextAddress() throws Exception {
        StarlingServer b = remote();
        int closed = MosquittoBroker.freePort(); // nothing listens there
        StarlingServer a = fx.starling("""
                storage: memory
                bridges:
                  - name: b
                    addresses: ["127.0.0.1:%d", "127.0.0.1:%d"]
                    reconnect-delay-min-ms: 50
                    reconnect-delay-max-ms: 200
                    topics:
                      - {pattern: "f/#", direction: out, qos: 1}
                """.formatted(closed, b.port()), tmp.resolve("a-data"), false);
        awaitConnected(a, "b", true);
        Peer subB = fx.peer(b, "sub-b").subscribe("f/#", 1);
        fx.peer(a, "pub-a").publish("f/1", "via-second", 1);
        assertThat(subB.next().text()).isEqualTo("via-second");
    }

    /**
     * With an ACL file the bridge is a client like any other (client id {@code $bridge/b}, user {@code local-username}):
     * it brings in only what that user may publish, and sends out only what it may read.
     */
    @Test
    void theAclDecidesWhatTheBridgeBringsInAndSendsOut() throws Exception {
        StarlingServer b = remote();
        Path acl = tmp.resolve("acl");
        Files.writeString(acl, """
                allow user:bridge-user write in/ok/#
                allow user:bridge-user read  out/ok/#
                deny  user:bridge-user readwrite #
                allow all readwrite #
                """);
        String yaml = """
                storage: memory
                acl-file: %s
                bridges:
                  - name: b
                    addresses: ["127.0.0.1:%d"]
                    protocol: "5.0"
                    local-username: bridge-user
                    reconnect-delay-min-ms: 50
                    reconnect-delay-max-ms: 400
                    topics:
                      - {pattern: "in/#", direction: in, qos: 1}
                      - {pattern: "out/#", direction: out, qos: 1}
                """.formatted(acl, b.port());
        StarlingServer a = fx.starling(yaml, tmp.resolve("a-data"), false);
        awaitConnected(a, "b", true);
        Peer subA = fx.peer(a, "sub-a").subscribe("in/#", 1);
        Peer subB = fx.peer(b, "sub-b").subscribe("out/#", 1);
        Peer pubB = fx.peer(b, "pub-b");
        pubB.publish("in/denied/1", "no", 1);
        pubB.publish("in/ok/1", "yes", 1);
        assertThat(subA.next().topic()).isEqualTo("in/ok/1");
        await().until(() -> a.bridges().refusedIn("b") == 1);
        Peer pubA = fx.peer(a, "pub-a");
        pubA.publish("out/denied/1", "no", 1);
        pubA.publish("out/ok/1", "yes", 1);
        assertThat(subB.next().topic()).isEqualTo("out/ok/1");
        assertThat(subA.messages()).isEmpty();
    }

    /**
     * A 5.0 remote with Maximum QoS 1 and no retained messages: the bridge sends QoS 2 messages at QoS 1 and without
     * RETAIN ([MQTT-3.2.2-11], [MQTT-3.2.2-14]), completes their QoS 2 flow with the local session itself, and stays
     * connected; a remote that takes QoS 0 only gets QoS 0.
     */
    @ParameterizedTest(name = "remote maximum-qos {0}")
    @ValueSource(ints = {0, 1})
    void aRemoteWithALowerMaximumQosGetsThatQos(int maximumQos) throws Exception {
        StarlingServer b = fx.starling("storage: memory\nmaximum-qos: " + maximumQos + "\nretain-available: false\n");
        StarlingServer a = bridged(b, "5.0", "", """
                      - {pattern: "q/#", direction: out, qos: 2}
                """, false);
        awaitConnected(a, "b", true);
        Peer subB = fx.peer(b, "sub-b").subscribe("q/#", maximumQos);
        Peer pubA = fx.peer(a, "pub-a");
        for (int i = 0; i < 20; i++) {
            pubA.publish("q/" + i, "m" + i, 2, i == 0); // QoS 2; the first one retained
        }
        for (int i = 0; i < 20; i++) {
            Msg m = subB.next();
            assertThat(m.text()).isEqualTo("m" + i);
            assertThat(m.qos()).isEqualTo(maximumQos);
            assertThat(m.retain()).isFalse();
        }
        // every QoS 2 flow of the bridge's session ended: nothing left in flight or queued
        await().until(() -> a.bridges().queued("b") == 0 && a.bridges().forwardedOut("b") == 20);
        assertThat(a.bridges().connected("b")).isTrue();
        assertThat(a.bridges().connects("b")).isEqualTo(1);
    }
}
