package io.starling.it.v5;

import static io.starling.it.spec.Wire.QOS1;
import static io.starling.it.spec.Wire.props;
import static io.starling.it.spec.Wire.sessionExpiry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.it.BrokerExtension;
import io.starling.it.ClientKind;
import io.starling.it.Clients;
import io.starling.it.HiveMqV5Client;
import io.starling.it.Names;
import io.starling.it.PahoV5Client;
import io.starling.it.TestClient;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * MQTT 5.0 Clean Start x Session Expiry Interval (3.1.2.4, 3.1.2.11.2, 4.1), its change at DISCONNECT (3.14.2.2.2)
 * and the server's cap announced in CONNACK (3.2.2.3.2). The broker caps the interval at 30 s here.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SessionExpiryV5Test {

    private static final long CAP = 30;

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension(b -> b.maxSessionExpirySeconds(CAP));

    @RegisterExtension
    final Clients clients = new Clients(broker);

    @RegisterExtension
    final Conns conns = new Conns(broker);

    private static boolean sessionExists(String clientId) {
        return broker.server().broker().sessions().get(clientId) != null;
    }

    // [MQTT-3.1.2-5] Clean Start 0 with an existing session resumes it: Session Present 1 [MQTT-3.2.2-3], and the
    // QoS 1 message that arrived while it was offline is delivered. [MQTT-3.1.2-6] Clean Start 0 without a session
    // creates one: Session Present 0. Paho subscribes; HiveMQ publishes.
    @Test
    void cleanStart0WithExpiryResumes_MQTT_3_1_2_5() throws Exception {
        String id = Names.clientId("se-resume");
        String topic = Names.topic("se-resume");
        PahoV5Client sub = clients.track(PahoV5Client.connect(broker, id, false, 20));
        assertThat(sub.sessionPresent()).as("new session [MQTT-3.1.2-6]").isFalse();
        sub.subscribe(topic, 1);
        sub.disconnect();
        TestClient pub = clients.connect(ClientKind.HIVEMQ_V5);
        pub.publish(topic, "while away", 1);
        PahoV5Client again = clients.track(PahoV5Client.connect(broker, id, false, 20));
        assertThat(again.sessionPresent()).as("Session Present [MQTT-3.2.2-3]").isTrue();
        assertThat(again.nextMessage().text()).isEqualTo("while away");
        pub.publish(topic, "live", 1);
        assertThat(again.nextMessage().text()).as("the subscription is still there").isEqualTo("live");
    }

    // [MQTT-3.1.2-4] Clean Start 1 discards the existing session: Session Present 0, no subscription, nothing queued.
    @Test
    void cleanStart1DiscardsTheSession_MQTT_3_1_2_4() throws Exception {
        String id = Names.clientId("se-clean");
        String topic = Names.topic("se-clean");
        HiveMqV5Client sub = clients.track(HiveMqV5Client.connect(broker, id, false, 20));
        sub.subscribe(topic, 1);
        sub.disconnect();
        TestClient pub = clients.connect(ClientKind.PAHO_V5);
        pub.publish(topic, "queued", 1);
        HiveMqV5Client fresh = clients.track(HiveMqV5Client.connect(broker, id, true, 20));
        assertThat(fresh.sessionPresent()).isFalse();
        assertThat(fresh.pollQuietly()).as("queued message discarded with the session").isNull();
        pub.publish(topic, "after", 1);
        assertThat(fresh.pollQuietly()).as("subscription discarded with the session").isNull();
    }

    // [MQTT-3.1.2-23] Session Expiry Interval 0 (Paho sends 0): the session ends with the network connection, so
    // Clean Start 0 afterwards finds nothing: Session Present 0, the subscription gone.
    @Test
    void expiry0EndsWithTheConnection_MQTT_3_1_2_23() throws Exception {
        String id = Names.clientId("se-zero");
        String topic = Names.topic("se-zero");
        PahoV5Client sub = clients.track(PahoV5Client.connect(broker, id, false, 0));
        sub.subscribe(topic, 1);
        sub.disconnect();
        PahoV5Client again = clients.track(PahoV5Client.connect(broker, id, false, 0));
        assertThat(again.sessionPresent()).isFalse();
        TestClient pub = clients.connect(ClientKind.HIVEMQ_V5);
        pub.publish(topic, "nobody", 1);
        assertThat(again.pollQuietly()).isNull();
    }

    // [MQTT-3.1.2-23] / [MQTT-4.1.0-2] With Session Expiry 1 s the session outlives the connection for that long and
    // is then discarded: a message published before the expiry is not delivered after it, Session Present is 0.
    @Test
    void sessionEndsAfterTheInterval_MQTT_4_1_0_2() throws Exception {
        String id = Names.clientId("se-one");
        String topic = Names.topic("se-one");
        HiveMqV5Client sub = clients.track(HiveMqV5Client.connect(broker, id, false, 1));
        sub.subscribe(topic, 1);
        sub.disconnect();
        assertThat(sessionExists(id)).as("kept after the disconnect").isTrue();
        TestClient pub = clients.connect(ClientKind.PAHO_V5);
        pub.publish(topic, "expires with the session", 1);
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).until(() -> !sessionExists(id));
        HiveMqV5Client again = clients.track(HiveMqV5Client.connect(broker, id, false, 1));
        assertThat(again.sessionPresent()).isFalse();
        assertThat(again.pollQuietly()).isNull();
    }

    // [MQTT-3.1.2-5] Raw bytes: the three combinations on one client id, byte for byte on the Session Present flag.
    // Clean Start 0 + expiry > 0 on a live connection (takeover) also resumes: Session Present 1 [MQTT-3.1.4-3].
    @Test
    void sessionPresentForEachCombination_MQTT_3_2_2_3() {
        String id = "se-raw-" + Names.clientId("x");
        Conn first = conns.connect5(id, false, props(sessionExpiry(10)), 0x00); // new
        Conns.subscribe5(first, 1, props(), "se/raw/t", 1, 0x01);
        Conn second = conns.connect5(id, false, props(sessionExpiry(10)), 0x01); // takeover, resumed
        first.expectDisconnect(0x8E);
        second.send(0xE0, 0x00);
        second.expectClosed();
        Conn third = conns.connect5(id, false, props(sessionExpiry(10)), 0x01); // resumed after a disconnect
        third.send(0xE0, 0x00);
        third.expectClosed();
        Conn fourth = conns.connect5(id, true, props(sessionExpiry(10)), 0x00); // Clean Start 1: discarded
        Conn pub = conns.connect5(id + "p");
        pub.send(Wire.publish5(QOS1, "se/raw/t", 1, props(), "x"));
        pub.expectAck5(0x40, 1);
        fourth.expectNothing();
    }

    // 3.14.2.2.2: the Session Expiry Interval may be changed at DISCONNECT from non-zero to another value. 10 -> 0:
    // the session ends with this connection.
    @Test
    void disconnectChangesExpiryToZero_MQTT_3_1_2_23() {
        String id = "se-d0-" + Names.clientId("x");
        Conn c = conns.connect5(id, false, props(sessionExpiry(10)), 0x00);
        Conns.subscribe5(c, 1, props(), "se/d0/t", 1, 0x01);
        c.send(Wire.packet(0xE0,                           // DISCONNECT
                Wire.b(0x00),                              // reason 0x00 normal
                props(sessionExpiry(0))));                 // Session Expiry Interval 0
        c.expectClosed();
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20)).until(() -> !sessionExists(id));
        conns.connect5(id, false, props(sessionExpiry(10)), 0x00).expectAlive();
    }

    // 3.14.2.2.2: 20 -> 1 at DISCONNECT: the session now ends after 1 s instead of 20 s.
    @Test
    void disconnectShortensTheExpiry_MQTT_4_1_0_2() {
        String id = "se-d1-" + Names.clientId("x");
        Conn c = conns.connect5(id, false, props(sessionExpiry(20)), 0x00);
        Conns.subscribe5(c, 1, props(), "se/d1/t", 1, 0x01);
        c.send(Wire.packet(0xE0,                           // DISCONNECT
                Wire.b(0x00),                              // reason 0x00 normal
                props(sessionExpiry(1))));                 // Session Expiry Interval 1
        c.expectClosed();
        assertThat(sessionExists(id)).isTrue();
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).until(() -> !sessionExists(id));
        conns.connect5(id, false, props(sessionExpiry(20)), 0x00);
    }

    // 3.14.2.2.2: 1 -> 20 at DISCONNECT: the session is still there once the original 1 s has long passed (checked
    // after a session with 1 s from the same moment has expired).
    @Test
    void disconnectLengthensTheExpiry_MQTT_4_1_0_1() {
        String id = "se-d20-" + Names.clientId("x");
        String witness = id + "-w";
        Conn c = conns.connect5(id, false, props(sessionExpiry(1)), 0x00);
        Conns.subscribe5(c, 1, props(), "se/d20/t", 1, 0x01);
        Conn w = conns.connect5(witness, false, props(sessionExpiry(1)), 0x00);
        c.send(Wire.packet(0xE0,                           // DISCONNECT
                Wire.b(0x00),                              // reason 0x00 normal
                props(sessionExpiry(20))));                // Session Expiry Interval 20
        c.expectClosed();
        w.send(0xE0, 0x00);                                // the witness keeps its 1 s
        w.expectClosed();
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).until(() -> !sessionExists(witness));
        assertThat(sessionExists(id)).as("expiry raised to 20 s at DISCONNECT").isTrue();
        Conn again = conns.connect5(id, false, props(sessionExpiry(1)), 0x01);
        again.send(0xE0, 0x00);
    }

    // [MQTT-3.14.2-2] Session Expiry 0 at CONNECT, non-zero at DISCONNECT: Protocol Error, DISCONNECT 0x82 from the
    // server (without a Session Expiry Interval of its own), and the session still ends with the connection.
    @Test
    void expiryFromZeroAtDisconnectIsAProtocolError_MQTT_3_14_2_2() {
        String id = "se-dz-" + Names.clientId("x");
        Conn c = conns.connect5(id, false, props(), 0x00);
        Conns.subscribe5(c, 1, props(), "se/dz/t", 1, 0x01);
        c.send(Wire.packet(0xE0,                           // DISCONNECT
                Wire.b(0x00),                              // reason 0x00 normal
                props(sessionExpiry(30))));                // Session Expiry Interval 30: not allowed
        c.expectDisconnect(0x82);
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20)).until(() -> !sessionExists(id));
        conns.connect5(id, false, props(), 0x00);
    }

    // 3.2.2.3.2: the server caps the Session Expiry Interval (max-session-expiry-seconds 30) and returns the value it
    // uses in CONNACK; a request within the cap gets no Session Expiry Interval in CONNACK. Raw and HiveMQ.
    @Test
    void serverCapIsReturnedInConnack() throws Exception {
        Conn c = conns.open();
        c.send(Wire.connect5("se-cap-" + Names.clientId("x"), 0, 60, props(sessionExpiry(3600))));
        V5.Packet ack = V5.decode(c.read());
        assertThat(ack.reasonCode()).isZero();
        assertThat(ack.props().u32(V5.SESSION_EXPIRY)).isEqualTo(CAP);
        Conn d = conns.open();
        d.send(Wire.connect5("se-nocap-" + Names.clientId("x"), 0, 60, props(sessionExpiry(10))));
        V5.Packet ack2 = V5.decode(d.read());
        assertThat(ack2.props().has(V5.SESSION_EXPIRY)).as(ack2.toString()).isFalse();
        HiveMqV5Client h = clients.track(HiveMqV5Client.connect(broker, Names.clientId("se-caph"), false, 0xFFFF_FFFFL));
        assertThat(h.connAck().getSessionExpiryInterval()).hasValue(CAP);
    }
}
