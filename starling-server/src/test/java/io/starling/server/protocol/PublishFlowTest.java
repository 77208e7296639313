package io.starling.server.protocol;

import static io.starling.server.protocol.EmbeddedClient.connect;
import static org.assertj.core.api.Assertions.assertThat;

import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.ConnAckPacket;
import io.starling.codec.packet.DisconnectPacket;
import io.starling.codec.packet.PubAckPacket;
import io.starling.codec.packet.PubCompPacket;
import io.starling.codec.packet.PubRecPacket;
import io.starling.codec.packet.PubRelPacket;
import io.starling.codec.packet.PublishPacket;
import io.starling.codec.packet.SubAckPacket;
import io.starling.codec.packet.SubscribePacket;
import io.starling.codec.packet.TopicSubscription;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Inbound PUBLISH flows of {@link PublishHandler} through {@link MqttConnection}, on an embedded channel. */
class PublishFlowTest {

    private EmbeddedClient client;

    @AfterEach
    void close() {
        if (client != null) {
            client.close();
        }
    }

    private EmbeddedClient connected(ProtocolVersion v, int topicAliasMaximum) {
        client = new EmbeddedClient(b -> b.topicAliasMaximum(topicAliasMaximum));
        client.send(connect(v, "pub-" + v, 60));
        assertThat(client.next(ConnAckPacket.class).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
        return client;
    }

    private static PublishPacket publish(String topic, int qos, int packetId, String payload, Properties props) {
        return new PublishPacket(topic, qos, false, false, packetId, props,
                payload.getBytes(StandardCharsets.UTF_8));
    }

    // [MQTT-4.3.2-2] QoS 1: PUBACK with the packet id of the PUBLISH
    @Test
    void qos1IsAcknowledgedWithPubAck() {
        connected(ProtocolVersion.MQTT_3_1_1, 0).send(publish("t/1", 1, 7, "one", Properties.EMPTY));
        PubAckPacket ack = client.next(PubAckPacket.class);
        assertThat(ack.packetId()).isEqualTo(7);
        assertThat(ack.reasonCode()).isEqualTo(ReasonCode.SUCCESS);
    }

    // the message reaches a subscriber: here the publisher itself, subscribed to its topic
    @Test
    void aPublishedMessageIsDelivered() {
        connected(ProtocolVersion.MQTT_3_1_1, 0)
                .send(new SubscribePacket(1, List.of(TopicSubscription.of("t/#", 0)), Properties.EMPTY));
        client.next(SubAckPacket.class);
        client.send(publish("t/x", 0, 0, "hello", Properties.EMPTY));
        PublishPacket delivered = client.next(PublishPacket.class);
        assertThat(delivered.topic()).isEqualTo("t/x");
        assertThat(new String(delivered.payload(), StandardCharsets.UTF_8)).isEqualTo("hello");
    }

    // [MQTT-4.3.3-2] QoS 2: PUBREC, then PUBCOMP for the PUBREL; a duplicate PUBLISH before the PUBREL gets PUBREC
    // again and is not routed a second time
    @Test
    void qos2FlowWithADuplicate() {
        connected(ProtocolVersion.MQTT_3_1_1, 0)
                .send(new SubscribePacket(1, List.of(TopicSubscription.of("q2/#", 0)), Properties.EMPTY));
        client.next(SubAckPacket.class);
        client.send(publish("q2/a", 2, 9, "once", Properties.EMPTY));
        // the delivery to the subscriber and the PUBREC, in either order
        assertThat(List.of(client.next(), client.next())).hasAtLeastOneElementOfType(PublishPacket.class)
                .anySatisfy(p -> assertThat(p).isEqualTo(new PubRecPacket(9, ReasonCode.SUCCESS, Properties.EMPTY)));
        long received = client.broker.metrics().messagesReceived();
        PublishPacket dup = new PublishPacket("q2/a", 2, false, true, 9, Properties.EMPTY,
                "once".getBytes(StandardCharsets.UTF_8));
        client.send(dup);
        assertThat(client.next(PubRecPacket.class).packetId()).isEqualTo(9);
        client.expectNothing(); // not delivered again
        assertThat(client.broker.metrics().messagesReceived()).isEqualTo(received);
        client.send(new PubRelPacket(9, ReasonCode.SUCCESS, Properties.EMPTY));
        PubCompPacket comp = client.next(PubCompPacket.class);
        assertThat(comp.packetId()).isEqualTo(9);
        assertThat(comp.reasonCode()).isEqualTo(ReasonCode.SUCCESS);
    }

    // 5.0: a PUBREL for a packet id that awaits none gets PUBCOMP 0x92 Packet Identifier not found
    @Test
    void pubRelForAnUnknownIdIsAnsweredWithPacketIdentifierNotFoundOn50() {
        connected(ProtocolVersion.MQTT_5, 0).send(new PubRelPacket(3, ReasonCode.SUCCESS, Properties.EMPTY));
        assertThat(client.next(PubCompPacket.class).reasonCode()).isEqualTo(ReasonCode.PACKET_IDENTIFIER_NOT_FOUND);
    }

    // [MQTT-3.3.2-9] [MQTT-3.3.2-10] (5.0) a topic alias above the server's Topic Alias Maximum: DISCONNECT 0x94
    @Test
    void topicAliasAboveTheMaximumIsDisconnected() {
        connected(ProtocolVersion.MQTT_5, 2)
                .send(publish("t/a", 0, 0, "x", Properties.builder().topicAlias(3).build()));
        assertThat(client.next(DisconnectPacket.class).reasonCode()).isEqualTo(ReasonCode.TOPIC_ALIAS_INVALID);
        assertThat(client.isOpen()).isFalse();
    }

    // 5.0 3.3.4: an empty topic with an alias that has no mapping is a Protocol Error: DISCONNECT 0x82
    @Test
    void anUnsetTopicAliasIsAProtocolError() {
        connected(ProtocolVersion.MQTT_5, 2).send(publish("", 0, 0, "x", Properties.builder().topicAlias(1).build()));
        assertThat(client.next(DisconnectPacket.class).reasonCode()).isEqualTo(ReasonCode.PROTOCOL_ERROR);
        assertThat(client.isOpen()).isFalse();
    }

    // 5.0 3.3.2.3.4: an alias set with a topic stands for it in later PUBLISH packets
    @Test
    void aTopicAliasStandsForItsTopic() {
        connected(ProtocolVersion.MQTT_5, 2)
                .send(new SubscribePacket(1, List.of(TopicSubscription.of("al/#", 0)), Properties.EMPTY));
        client.next(SubAckPacket.class);
        client.send(publish("al/one", 0, 0, "first", Properties.builder().topicAlias(1).build()));
        assertThat(client.next(PublishPacket.class).topic()).isEqualTo("al/one");
        client.send(publish("", 0, 0, "second", Properties.builder().topicAlias(1).build()));
        PublishPacket second = client.next(PublishPacket.class);
        assertThat(second.topic()).isEqualTo("al/one");
        assertThat(new String(second.payload(), StandardCharsets.UTF_8)).isEqualTo("second");
    }

    // [MQTT-3.3.4-7] (5.0) more QoS 2 PUBLISH awaiting PUBREL than the server's Receive Maximum: DISCONNECT 0x93
    @Test
    void moreUnacknowledgedQos2ThanTheReceiveMaximumIsDisconnected() {
        client = new EmbeddedClient(b -> b.receiveMaximum(2));
        client.send(connect(ProtocolVersion.MQTT_5, "recv-max", 60));
        client.next(ConnAckPacket.class);
        client.send(publish("r/1", 2, 1, "a", Properties.EMPTY), publish("r/2", 2, 2, "b", Properties.EMPTY));
        assertThat(client.next(PubRecPacket.class).packetId()).isEqualTo(1);
        assertThat(client.next(PubRecPacket.class).packetId()).isEqualTo(2);
        client.send(publish("r/3", 2, 3, "c", Properties.EMPTY));
        assertThat(client.next(DisconnectPacket.class).reasonCode()).isEqualTo(ReasonCode.RECEIVE_MAXIMUM_EXCEEDED);
    }

    // 5.0 reason codes on the acknowledgement, the connection stays: a topic over max-topic-levels gets PUBACK 0x90
    @Test
    void aRefusedTopicGetsPubAckTopicNameInvalidOn50() {
        client = new EmbeddedClient(b -> b.maxTopicLevels(2));
        client.send(connect(ProtocolVersion.MQTT_5, "levels5", 60));
        client.next(ConnAckPacket.class);
        client.send(publish("a/b/c", 1, 4, "x", Properties.EMPTY));
        PubAckPacket ack = client.next(PubAckPacket.class);
        assertThat(ack.packetId()).isEqualTo(4);
        assertThat(ack.reasonCode()).isEqualTo(ReasonCode.TOPIC_NAME_INVALID);
        assertThat(client.isOpen()).isTrue();
    }

    // [MQTT-3.3.5-2] 3.1.1 has no way to refuse a PUBLISH: the same topic closes the connection, without a PUBACK
    @Test
    void aRefusedTopicClosesA311Connection() {
        client = new EmbeddedClient(b -> b.maxTopicLevels(2));
        client.send(connect(ProtocolVersion.MQTT_3_1_1, "levels311", 60));
        client.next(ConnAckPacket.class);
        client.send(publish("a/b/c", 1, 4, "x", Properties.EMPTY));
        client.expectNothing();
        assertThat(client.isOpen()).isFalse();
    }
}
