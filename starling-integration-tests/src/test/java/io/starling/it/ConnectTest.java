package io.starling.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.testkit.RawClient;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** CONNECT handling: client identifiers, session takeover, CONNACK. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConnectTest {

    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Clients clients = new Clients(broker);

    @Test
    void zeroLengthClientIdWithCleanSessionIsAccepted() { // [MQTT-3.1.3-6] [MQTT-3.1.3-7]
        RawClient raw = clients.raw();
        raw.send(
                0x10, 0x0C,                          // CONNECT, remaining length 12
                0x00, 0x04, 'M', 'Q', 'T', 'T',      // protocol name
                0x04,                                // level 4 (3.1.1)
                0x02,                                // flags: clean session
                0x00, 0x3C,                          // keep alive 60 s
                0x00, 0x00);                         // client id "" (zero length)
        raw.expectPacket(
                0x20, 0x02,                          // CONNACK
                0x00,                                // session present 0 [MQTT-3.2.2-1]
                0x00);                               // accepted
        raw.send(0xC0, 0x00);                        // PINGREQ: the connection is usable
        raw.expectPacket(0xD0, 0x00);                // PINGRESP
    }

    @Test
    void zeroLengthClientIdWithoutCleanSessionIsRejected() { // [MQTT-3.1.3-8]
        RawClient raw = clients.raw();
        raw.send(
                0x10, 0x0C,                          // CONNECT, remaining length 12
                0x00, 0x04, 'M', 'Q', 'T', 'T',      // protocol name
                0x04,                                // level 4 (3.1.1)
                0x00,                                // flags: clean session 0
                0x00, 0x3C,                          // keep alive 60 s
                0x00, 0x00);                         // client id "" (zero length)
        raw.expectPacket(
                0x20, 0x02,                          // CONNACK
                0x00,                                // session present 0 [MQTT-3.2.2-4]
                0x02);                               // 0x02 identifier rejected
        assertThat(raw.awaitClosed(CLOSE_TIMEOUT)).isTrue();
    }

    @Test
    void pahoV5ZeroLengthClientIdGetsAssignedClientIdentifier() throws Exception { // [MQTT-3.2.2-16] (v5)
        PahoV5Client c = clients.track(PahoV5Client.connect(broker, "", true, 0));
        assertThat(c.connAckProperties().getAssignedClientIdentifier()).isNotBlank();
        assertThat(c.sessionPresent()).isFalse();
    }

    @Test
    void hiveMqV5ZeroLengthClientIdGetsAssignedClientIdentifier() throws Exception { // [MQTT-3.2.2-16] (v5)
        HiveMqV5Client c = clients.track(HiveMqV5Client.connect(broker, "", true, 0));
        assertThat(c.connAck().getAssignedClientIdentifier()).isPresent();
        assertThat(c.connAck().getAssignedClientIdentifier().get().toString()).isNotBlank();
    }

    @Test
    void assignedClientIdentifiersAreDistinct() throws Exception { // [MQTT-3.1.3-6]
        PahoV5Client a = clients.track(PahoV5Client.connect(broker, "", true, 0));
        PahoV5Client b = clients.track(PahoV5Client.connect(broker, "", true, 0));
        assertThat(a.connAckProperties().getAssignedClientIdentifier())
                .isNotEqualTo(b.connAckProperties().getAssignedClientIdentifier());
        assertThat(a.paho().isConnected()).isTrue();
        assertThat(b.paho().isConnected()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(value = ClientKind.class, names = {"PAHO_V31", "PAHO_V311"})
    void sessionTakeoverClosesTheFirstPahoV3Client(ClientKind kind) throws Exception { // [MQTT-3.1.4-2]
        String id = Names.clientId("take");
        PahoV3Client first = (PahoV3Client) clients.connect(kind, id, true, 0);
        PahoV3Client second = (PahoV3Client) clients.connect(kind, id, true, 0);
        assertThat(first.connectionLost().poll(10, TimeUnit.SECONDS)).as("first client's connection lost").isNotNull();
        assertThat(second.paho().isConnected()).isTrue();
        String topic = Names.topic("take");
        second.subscribe(topic, 1);
        second.publish(topic, "still here", 1);
        assertThat(second.nextMessage().text()).isEqualTo("still here");
    }

    /** Mosquitto 2.0.11 sends no DISCONNECT on takeover: Paho reports a lost connection (code 0), this fails. */
    @Test
    void sessionTakeoverSendsDisconnect8EToPahoV5() throws Exception { // [MQTT-3.1.4-3] (v5 numbering)
        String id = Names.clientId("take5");
        PahoV5Client first = (PahoV5Client) clients.connect(ClientKind.PAHO_V5, id, true, 0);
        PahoV5Client second = (PahoV5Client) clients.connect(ClientKind.PAHO_V5, id, true, 0);
        MqttDisconnectResponse response = first.disconnects().poll(10, TimeUnit.SECONDS);
        assertThat(response).as("disconnected callback").isNotNull();
        assertThat(response.getReturnCode()).as("Session taken over; " + response + " " + response.getException())
                .isEqualTo(0x8E);
        assertThat(second.paho().isConnected()).isTrue();
    }

    @Test
    void sessionTakeoverClosesTheFirstHiveMqClient() throws Exception { // [MQTT-3.1.4-2]
        String id = Names.clientId("takeh");
        HiveMqV5Client first = (HiveMqV5Client) clients.connect(ClientKind.HIVEMQ_V5, id, true, 0);
        clients.connect(ClientKind.HIVEMQ_V5, id, true, 0);
        await().atMost(Duration.ofSeconds(10)).until(() -> !first.hivemq().getState().isConnected());
    }

    @Test
    void sessionTakeoverClosesTheFirstRawConnection() { // [MQTT-3.1.4-2]
        RawClient first = clients.raw();
        first.send(Packets.connect(4, "dup-id", Packets.CLEAN, 60)); // CONNECT 3.1.1 "dup-id"
        first.expectPacket(0x20, 0x02, 0x00, 0x00);                // CONNACK accepted
        RawClient second = clients.raw();
        second.send(Packets.connect(4, "dup-id", Packets.CLEAN, 60)); // the same client id again
        second.expectPacket(0x20, 0x02, 0x00, 0x00);
        assertThat(first.awaitClosed(CLOSE_TIMEOUT)).isTrue();
        second.send(0xC0, 0x00);                     // PINGREQ
        second.expectPacket(0xD0, 0x00);             // PINGRESP: the new connection lives on
    }

    /** Mosquitto 2.0.11 closes the first connection without a DISCONNECT packet, so this fails against it. */
    @Test
    void sessionTakeoverSendsRawDisconnect8EOnV5() { // [MQTT-3.1.4-3] (v5 numbering)
        RawClient first = clients.raw();
        first.send(Packets.connect(5, "dup-v5", Packets.CLEAN, 60)); // CONNECT v5 "dup-v5", no properties
        assertThat(Packets.u8(first.readPacket(RawClient.DEFAULT_TIMEOUT), 0)).isEqualTo(0x20); // CONNACK
        RawClient second = clients.raw();
        second.send(Packets.connect(5, "dup-v5", Packets.CLEAN, 60)); // the same client id again
        assertThat(Packets.u8(second.readPacket(RawClient.DEFAULT_TIMEOUT), 0)).isEqualTo(0x20);
        byte[] disconnect = first.readPacket(RawClient.DEFAULT_TIMEOUT);
        assertThat(disconnect).as("DISCONNECT to the first connection").isNotNull();
        assertThat(Packets.u8(disconnect, 0)).as("DISCONNECT").isEqualTo(0xE0);
        assertThat(Packets.u8(disconnect, Packets.bodyOffset(disconnect))).as("reason code").isEqualTo(0x8E);
        assertThat(first.awaitClosed(CLOSE_TIMEOUT)).isTrue();
    }

    @Test
    void v5ConnackForCleanStartHasSessionPresent0() {
        RawClient raw = clients.raw();
        raw.send(
                0x10, 0x0F,                          // CONNECT, remaining length 15
                0x00, 0x04, 'M', 'Q', 'T', 'T',      // protocol name
                0x05,                                // level 5
                0x02,                                // flags: clean start
                0x00, 0x3C,                          // keep alive 60 s
                0x00,                                // property length 0
                0x00, 0x02, 'v', '5');               // client id "v5"
        byte[] connack = raw.readPacket(RawClient.DEFAULT_TIMEOUT);
        assertThat(connack).isNotNull();
        int off = Packets.bodyOffset(connack);
        assertThat(Packets.u8(connack, 0)).isEqualTo(0x20);          // CONNACK
        assertThat(Packets.u8(connack, off)).isEqualTo(0x00);        // session present 0 [MQTT-3.2.2-2] (v5)
        assertThat(Packets.u8(connack, off + 1)).isEqualTo(0x00);    // reason code 0x00 success
    }
}
