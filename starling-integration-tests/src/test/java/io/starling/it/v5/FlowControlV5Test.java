package io.starling.it.v5;

import static io.starling.it.spec.Wire.QOS1;
import static io.starling.it.spec.Wire.QOS2;
import static io.starling.it.spec.Wire.props;
import static io.starling.it.spec.Wire.receiveMaximum;
import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck;
import io.starling.it.BrokerExtension;
import io.starling.it.ClientKind;
import io.starling.it.Clients;
import io.starling.it.HiveMqV5Client;
import io.starling.it.Msg;
import io.starling.it.Names;
import io.starling.it.TestClient;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * MQTT 5.0 flow control (4.9, 3.3.4): the client's Receive Maximum caps the broker's unacknowledged QoS 1/2 sends;
 * the broker's Receive Maximum (config {@code receive-maximum: 2}, announced in CONNACK) caps what a client may have
 * unacknowledged towards it, more is DISCONNECT 0x93.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FlowControlV5Test {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension(b -> b.receiveMaximum(2));

    @RegisterExtension
    final Clients clients = new Clients(broker);

    @RegisterExtension
    final Conns conns = new Conns(broker);

    private static void puback(Conn c, int id) {
        c.send(0x40, 0x02, id >> 8, id & 0xFF);
    }

    // [MQTT-3.3.4-9] / [MQTT-4.9.0-2] Client Receive Maximum 2, QoS 1: exactly 2 PUBLISH arrive while none is
    // acknowledged; each PUBACK lets exactly one more through, in order [MQTT-4.6.0-6].
    @Test
    void clientReceiveMaximumCapsQos1_MQTT_3_3_4_9() {
        Conn sub = conns.connect5("fc-q1", true, props(receiveMaximum(2)), 0x00);
        Conns.subscribe5(sub, 1, props(), "fc/q1", 0x01, 0x01);
        Conn pub = conns.connect5("fc-q1-p");
        for (int i = 1; i <= 5; i++) {
            pub.send(Wire.publish5(QOS1, "fc/q1", i, props(), "m" + i));
            pub.expectAck5(0x40, i);
        }
        int m1 = sub.expectPublish5(QOS1, "fc/q1", props(), "m1");
        sub.expectPublish5(QOS1, "fc/q1", props(), "m2");
        sub.expectNothing();                               // the 3rd waits
        puback(sub, m1);
        int m3 = sub.expectPublish5(QOS1, "fc/q1", props(), "m3");
        sub.expectNothing();                               // still 2 outstanding (m2, m3)
        puback(sub, m3);
        sub.expectPublish5(QOS1, "fc/q1", props(), "m4");
        sub.expectNothing();
    }

    // [MQTT-4.9.0-2] QoS 2: a slot is freed by PUBCOMP, not by PUBREC (Receive Maximum 1 here).
    @Test
    void clientReceiveMaximumCapsQos2UntilPubcomp_MQTT_4_9_0_2() {
        Conn sub = conns.connect5("fc-q2", true, props(receiveMaximum(1)), 0x00);
        Conns.subscribe5(sub, 1, props(), "fc/q2", 0x02, 0x02);
        Conn pub = conns.connect5("fc-q2-p");
        for (int i = 1; i <= 2; i++) {
            pub.send(Wire.publish5(QOS2, "fc/q2", i, props(), "m" + i));
            pub.expectAck5(0x50, i);
            pub.send(0x62, 0x02, 0x00, i);                 // PUBREL
            pub.expect(0x70, 0x02, 0x00, i);               // PUBCOMP
        }
        int a = sub.expectPublish5(QOS2, "fc/q2", props(), "m1");
        sub.expectNothing();
        sub.send(0x50, 0x02, a >> 8, a & 0xFF);            // PUBREC
        sub.expect(0x62, 0x02, a >> 8, a & 0xFF);          // PUBREL
        sub.expectNothing();                               // still one unacknowledged QoS 2 flow
        sub.send(0x70, 0x02, a >> 8, a & 0xFF);            // PUBCOMP
        sub.expectPublish5(QOS2, "fc/q2", props(), "m2");
    }

    // Real clients: a HiveMQ subscriber announcing Receive Maximum 1 still gets a burst of 20 QoS 1 messages from
    // another HiveMQ client (which keeps to the broker's Receive Maximum 2), complete and in order.
    @Test
    void hivemqWithReceiveMaximum1GetsEverything_MQTT_3_3_4_9() throws Exception {
        String topic = Names.topic("fc-h");
        com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient h = com.hivemq.client.mqtt.mqtt5.Mqtt5Client.builder()
                .identifier(Names.clientId("fc-h")).serverHost(broker.host()).serverPort(broker.port()).buildAsync();
        java.util.concurrent.BlockingQueue<String> got = new java.util.concurrent.LinkedBlockingQueue<>();
        h.connectWith().restrictions().receiveMaximum(1).applyRestrictions().send().get(10, TimeUnit.SECONDS);
        try {
            h.subscribeWith().topicFilter(topic).qos(com.hivemq.client.mqtt.datatypes.MqttQos.AT_LEAST_ONCE)
                    .callback(p -> got.add(new String(p.getPayloadAsBytes(), java.nio.charset.StandardCharsets.UTF_8)))
                    .send().get(10, TimeUnit.SECONDS);
            TestClient pub = clients.connect(ClientKind.HIVEMQ_V5);
            for (int i = 0; i < 20; i++) {
                pub.publish(topic, "n" + i, 1);
            }
            for (int i = 0; i < 20; i++) {
                assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("n" + i);
            }
        } finally {
            h.disconnect().get(10, TimeUnit.SECONDS);
        }
    }

    // 3.2.2.3.3: CONNACK announces the broker's Receive Maximum, 2 here (raw bytes and HiveMQ).
    @Test
    void connackAnnouncesReceiveMaximum_MQTT_3_3_4_7() throws Exception {
        Conn c = conns.open();
        c.send(Wire.connect5("fc-cx", Wire.CLEAN, 60, props()));
        V5.Packet ack = V5.decode(c.read());
        assertThat(ack.props().integer(V5.RECEIVE_MAXIMUM)).as(ack.toString()).isEqualTo(2);
        HiveMqV5Client h = clients.track(HiveMqV5Client.connect(broker, Names.clientId("fc-hcx"), true, 0));
        Mqtt5ConnAck connAck = h.connAck();
        assertThat(connAck.getRestrictions().getReceiveMaximum()).isEqualTo(2);
    }

    // [MQTT-3.3.4-7] (server side, 3.3.4): a client with more unacknowledged QoS 2 PUBLISH (no PUBREL) than the
    // broker's Receive Maximum 2 gets DISCONNECT 0x93 (Receive Maximum exceeded). A completed flow frees its slot.
    @Test
    void exceedingTheBrokersReceiveMaximumIs0x93_MQTT_3_3_4_7() {
        Conn c = conns.connect5("fc-over");
        c.send(Wire.publish5(QOS2, "fc/over", 1, props(), "1"));
        c.expectAck5(0x50, 1);
        c.send(Wire.publish5(QOS2, "fc/over", 2, props(), "2"));
        c.expectAck5(0x50, 2);
        c.send(0x62, 0x02, 0x00, 0x01);                    // PUBREL 1
        c.expect(0x70, 0x02, 0x00, 0x01);                  // PUBCOMP 1: one slot free again
        c.send(Wire.publish5(QOS2, "fc/over", 3, props(), "3"));
        c.expectAck5(0x50, 3);                             // 2 and 3 outstanding: at the maximum, fine
        c.send(Wire.publish5(QOS2, "fc/over", 4, props(), "4"));
        c.expectDisconnect(0x93);
    }

    // The same limit does not count QoS 1 PUBLISH the broker already acknowledged: 5 QoS 1 in a row are fine.
    @Test
    void acknowledgedQos1DoesNotCount_MQTT_3_3_4_7() throws Exception {
        TestClient pub = clients.connect(ClientKind.HIVEMQ_V5);
        TestClient sub = clients.connect(ClientKind.PAHO_V5);
        String topic = Names.topic("fc-q1ok");
        sub.subscribe(topic, 1);
        for (int i = 0; i < 5; i++) {
            pub.publish(topic, "k" + i, 1);
        }
        List<Msg> got = sub.nextMessages(5);
        assertThat(got).extracting(Msg::text).containsExactly("k0", "k1", "k2", "k3", "k4");
    }
}
