package io.starling.it.v5;

import static io.starling.it.spec.Wire.QOS1;
import static io.starling.it.spec.Wire.QOS2;
import static io.starling.it.spec.Wire.RETAIN;
import static io.starling.it.spec.Wire.props;
import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAckRestrictions;
import io.starling.it.BrokerExtension;
import io.starling.it.Clients;
import io.starling.it.HiveMqV5Client;
import io.starling.it.Names;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import io.starling.server.StarlingServer;
import io.starling.testkit.RawClient;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * MQTT 5.0 CONNACK capabilities (3.2.2.3), each backed by configuration and enforced: the class's broker runs with
 * maximum-qos 1, retain-available false, wildcard-, subscription-identifier- and shared-subscriptions-available
 * false, max-keep-alive-seconds 30, receive-maximum 20, max-packet-size 1000, topic-alias-maximum 5.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CapabilitiesV5Test {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension(b -> b.maximumQos(1).retainAvailable(false)
            .wildcardSubscriptionsAvailable(false).subscriptionIdentifiersAvailable(false)
            .sharedSubscriptionsAvailable(false).maxKeepAliveSeconds(30).receiveMaximum(20).maxPacketSize(1000)
            .topicAliasMaximum(5));

    @RegisterExtension
    final Clients clients = new Clients(broker);

    @RegisterExtension
    final Conns conns = new Conns(broker);

    private V5.Packet connack(String clientId, int keepAlive) {
        Conn c = conns.open();
        c.send(Wire.connect5(clientId, Wire.CLEAN, keepAlive, props()));
        return V5.decode(c.read());
    }

    // Every capability of the configuration in CONNACK, byte for byte per property (raw).
    @Test
    void connackAnnouncesEveryConfiguredCapability_MQTT_3_2_2_11() {
        V5.Packet ack = connack("cap-all", 60);
        V5.Props p = ack.props();
        assertThat(ack.reasonCode()).isZero();
        assertThat(p.integer(V5.MAXIMUM_QOS)).isEqualTo(1);
        assertThat(p.integer(V5.RETAIN_AVAILABLE)).isEqualTo(0);
        assertThat(p.integer(V5.WILDCARD_AVAILABLE)).isEqualTo(0);
        assertThat(p.integer(V5.SUBSCRIPTION_ID_AVAILABLE)).isEqualTo(0);
        assertThat(p.integer(V5.SHARED_AVAILABLE)).isEqualTo(0);
        assertThat(p.integer(V5.SERVER_KEEP_ALIVE)).as("keep alive 60 > max 30 [MQTT-3.2.2-21]").isEqualTo(30);
        assertThat(p.integer(V5.RECEIVE_MAXIMUM)).isEqualTo(20);
        assertThat(p.u32(V5.MAXIMUM_PACKET_SIZE)).isEqualTo(1000L);
        assertThat(p.integer(V5.TOPIC_ALIAS_MAXIMUM)).isEqualTo(5);
    }

    // With the defaults none of the restricting properties is sent (absent = supported / no limit).
    @Test
    void defaultBrokerAnnouncesNoRestrictions_MQTT_3_2_2_11() {
        try (StarlingServer defaults = V5.startServer(b -> { });
                RawClient c = V5.raw(defaults)) {
            c.send(Wire.connect5("cap-def", Wire.CLEAN, 60, props()));
            V5.Packet ack = V5.decode(c.readPacket(RawClient.DEFAULT_TIMEOUT));
            assertThat(ack.props().ids()).as(ack.toString()).doesNotContain(V5.MAXIMUM_QOS, V5.RETAIN_AVAILABLE,
                    V5.WILDCARD_AVAILABLE, V5.SUBSCRIPTION_ID_AVAILABLE, V5.SHARED_AVAILABLE, V5.SERVER_KEEP_ALIVE,
                    V5.RECEIVE_MAXIMUM);
        }
    }

    // HiveMQ reads the same restrictions from the CONNACK.
    @Test
    void hivemqSeesTheRestrictions_MQTT_3_2_2_11() throws Exception {
        HiveMqV5Client h = clients.track(HiveMqV5Client.connect(broker, Names.clientId("cap-h"), true, 0));
        Mqtt5ConnAck ack = h.connAck();
        Mqtt5ConnAckRestrictions r = ack.getRestrictions();
        assertThat(r.getMaximumQos()).isEqualTo(MqttQos.AT_LEAST_ONCE);
        assertThat(r.isRetainAvailable()).isFalse();
        assertThat(r.isWildcardSubscriptionAvailable()).isFalse();
        assertThat(r.areSubscriptionIdentifiersAvailable()).isFalse();
        assertThat(r.isSharedSubscriptionAvailable()).isFalse();
        assertThat(r.getReceiveMaximum()).isEqualTo(20);
        assertThat(r.getMaximumPacketSize()).isEqualTo(1000);
        assertThat(r.getTopicAliasMaximum()).isEqualTo(5);
        assertThat(ack.getServerKeepAlive()).hasValue(30);
    }

    // [MQTT-3.2.2-21] Server Keep Alive: keep alive 0 (none) and 60 (above 30) are answered with 30; 10 is accepted
    // as it is (no Server Keep Alive).
    @Test
    void serverKeepAlive_MQTT_3_2_2_21() {
        assertThat(connack("cap-ka0", 0).props().integer(V5.SERVER_KEEP_ALIVE)).isEqualTo(30);
        assertThat(connack("cap-ka60", 60).props().integer(V5.SERVER_KEEP_ALIVE)).isEqualTo(30);
        assertThat(connack("cap-ka10", 10).props().has(V5.SERVER_KEEP_ALIVE)).isFalse();
    }

    // [MQTT-3.2.2-11] Maximum QoS 1: a QoS 2 PUBLISH gets DISCONNECT 0x9B (QoS not supported); QoS 1 is fine.
    @Test
    void publishAboveMaximumQos_MQTT_3_2_2_11() {
        Conn c = conns.connect5("cap-q2");
        c.send(Wire.publish5(QOS1, "cap/q", 1, props(), "ok"));
        c.expectAck5(0x40, 1);
        c.send(Wire.publish5(QOS2, "cap/q", 2, props(), "too high"));
        c.expectDisconnect(0x9B);
    }

    // [MQTT-3.8.4-6] / 3.2.2.3.4: a QoS 2 subscription is granted QoS 1, and QoS 1 messages arrive at QoS 1.
    @Test
    void subscribeQos2IsGrantedQos1_MQTT_3_2_2_11() {
        Conn c = conns.connect5("cap-sq2");
        Conns.subscribe5(c, 1, props(), "cap/sq", 0x02, 0x01);
        Conn pub = conns.connect5("cap-sq2p");
        pub.send(Wire.publish5(QOS1, "cap/sq", 1, props(), "m"));
        pub.expectAck5(0x40, 1);
        c.expectPublish5(QOS1, "cap/sq", props(), "m");
    }

    // [MQTT-3.2.2-12] A Will with QoS 2 above Maximum QoS 1: CONNACK 0x9B, connection closed.
    @Test
    void willAboveMaximumQos_MQTT_3_2_2_12() {
        Conn c = conns.open();
        c.send(Wire.connect5Will("cap-wq2", Wire.CLEAN | Wire.WILL | Wire.WILL_QOS2, 60, props(), props(), "cap/w", "w"));
        c.expectConnackRefusal(0x9B);
    }

    // [MQTT-3.2.2-14] Retain Available 0: a PUBLISH with RETAIN 1 gets DISCONNECT 0x9A (Retain not supported).
    @Test
    void retainedPublishWhenRetainIsUnavailable_MQTT_3_2_2_14() {
        Conn c = conns.connect5("cap-ret");
        c.send(Wire.publish5(RETAIN, "cap/ret", 0, props(), "r"));
        c.expectDisconnect(0x9A);
    }

    // [MQTT-3.2.2-13] Retain Available 0: a Will with Will Retain 1 gets CONNACK 0x9A.
    @Test
    void retainedWillWhenRetainIsUnavailable_MQTT_3_2_2_13() {
        Conn c = conns.open();
        c.send(Wire.connect5Will("cap-wret", Wire.CLEAN | Wire.WILL | Wire.WILL_RETAIN, 60, props(), props(), "cap/w", "w"));
        c.expectConnackRefusal(0x9A);
    }

    // 3.2.2.3.11: Wildcard Subscription Available 0: filters with + or # get SUBACK 0xA2, a plain filter in the same
    // SUBSCRIBE is granted.
    @Test
    void wildcardSubscriptionRefused_MQTT_3_8_4_6() {
        Conn c = conns.connect5("cap-wild");
        c.send(Wire.packet(0x82,                           // SUBSCRIBE
                Wire.u16(1),                               // packet id
                props(),                                   // no properties
                Wire.str("cap/+"), Wire.b(0x01),           // wildcard +
                Wire.str("cap/plain"), Wire.b(0x01),       // plain
                Wire.str("cap/#"), Wire.b(0x00)));         // wildcard #
        c.expect(Wire.packet(0x90, Wire.u16(1), Wire.b(0x00), Wire.b(0xA2, 0x01, 0xA2)));
    }

    // 3.2.2.3.12: Subscription Identifiers Available 0: a SUBSCRIBE with a Subscription Identifier is a Protocol
    // Error that the server answers with DISCONNECT 0xA1 (Subscription Identifiers not supported).
    @Test
    void subscriptionIdentifierRefused_MQTT_3_8_2_1() {
        Conn c = conns.connect5("cap-sid");
        c.send(Wire.subscribe5(1, props(Wire.subscriptionId(1)), "cap/sid", 0x00));
        c.expectDisconnect(0xA1);
    }

    // 3.2.2.3.13: Shared Subscription Available 0: a $share filter gets SUBACK 0x9E.
    @Test
    void sharedSubscriptionRefused_MQTT_3_8_4_6() {
        Conn c = conns.connect5("cap-sh");
        Conns.subscribe5(c, 1, props(), "$share/g/cap/sh", 0x01, 0x9E);
        Conns.subscribe5(c, 2, props(), "cap/sh", 0x01, 0x01);
        c.expectAlive();
    }

    // HiveMQ's view of a refused subscription.
    @Test
    void hivemqGetsTheSubackCodes_MQTT_3_8_4_6() throws Exception {
        HiveMqV5Client h = clients.track(HiveMqV5Client.connect(broker, Names.clientId("cap-hs"), true, 0));
        assertThat(V5.hivemqSubscribe(h.hivemq(), "$share/g/cap/x", "cap/x")).containsExactly(0x9E, 0x01);
    }
}
