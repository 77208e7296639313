package io.starling.it.v5;

import static io.starling.it.spec.Wire.QOS1;
import static io.starling.it.spec.Wire.props;
import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import io.starling.it.BrokerExtension;
import io.starling.it.Names;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import io.starling.server.StarlingServer;
import io.starling.testkit.RawClient;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * MQTT 5.0 Topic Aliases (3.3.2.3.4) both ways. Inbound: up to the broker's Topic Alias Maximum (default 10).
 * Outbound, the documented policy (docs/architecture.md): the first N distinct topics sent on a connection, N being
 * the client's Topic Alias Maximum, get aliases 1..N for the connection's lifetime (first PUBLISH: topic + alias,
 * later: empty topic + alias); further topics go in full.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TopicAliasV5Test {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Conns conns = new Conns(broker);

    private static int[] alias(int value) {
        return Wire.cat(Wire.b(0x23), Wire.u16(value));   // Topic Alias
    }

    private static int[] aliasMax(int value) {
        return Wire.cat(Wire.b(0x22), Wire.u16(value));   // Topic Alias Maximum
    }

    // [MQTT-3.3.2-12] The server accepts an alias from 1 to its maximum: set with topic + alias, then used with an
    // empty topic; a non-empty topic re-maps it. The subscriber (no Topic Alias Maximum of its own) gets every
    // message with the full topic and no alias [MQTT-3.1.2-27].
    @Test
    void inboundAliasSetThenUsed_MQTT_3_3_2_12() {
        Conn sub = conns.subscriber5("ta-in-sub", "ta/in/#", 0x00);
        Conn pub = conns.connect5("ta-in-pub");
        pub.send(Wire.publish5(0, "ta/in/a", 0, props(alias(1)), "1"));    // set alias 1
        pub.send(Wire.publish5(0, "", 0, props(alias(1)), "2"));           // use alias 1
        pub.send(Wire.publish5(0, "ta/in/b", 0, props(alias(10)), "3"));   // the maximum, 10
        pub.send(Wire.publish5(0, "", 0, props(alias(10)), "4"));
        pub.send(Wire.publish5(0, "ta/in/c", 0, props(alias(1)), "5"));    // re-map alias 1
        pub.send(Wire.publish5(QOS1, "", 7, props(alias(1)), "6"));
        pub.expectAck5(0x40, 7);
        sub.expectPublish5(0, "ta/in/a", props(), "1");
        sub.expectPublish5(0, "ta/in/a", props(), "2");
        sub.expectPublish5(0, "ta/in/b", props(), "3");
        sub.expectPublish5(0, "ta/in/b", props(), "4");
        sub.expectPublish5(0, "ta/in/c", props(), "5");
        sub.expectPublish5(0, "ta/in/c", props(), "6");
        sub.expectNothing();
    }

    // [MQTT-3.3.2-8] Topic Alias 0 is not allowed: DISCONNECT 0x94 (Topic Alias invalid).
    @Test
    void aliasZeroIsInvalid_MQTT_3_3_2_8() {
        Conn pub = conns.connect5("ta-zero");
        pub.send(Wire.publish5(0, "ta/zero", 0, props(alias(0)), "x"));
        pub.expectDisconnect(0x94);
    }

    // [MQTT-3.3.2-9] An alias above the Topic Alias Maximum of the CONNACK (10): DISCONNECT 0x94.
    @Test
    void aliasAboveTheMaximumIsInvalid_MQTT_3_3_2_9() {
        Conn pub = conns.connect5("ta-big");
        pub.send(Wire.publish5(0, "ta/big", 0, props(alias(11)), "x"));
        pub.expectDisconnect(0x94);
    }

    // 3.3.4: an empty Topic Name with an alias that has no mapping on this connection is a Protocol Error (0x82);
    // [MQTT-3.3.2-7] mappings do not carry over to a new connection of the same client.
    @Test
    void unknownAliasWithEmptyTopicIsAProtocolError_MQTT_3_3_2_7() {
        Conn first = conns.connect5("ta-unk");
        first.send(Wire.publish5(0, "ta/unk", 0, props(alias(3)), "set"));
        first.expectAlive();
        first.send(0xE0, 0x00);
        first.expectClosed();
        Conn second = conns.connect5("ta-unk");
        second.send(Wire.publish5(0, "", 0, props(alias(3)), "use"));
        second.expectDisconnect(0x82);
    }

    // 3.2.2.3.8: CONNACK announces the Topic Alias Maximum: 10 by default.
    @Test
    void connackAnnouncesTheDefaultMaximum_MQTT_3_3_2_12() {
        Conn c = conns.open();
        c.send(Wire.connect5("ta-cx", Wire.CLEAN, 60, props()));
        V5.Packet ack = V5.decode(c.read());
        assertThat(ack.props().integer(V5.TOPIC_ALIAS_MAXIMUM)).as(ack.toString()).isEqualTo(10);
    }

    // 3.2.2.3.8: topic-alias-maximum 3 is announced as 3 and alias 4 is refused; topic-alias-maximum 0 leaves the
    // property out (no aliases accepted), and any alias is then 0x94 [MQTT-3.3.2-9].
    @Test
    void configuredMaximum_MQTT_3_3_2_9() {
        try (StarlingServer three = V5.startServer(b -> b.topicAliasMaximum(3));
                RawClient c = V5.raw(three)) {
            c.send(Wire.connect5("ta-3", Wire.CLEAN, 60, props()));
            V5.Packet ack = V5.decode(c.readPacket(RawClient.DEFAULT_TIMEOUT));
            assertThat(ack.props().integer(V5.TOPIC_ALIAS_MAXIMUM)).isEqualTo(3);
            c.send(Wire.publish5(0, "ta/3", 0, props(alias(3)), "ok"));
            c.send(Wire.publish5(0, "ta/3", 0, props(alias(4)), "too big"));
            V5.Packet d = V5.decode(c.readPacket(RawClient.DEFAULT_TIMEOUT));
            assertThat(d.type()).isEqualTo(14);
            assertThat(d.reasonCode()).isEqualTo(0x94);
        }
        try (StarlingServer none = V5.startServer(b -> b.topicAliasMaximum(0));
                RawClient c = V5.raw(none)) {
            c.send(Wire.connect5("ta-0", Wire.CLEAN, 60, props()));
            V5.Packet ack = V5.decode(c.readPacket(RawClient.DEFAULT_TIMEOUT));
            assertThat(ack.reasonCode()).isZero();
            assertThat(ack.props().has(V5.TOPIC_ALIAS_MAXIMUM)).as(ack.toString()).isFalse();
            c.send(Wire.publish5(0, "ta/0", 0, props(alias(1)), "x"));
            V5.Packet d = V5.decode(c.readPacket(RawClient.DEFAULT_TIMEOUT));
            assertThat(d.type()).isEqualTo(14);
            assertThat(d.reasonCode()).isEqualTo(0x94);
        }
    }

    // Outbound policy with a client Topic Alias Maximum of 2 [MQTT-3.3.2-11] [MQTT-3.1.2-26]: a, a, b, b, c, c, a
    // arrive as a+1, ""+1, b+2, ""+2, c (full, no alias), c (full), ""+1. Never alias 0 [MQTT-3.3.2-8].
    @Test
    void outboundAliasesFollowThePolicy_MQTT_3_3_2_11() {
        Conn sub = conns.connect5("ta-out", true, props(aliasMax(2)), 0x00);
        Conns.subscribe5(sub, 1, props(), "ta/out/#", 0x00, 0x00);
        Conn pub = conns.connect5("ta-out-pub");
        String[] topics = {"ta/out/a", "ta/out/a", "ta/out/b", "ta/out/b", "ta/out/c", "ta/out/c", "ta/out/a"};
        for (int i = 0; i < topics.length; i++) {
            pub.send(Wire.publish5(0, topics[i], 0, props(), "m" + i));
        }
        sub.expectPublish5(0, "ta/out/a", props(alias(1)), "m0");
        sub.expectPublish5(0, "", props(alias(1)), "m1");
        sub.expectPublish5(0, "ta/out/b", props(alias(2)), "m2");
        sub.expectPublish5(0, "", props(alias(2)), "m3");
        sub.expectPublish5(0, "ta/out/c", props(), "m4");
        sub.expectPublish5(0, "ta/out/c", props(), "m5");
        sub.expectPublish5(0, "", props(alias(1)), "m6");
        sub.expectNothing();
    }

    // [MQTT-3.3.2-7] Outbound mappings belong to one connection: after reconnecting (session resumed), the first
    // PUBLISH of a topic carries the topic again, with the alias.
    @Test
    void outboundAliasesStartAgainOnANewConnection_MQTT_3_3_2_7() {
        int[] connectProps = props(aliasMax(1), Wire.sessionExpiry(30));
        Conn sub = conns.connect5("ta-re", false, connectProps, 0x00);
        Conns.subscribe5(sub, 1, props(), "ta/re/t", 0x00, 0x00);
        Conn pub = conns.connect5("ta-re-pub");
        pub.send(Wire.publish5(0, "ta/re/t", 0, props(), "1"));
        pub.send(Wire.publish5(0, "ta/re/t", 0, props(), "2"));
        sub.expectPublish5(0, "ta/re/t", props(alias(1)), "1");
        sub.expectPublish5(0, "", props(alias(1)), "2");
        sub.send(0xE0, 0x00);
        sub.expectClosed();
        Conn again = conns.connect5("ta-re", false, connectProps, 0x01);
        pub.send(Wire.publish5(0, "ta/re/t", 0, props(), "3"));
        again.expectPublish5(0, "ta/re/t", props(alias(1)), "3");
    }

    // Real clients both ways: Paho publishes repeatedly to two topics (Paho assigns outbound aliases itself when the
    // CONNACK allows them: inbound aliases at the broker [MQTT-3.3.2-12]) and a HiveMQ subscriber announcing Topic
    // Alias Maximum 1 gets every message under its full topic (one of them aliased by the broker [MQTT-3.3.2-11]).
    // (Paho 1.2.5 as the receiver reports an aliased PUBLISH with an empty topic, so HiveMQ receives here.)
    @Test
    void pahoToHivemqWithAliases_MQTT_3_3_2_12() throws Exception {
        String base = Names.topic("ta-paho");
        Mqtt5AsyncClient h = Mqtt5Client.builder().identifier(Names.clientId("ta-hs")).serverHost(broker.host())
                .serverPort(broker.port()).buildAsync();
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        h.connectWith().restrictions().topicAliasMaximum(1).applyRestrictions().send().get(10, TimeUnit.SECONDS);
        try (PahoCapture pub = PahoCapture.connect(broker, Names.clientId("ta-pp"), PahoCapture.options())) {
            h.subscribeWith().topicFilter(base + "/#").qos(MqttQos.AT_LEAST_ONCE)
                    .callback(p -> got.add(p.getTopic() + " " + new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8)))
                    .send().get(10, TimeUnit.SECONDS);
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                String topic = base + (i % 2 == 0 ? "/even" : "/odd");
                pub.paho().publish(topic, ("p" + i).getBytes(StandardCharsets.UTF_8), 1, false);
                expected.add(topic + " p" + i);
            }
            List<String> received = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                received.add(got.poll(10, TimeUnit.SECONDS));
            }
            assertThat(received).containsExactlyElementsOf(expected);
            assertThat(got.poll(500, TimeUnit.MILLISECONDS)).isNull();
        } finally {
            h.disconnect().get(10, TimeUnit.SECONDS);
        }
    }
}
