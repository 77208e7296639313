package io.starling.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.testkit.RawClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Will messages: published when the connection drops, not after a normal DISCONNECT; keep-alive expiry. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class WillTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Clients clients = new Clients(broker);

    @ParameterizedTest
    @ValueSource(ints = {4, 5})
    void willIsPublishedWhenTheSocketDrops(int level) throws Exception { // [MQTT-3.1.2-8]
        String topic = Names.topic("will");
        TestClient sub = clients.connect(ClientKind.PAHO_V311);
        sub.subscribe(topic, 1);
        RawClient raw = clients.raw();
        raw.send(Packets.connectWithWill(level, "will-" + level, Packets.CLEAN | Packets.WILL_QOS1, 60, topic, "gone"));
        assertThat(Packets.u8(raw.readPacket(RawClient.DEFAULT_TIMEOUT), 0)).as("CONNACK").isEqualTo(0x20);
        raw.close();                                 // no DISCONNECT: the network connection just closes
        Msg m = sub.nextMessage();
        assertThat(m.topic()).isEqualTo(topic);
        assertThat(m.text()).isEqualTo("gone");
        assertThat(m.qos()).as("will QoS 1").isEqualTo(1);
        assertThat(m.retain()).as("will retain 0 [MQTT-3.1.2-16]").isFalse();
        assertThat(sub.pollQuietly()).as("published once").isNull();
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 5})
    void willIsNotPublishedAfterNormalDisconnect(int level) throws Exception { // [MQTT-3.1.2-10] [MQTT-3.14.4-3]
        String topic = Names.topic("nowill");
        TestClient sub = clients.connect(ClientKind.PAHO_V311);
        sub.subscribe(topic, 1);
        RawClient raw = clients.raw();
        raw.send(Packets.connectWithWill(level, "nowill-" + level, Packets.CLEAN, 60, topic, "must not appear"));
        assertThat(Packets.u8(raw.readPacket(RawClient.DEFAULT_TIMEOUT), 0)).as("CONNACK").isEqualTo(0x20);
        raw.send(
                0xE0, 0x00);                         // DISCONNECT (v5: no reason code = 0x00 normal disconnection)
        assertThat(raw.awaitClosed(Duration.ofSeconds(5))).isTrue();
        raw.close();
        TestClient pub = clients.connect(ClientKind.PAHO_V311);
        pub.publish(topic, "marker", 1);
        assertThat(sub.nextMessage().text()).as("the first message after the disconnect").isEqualTo("marker");
        assertThat(sub.pollQuietly()).isNull();
    }

    @Test
    void v5DisconnectWithWillMessageReasonPublishesTheWill() throws Exception { // 3.14.2.1 reason code 0x04
        String topic = Names.topic("will04");
        TestClient sub = clients.connect(ClientKind.PAHO_V5);
        sub.subscribe(topic, 1);
        RawClient raw = clients.raw();
        raw.send(Packets.connectWithWill(5, "will04", Packets.CLEAN, 60, topic, "asked for"));
        assertThat(Packets.u8(raw.readPacket(RawClient.DEFAULT_TIMEOUT), 0)).as("CONNACK").isEqualTo(0x20);
        raw.send(
                0xE0, 0x01,                          // DISCONNECT, remaining length 1
                0x04);                               // reason 0x04: Disconnect with Will Message
        Msg m = sub.nextMessage();
        assertThat(m.text()).isEqualTo("asked for");
    }

    @Test
    void retainedWillIsStoredAsRetained() throws Exception { // [MQTT-3.1.2-17]
        String topic = Names.topic("rwill");
        TestClient live = clients.connect(ClientKind.HIVEMQ_V3);
        live.subscribe(topic, 1);
        RawClient raw = clients.raw();
        raw.send(Packets.connectWithWill(4, "rwill", Packets.CLEAN | Packets.WILL_QOS1 | Packets.WILL_RETAIN, 60,
                topic, "last words"));
        raw.expectPacket(0x20, 0x02, 0x00, 0x00);    // CONNACK accepted
        raw.close();
        Msg m = live.nextMessage();
        assertThat(m.text()).isEqualTo("last words");
        assertThat(m.retain()).as("live subscription [MQTT-3.3.1-9]").isFalse();

        TestClient later = clients.connect(ClientKind.HIVEMQ_V5);
        later.subscribe(topic, 1);
        Msg retained = later.nextMessage();
        assertThat(retained.text()).isEqualTo("last words");
        assertThat(retained.retain()).isTrue();
    }

    @Test
    void keepAliveExpiryDisconnectsAndPublishesTheWill() throws Exception { // [MQTT-3.1.2-24] [MQTT-3.1.2-8]
        String topic = Names.topic("ka");
        TestClient sub = clients.connect(ClientKind.PAHO_V311);
        sub.subscribe(topic, 1);
        RawClient raw = clients.raw();
        raw.send(Packets.connectWithWill(4, "ka1", Packets.CLEAN, 1, topic, "timed out")); // keep alive 1 s
        raw.expectPacket(0x20, 0x02, 0x00, 0x00);    // CONNACK accepted
        // ... and then silence: no PINGREQ
        await().atMost(Duration.ofSeconds(10)).until(() -> raw.awaitClosed(Duration.ofMillis(200)));
        assertThat(sub.nextMessage().text()).isEqualTo("timed out");
    }

    @Test
    void keepAliveIsHonouredWhileTheClientPings() { // [MQTT-3.1.2-23]
        RawClient raw = clients.raw();
        raw.send(Packets.connect(4, "ka2", Packets.CLEAN, 1)); // keep alive 1 s
        raw.expectPacket(0x20, 0x02, 0x00, 0x00);
        for (int i = 0; i < 4; i++) {
            assertThat(raw.readPacket(Duration.ofMillis(500))).as("nothing from the server").isNull();
            raw.send(0xC0, 0x00);                    // PINGREQ every ~0.5 s
            raw.expectPacket(0xD0, 0x00);            // PINGRESP
        }
    }

    @Test
    void pahoV3WillIsPublishedWhenItDropsWithoutDisconnect() throws Exception { // [MQTT-3.1.2-8]
        String topic = Names.topic("pwill");
        TestClient sub = clients.connect(ClientKind.HIVEMQ_V5);
        sub.subscribe(topic, 2);
        MqttConnectOptions o = PahoV3Client.options(ClientKind.PAHO_V311, true);
        o.setWill(topic, "paho gone".getBytes(), 2, false);
        PahoV3Client paho = clients.track(PahoV3Client.connect(ClientKind.PAHO_V311, broker, Names.clientId("pw"), o));
        paho.paho().disconnectForcibly(0, 100, false); // close the socket, no DISCONNECT packet
        Msg m = sub.nextMessage();
        assertThat(m.text()).isEqualTo("paho gone");
        assertThat(m.qos()).isEqualTo(2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"mqttv311", "mqttv5"})
    void killedMosquittoSubPublishesItsWill(String version) throws Exception { // [MQTT-3.1.2-8]
        int level = version.equals("mqttv5") ? 5 : 4;
        String topic = Names.topic("kwill");
        TestClient watcher = clients.connect(ClientKind.PAHO_V311);
        watcher.subscribe(topic, 1);
        String sync = Names.topic("ksync");
        BlockingQueue<Msg> received = new LinkedBlockingQueue<>();
        Mosquitto.Sub sub = clients.track(Mosquitto.Sub.start(level, broker, received, List.of(
                "-t", sync, "--will-topic", topic, "--will-payload", "killed", "--will-qos", "1")));
        TestClient pub = clients.connect(ClientKind.PAHO_V311);
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            pub.publish(sync, "probe", 0);           // proves mosquitto_sub is connected and subscribed
            return received.poll(100, TimeUnit.MILLISECONDS) != null;
        });
        sub.kill();                                  // SIGKILL: the TCP connection drops
        assertThat(watcher.nextMessage().text()).isEqualTo("killed");
    }
}
