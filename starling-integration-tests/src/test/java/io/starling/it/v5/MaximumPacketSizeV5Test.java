package io.starling.it.v5;

import static io.starling.it.spec.Wire.QOS1;
import static io.starling.it.spec.Wire.props;
import static io.starling.it.spec.Wire.receiveMaximum;
import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck;
import io.starling.it.BrokerExtension;
import io.starling.it.ClientKind;
import io.starling.it.Clients;
import io.starling.it.Names;
import io.starling.it.TestClient;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import io.starling.testkit.RawClient;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * MQTT 5.0 Maximum Packet Size both ways (3.1.2.11.4, 3.2.2.3.6): the broker's {@code max-packet-size} (256 here) is
 * announced in CONNACK and a larger packet from a client is DISCONNECT 0x95; the broker never sends a client a packet
 * larger than the client declared and drops such a message instead.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MaximumPacketSizeV5Test {

    private static final int MAX = 256;

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension(b -> b.maxPacketSize(MAX));

    @RegisterExtension
    final Clients clients = new Clients(broker);

    @RegisterExtension
    final Conns conns = new Conns(broker);

    private static int[] maxPacketSize(long value) {
        return Wire.cat(Wire.b(0x27), Wire.u32(value));   // Maximum Packet Size
    }

    private static int[] aliasMax(int value) {
        return Wire.cat(Wire.b(0x22), Wire.u16(value));   // Topic Alias Maximum
    }

    /** A QoS 0 PUBLISH (no properties) of exactly {@code size} bytes on the wire (size < 130). */
    private static int[] publishOfSize(int flags, String topic, int packetId, int size) {
        int overhead = 2 + 2 + topic.length() + (packetId > 0 ? 2 : 0) + 1;
        return Wire.publish5(flags, topic, packetId, props(), "x".repeat(size - overhead));
    }

    // 3.2.2.3.6: CONNACK carries Maximum Packet Size 256 (raw bytes and HiveMQ's view of it).
    @Test
    void connackAnnouncesMaximumPacketSize_MQTT_3_2_2_15() throws Exception {
        Conn c = conns.open();
        c.send(Wire.connect5("mps-cx", Wire.CLEAN, 60, props()));
        V5.Packet ack = V5.decode(c.read());
        assertThat(ack.props().u32(V5.MAXIMUM_PACKET_SIZE)).as(ack.toString()).isEqualTo((long) MAX);
        Mqtt5AsyncClient h = Mqtt5Client.builder().identifier(Names.clientId("mps-h")).serverHost(broker.host())
                .serverPort(broker.port()).buildAsync();
        Mqtt5ConnAck connAck = h.connect().get(10, TimeUnit.SECONDS);
        try {
            assertThat(connAck.getRestrictions().getMaximumPacketSize()).isEqualTo(MAX);
        } finally {
            h.disconnect().get(10, TimeUnit.SECONDS);
        }
    }

    // [MQTT-3.2.2-15] (the client must not exceed it; the broker enforces): a PUBLISH of exactly 256 bytes is
    // accepted, one of 257 bytes gets DISCONNECT 0x95 (Packet too large).
    @Test
    void inboundPacketAboveTheMaximumIs0x95_MQTT_3_2_2_15() {
        Conn c = conns.connect5("mps-in");
        String payload256 = "y".repeat(MAX - 3 - 2 - 6 - 2 - 1); // header 3, topic 2+6, packet id 2, props 1
        int[] exact = Wire.publish5(QOS1, "mps/in", 1, props(), payload256);
        assertThat(exact.length).isEqualTo(MAX);
        c.send(exact);
        c.expectAck5(0x40, 1);
        c.send(Wire.publish5(QOS1, "mps/in", 2, props(), payload256 + "!"));
        c.expectDisconnect(0x95);
    }

    // [MQTT-3.1.2-24] The broker never sends more than the client's Maximum Packet Size (64): [MQTT-3.1.2-25] a
    // larger message is dropped as if sent, the ones that fit (64 bytes exactly, and smaller) are delivered. With
    // Receive Maximum 1, the dropped QoS 1 message does not hold the window.
    @Test
    void largerMessagesAreDroppedForTheClient_MQTT_3_1_2_25() {
        Conn sub = conns.connect5("mps-out", true, props(maxPacketSize(64), receiveMaximum(1)), 0x00);
        Conns.subscribe5(sub, 1, props(), "mps/out", 0x01, 0x01);
        Conn pub = conns.connect5("mps-out-p");
        pub.send(Wire.publish5(QOS1, "mps/out", 1, props(), "small"));
        pub.expectAck5(0x40, 1);
        int a = sub.expectPublish5(QOS1, "mps/out", props(), "small");
        sub.send(0x40, 0x02, a >> 8, a & 0xFF);
        pub.send(Wire.publish5(QOS1, "mps/out", 2, props(), "L".repeat(100)));
        pub.expectAck5(0x40, 2);
        int[] fits = publishOfSize(QOS1, "mps/out", 9, 64);
        pub.send(Wire.publish5(QOS1, "mps/out", 3, props(), Conn.Pub.parse(Wire.toBytes(fits), true).text()));
        pub.expectAck5(0x40, 3);
        byte[] got = sub.read();
        assertThat(got.length).as("exactly the client's maximum").isEqualTo(64);
        Conn.Pub p = Conn.Pub.parse(got, true);
        assertThat(p.text()).startsWith("xxx");           // the large one was skipped
        sub.send(0x40, 0x02, p.packetId() >> 8, p.packetId() & 0xFF);
        sub.expectNothing();
    }

    // [MQTT-3.1.2-25] Real client: HiveMQ declares Maximum Packet Size 100 (it would treat a larger packet as a
    // protocol error); a 200-byte message published by Paho is not sent to it, the next small one is, and HiveMQ
    // stays connected.
    @Test
    void hivemqDoesNotGetMessagesAboveItsMaximum_MQTT_3_1_2_24() throws Exception {
        String topic = Names.topic("mps-h");
        Mqtt5AsyncClient h = Mqtt5Client.builder().identifier(Names.clientId("mps-hs")).serverHost(broker.host())
                .serverPort(broker.port()).buildAsync();
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        h.connectWith().restrictions().maximumPacketSize(100).applyRestrictions().send().get(10, TimeUnit.SECONDS);
        try {
            h.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE)
                    .callback(p -> got.add(new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8)))
                    .send().get(10, TimeUnit.SECONDS);
            TestClient pub = clients.connect(ClientKind.PAHO_V5);
            pub.publish(topic, "B".repeat(200), 1);
            pub.publish(topic, "after", 1);
            assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("after");
            assertThat(got.poll(500, TimeUnit.MILLISECONDS)).isNull();
            assertThat(h.getState().isConnected()).isTrue();
        } finally {
            h.disconnect().get(10, TimeUnit.SECONDS);
        }
    }

    // [MQTT-3.14.2-3] A server DISCONNECT whose Reason String would exceed the client's Maximum Packet Size goes
    // without it: with Maximum Packet Size 16 the DISCONNECT 0x94 (alias 0) is at most 16 bytes.
    @Test
    void disconnectReasonStringIsLeftOutWhenTooLarge_MQTT_3_14_2_3() {
        Conn c = conns.connect5("mps-dis", true, props(maxPacketSize(16)), 0x00);
        c.send(Wire.publish5(0, "mps/dis", 0, props(Wire.b(0x23), Wire.u16(0)), "x"));
        byte[] d = c.expectDisconnect(0x94);
        assertThat(d.length).as(RawClient.hex(d)).isLessThanOrEqualTo(16);
        assertThat(V5.decode(d).props().has(V5.REASON_STRING)).isFalse();
    }

    // [MQTT-3.1.2-24] with an outbound Topic Alias: the size check must hold for the packet as sent. The client
    // declares Maximum Packet Size 64 and Topic Alias Maximum 1; a message that is exactly 64 bytes without an alias
    // must reach it at no more than 64 bytes (sent without an alias, or not at all), never 67 with the alias added.
    @Test
    void topicAliasDoesNotPushAPacketAboveTheMaximum_MQTT_3_1_2_24() {
        Conn sub = conns.connect5("mps-al", true, props(maxPacketSize(64), aliasMax(1)), 0x00);
        Conns.subscribe5(sub, 1, props(), "mps/al", 0x00, 0x00);
        Conn pub = conns.connect5("mps-al-p");
        pub.send(publishOfSize(0, "mps/al", 0, 64));
        pub.send(Wire.publish5(0, "mps/al", 0, props(), "marker"));
        byte[] first = sub.read();
        assertThat(first.length).as("first packet sent: " + RawClient.hex(first)).isLessThanOrEqualTo(64);
    }
}
