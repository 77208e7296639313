package io.starling.codec;

import static io.starling.codec.Codec.decode;
import static io.starling.codec.Codec.encode;
import static io.starling.codec.Codec.roundTrip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.starling.codec.PacketDecoder.Sender;
import io.starling.codec.packet.AuthPacket;
import io.starling.codec.packet.ConnAckPacket;
import io.starling.codec.packet.ConnectPacket;
import io.starling.codec.packet.DisconnectPacket;
import io.starling.codec.packet.MqttPacket;
import io.starling.codec.packet.PingReqPacket;
import io.starling.codec.packet.PingRespPacket;
import io.starling.codec.packet.PubAckPacket;
import io.starling.codec.packet.PubCompPacket;
import io.starling.codec.packet.PubRecPacket;
import io.starling.codec.packet.PubRelPacket;
import io.starling.codec.packet.PublishPacket;
import io.starling.codec.packet.SubAckPacket;
import io.starling.codec.packet.SubscribePacket;
import io.starling.codec.packet.TopicSubscription;
import io.starling.codec.packet.UnsubAckPacket;
import io.starling.codec.packet.UnsubscribePacket;
import io.starling.codec.packet.Will;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every packet type encoded and decoded again, in MQTT 3.1, 3.1.1 and 5.0, with every property on 5.0. */
class RoundTripTest {

    private static final byte[] DATA = {1, 2, 3, (byte) 0xFF};

    private static Properties connectProperties() {
        return Properties.builder().sessionExpiryInterval(0xFFFF_FFFFL).receiveMaximum(100).maximumPacketSize(1_048_576L)
                .topicAliasMaximum(10).requestResponseInformation(1).requestProblemInformation(0)
                .addUserProperty("k", "v").addUserProperty("k", "v2").authenticationMethod("SCRAM-SHA-1")
                .authenticationData(DATA).build();
    }

    private static Properties willProperties() {
        return Properties.builder().willDelayInterval(30L).payloadFormatIndicator(1).messageExpiryInterval(60L)
                .contentType("text/plain").responseTopic("reply/here").correlationData(DATA)
                .addUserProperty("w", "x").build();
    }

    private static Properties publishProperties() {
        return Properties.builder().payloadFormatIndicator(1).messageExpiryInterval(3600L).topicAlias(7)
                .responseTopic("r/t").correlationData(DATA).addUserProperty("a", "b").addUserProperty("ü", "😀")
                .addSubscriptionIdentifier(1).addSubscriptionIdentifier(268_435_455).contentType("application/json")
                .build();
    }

    private static Properties connAckProperties() {
        return Properties.builder().sessionExpiryInterval(120L).receiveMaximum(65_535).maximumQos(1).retainAvailable(0)
                .maximumPacketSize(268_435_460L).assignedClientIdentifier("auto-1").topicAliasMaximum(5)
                .reasonString("ok").addUserProperty("s", "t").wildcardSubscriptionAvailable(0)
                .subscriptionIdentifierAvailable(1).sharedSubscriptionAvailable(0).serverKeepAlive(30)
                .responseInformation("resp/").serverReference("other:1883").authenticationMethod("m")
                .authenticationData(DATA).build();
    }

    private static Properties ackProperties() {
        return Properties.builder().reasonString("why").addUserProperty("u", "p").build();
    }

    private static boolean v5(ProtocolVersion v) {
        return v.isV5();
    }

    @ParameterizedTest
    @EnumSource(ProtocolVersion.class)
    void connect(ProtocolVersion v) throws DecodeException {
        Will will = new Will("will/topic", DATA, 2, true, v5(v) ? willProperties() : Properties.EMPTY);
        ConnectPacket p = new ConnectPacket(v, "client-é", true, 65_535, "user", "pw".getBytes(StandardCharsets.UTF_8),
                will, v5(v) ? connectProperties() : Properties.EMPTY);
        assertThat(roundTrip(p, v, Sender.CLIENT)).usingRecursiveComparison().isEqualTo(p);
        ConnectPacket minimal = new ConnectPacket(v, "", false, 0, null, null, null, Properties.EMPTY);
        assertThat(roundTrip(minimal, v, Sender.CLIENT)).usingRecursiveComparison().isEqualTo(minimal);
    }

    @Test
    void connectProtocolNameAndLevelPerVersion() {
        ConnectPacket p31 = new ConnectPacket(ProtocolVersion.MQTT_3_1, "c", true, 10, null, null, null, Properties.EMPTY);
        assertThat(encode(p31, ProtocolVersion.MQTT_3_1)).containsExactly(
                0x10,                                 // CONNECT
                0x0F,                                 // remaining length 15
                0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', // protocol name "MQIsdp"
                0x03,                                 // level 3
                0x02,                                 // clean session
                0x00, 0x0A,                           // keep alive 10
                0x00, 0x01, 'c');                     // client id "c"
        ConnectPacket p5 = new ConnectPacket(ProtocolVersion.MQTT_5, "c", true, 10, null, null, null, Properties.EMPTY);
        assertThat(encode(p5, ProtocolVersion.MQTT_5)).containsExactly(
                0x10,                                 // CONNECT
                0x0E,                                 // remaining length 14
                0x00, 0x04, 'M', 'Q', 'T', 'T',       // protocol name "MQTT"
                0x05,                                 // level 5
                0x02,                                 // clean start
                0x00, 0x0A,                           // keep alive 10
                0x00,                                 // no properties
                0x00, 0x01, 'c');                     // client id "c"
    }

    /** Mosquitto's bridge flag: bit 7 of the Protocol Level on 3.1 and 3.1.1 (0x83, 0x84); not a level of its own. */
    @Test
    void connectBridgeFlag() throws DecodeException {
        ConnectPacket p = new ConnectPacket(ProtocolVersion.MQTT_3_1_1, "c", true, 10, null, null, null, Properties.EMPTY,
                true);
        assertThat(encode(p, ProtocolVersion.MQTT_3_1_1)).containsExactly(
                0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T',
                0x84,                                 // level 4 with the bridge bit
                0x02, 0x00, 0x0A, 0x00, 0x01, 'c');
        assertThat(roundTrip(p, ProtocolVersion.MQTT_3_1_1, Sender.CLIENT)).usingRecursiveComparison().isEqualTo(p);
        ConnectPacket p31 = new ConnectPacket(ProtocolVersion.MQTT_3_1, "c", true, 10, null, null, null,
                Properties.EMPTY, true);
        assertThat(((ConnectPacket) roundTrip(p31, ProtocolVersion.MQTT_3_1, Sender.CLIENT)).bridge()).isTrue();
        ConnectPacket plain = new ConnectPacket(ProtocolVersion.MQTT_3_1_1, "c", true, 10, null, null, null,
                Properties.EMPTY);
        assertThat(((ConnectPacket) roundTrip(plain, ProtocolVersion.MQTT_3_1_1, Sender.CLIENT)).bridge()).isFalse();
        ConnectPacket v5 = new ConnectPacket(ProtocolVersion.MQTT_5, "c", true, 10, null, null, null, Properties.EMPTY,
                true);
        assertThatThrownBy(() -> encode(v5, ProtocolVersion.MQTT_5)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void connectWithPasswordOnlyOnV5() throws DecodeException {
        ConnectPacket p = new ConnectPacket(ProtocolVersion.MQTT_5, "c", true, 0, null, DATA, null, Properties.EMPTY);
        assertThat(roundTrip(p, ProtocolVersion.MQTT_5, Sender.CLIENT)).usingRecursiveComparison().isEqualTo(p);
    }

    @ParameterizedTest
    @EnumSource(ProtocolVersion.class)
    void connAck(ProtocolVersion v) throws DecodeException {
        ConnAckPacket p = new ConnAckPacket(v != ProtocolVersion.MQTT_3_1, ReasonCode.SUCCESS,
                v5(v) ? connAckProperties() : Properties.EMPTY);
        assertThat(roundTrip(p, v, Sender.SERVER)).isEqualTo(p);
        ConnAckPacket refused = new ConnAckPacket(false, ReasonCode.NOT_AUTHORIZED, Properties.EMPTY);
        assertThat(roundTrip(refused, v, Sender.SERVER)).isEqualTo(refused);
    }

    @Test
    void connAckV3ReturnCodes() throws DecodeException {
        ReasonCode[][] mapping = {
            {ReasonCode.SUCCESS, ReasonCode.SUCCESS},
            {ReasonCode.UNSUPPORTED_PROTOCOL_VERSION, ReasonCode.UNSUPPORTED_PROTOCOL_VERSION},
            {ReasonCode.CLIENT_IDENTIFIER_NOT_VALID, ReasonCode.CLIENT_IDENTIFIER_NOT_VALID},
            {ReasonCode.SERVER_BUSY, ReasonCode.SERVER_UNAVAILABLE},
            {ReasonCode.BAD_USER_NAME_OR_PASSWORD, ReasonCode.BAD_USER_NAME_OR_PASSWORD},
            {ReasonCode.NOT_AUTHORIZED, ReasonCode.NOT_AUTHORIZED},
            {ReasonCode.BANNED, ReasonCode.NOT_AUTHORIZED},          // a blocked address: not authorized
            {ReasonCode.SERVER_UNAVAILABLE, ReasonCode.SERVER_UNAVAILABLE},
        };
        int[] wire = {0, 1, 2, 3, 4, 5, 5, 3};
        for (int i = 0; i < mapping.length; i++) {
            ConnAckPacket p = new ConnAckPacket(true, mapping[i][0], Properties.EMPTY);
            byte[] bytes = encode(p, ProtocolVersion.MQTT_3_1_1);
            assertThat(bytes).containsExactly(
                    0x20,                       // CONNACK
                    0x02,                       // remaining length 2
                    i == 0 ? 0x01 : 0x00,       // session present only with return code 0 [MQTT-3.2.2-4]
                    wire[i]);                   // return code
            ConnAckPacket back = (ConnAckPacket) decode(bytes, ProtocolVersion.MQTT_3_1_1, Sender.SERVER);
            assertThat(back.reasonCode()).isEqualTo(mapping[i][1]);
            assertThat(back.properties()).isSameAs(Properties.EMPTY);
        }
        // MQTT 3.1: the first byte is reserved, written 0
        assertThat(encode(new ConnAckPacket(true, ReasonCode.SUCCESS, Properties.EMPTY), ProtocolVersion.MQTT_3_1))
                .containsExactly(0x20, 0x02, 0x00, 0x00);
    }

    @ParameterizedTest
    @EnumSource(ProtocolVersion.class)
    void publish(ProtocolVersion v) throws DecodeException {
        for (int qos = 0; qos <= 2; qos++) {
            PublishPacket p = new PublishPacket("a/b/ü", qos, qos == 1, qos == 2, qos == 0 ? 0 : 65_535,
                    v5(v) ? publishProperties() : Properties.EMPTY, DATA);
            assertThat(roundTrip(p, v, Sender.SERVER)).usingRecursiveComparison().isEqualTo(p);
        }
        PublishPacket empty = new PublishPacket("t", 0, false, false, 0, Properties.EMPTY, new byte[0]);
        PublishPacket back = (PublishPacket) roundTrip(empty, v, Sender.CLIENT);
        assertThat(back.payload()).isEmpty();
        assertThat(back.properties()).isSameAs(Properties.EMPTY);
    }

    @Test
    void publishBytes() throws DecodeException {
        byte[] bytes = {
            0x30,                       // PUBLISH, QoS 0
            0x07,                       // remaining length 7
            0x00, 0x03, 'a', '/', 'b',  // topic "a/b"
            'h', 'i'                    // payload
        };
        PublishPacket p = (PublishPacket) decode(bytes, ProtocolVersion.MQTT_3_1_1);
        assertThat(p.topic()).isEqualTo("a/b");
        assertThat(p.payload()).containsExactly('h', 'i');
        assertThat(encode(p, ProtocolVersion.MQTT_3_1_1)).containsExactly(bytes);
    }

    @Test
    void publishWithEmptyTopicAndAliasOnV5() throws DecodeException {
        PublishPacket p = new PublishPacket("", 1, false, false, 1, Properties.builder().topicAlias(3).build(), DATA);
        assertThat(roundTrip(p, ProtocolVersion.MQTT_5, Sender.CLIENT)).usingRecursiveComparison().isEqualTo(p);
    }

    @Test
    void largePublishUsesFourByteRemainingLength() throws DecodeException {
        PublishPacket p = new PublishPacket("big", 1, false, false, 9, Properties.EMPTY, new byte[2_200_000]);
        assertThat(PacketEncoder.encodedSize(p, ProtocolVersion.MQTT_3_1_1)).isEqualTo(1 + 4 + 5 + 2 + 2_200_000);
        PublishPacket back = (PublishPacket) roundTrip(p, ProtocolVersion.MQTT_3_1_1, Sender.CLIENT);
        assertThat(back.packetId()).isEqualTo(9);
        assertThat(Arrays.equals(back.payload(), p.payload())).isTrue();
    }

    @ParameterizedTest
    @EnumSource(ProtocolVersion.class)
    void publishAcks(ProtocolVersion v) throws DecodeException {
        List<MqttPacket> packets = new ArrayList<>();
        packets.add(PubAckPacket.of(1));
        packets.add(PubRecPacket.of(2));
        packets.add(PubRelPacket.of(3));
        packets.add(PubCompPacket.of(65_535));
        if (v5(v)) {
            packets.add(new PubAckPacket(4, ReasonCode.NO_MATCHING_SUBSCRIBERS, Properties.EMPTY));
            packets.add(new PubAckPacket(5, ReasonCode.QUOTA_EXCEEDED, ackProperties()));
            packets.add(new PubAckPacket(5, ReasonCode.SUCCESS, ackProperties()));
            packets.add(new PubRecPacket(6, ReasonCode.PAYLOAD_FORMAT_INVALID, ackProperties()));
            packets.add(new PubRelPacket(7, ReasonCode.PACKET_IDENTIFIER_NOT_FOUND, ackProperties()));
            packets.add(new PubCompPacket(8, ReasonCode.PACKET_IDENTIFIER_NOT_FOUND, Properties.EMPTY));
        }
        for (MqttPacket p : packets) {
            assertThat(roundTrip(p, v, Sender.CLIENT)).isEqualTo(p);
        }
    }

    @Test
    void ackShortForms() throws DecodeException {
        // Success without properties: packet id only (section 3.4.2.1)
        assertThat(encode(PubAckPacket.of(0x1234), ProtocolVersion.MQTT_5)).containsExactly(0x40, 0x02, 0x12, 0x34);
        assertThat(encode(PubRelPacket.of(1), ProtocolVersion.MQTT_5)).containsExactly(0x62, 0x02, 0x00, 0x01);
        // a reason code without properties omits the Property Length
        assertThat(encode(new PubRecPacket(1, ReasonCode.UNSPECIFIED_ERROR, Properties.EMPTY), ProtocolVersion.MQTT_5))
                .containsExactly(0x50, 0x03, 0x00, 0x01, 0x80);
        // v3 ignores reason code and properties
        assertThat(encode(new PubAckPacket(1, ReasonCode.UNSPECIFIED_ERROR, ackProperties()), ProtocolVersion.MQTT_3_1_1))
                .containsExactly(0x40, 0x02, 0x00, 0x01);
        byte[] full = {
            0x40,               // PUBACK
            0x04,               // remaining length 4
            0x00, 0x01,         // packet id 1
            0x00,               // Success
            0x00                // property length 0
        };
        assertThat(decode(full, ProtocolVersion.MQTT_5)).isEqualTo(PubAckPacket.of(1));
        byte[] three = {
            0x40,               // PUBACK
            0x03,               // remaining length 3
            0x00, 0x01,         // packet id 1
            0x10                // No matching subscribers, no properties
        };
        assertThat(decode(three, ProtocolVersion.MQTT_5))
                .isEqualTo(new PubAckPacket(1, ReasonCode.NO_MATCHING_SUBSCRIBERS, Properties.EMPTY));
    }

    @ParameterizedTest
    @EnumSource(ProtocolVersion.class)
    void subscribe(ProtocolVersion v) throws DecodeException {
        List<TopicSubscription> subs = v5(v)
                ? List.of(new TopicSubscription("a/+", 2, true, true, 2), new TopicSubscription("$share/g/#", 1, false, false, 1),
                        TopicSubscription.of("x", 0))
                : List.of(TopicSubscription.of("a/+", 2), TopicSubscription.of("#", 1), TopicSubscription.of("x", 0));
        Properties props = v5(v) ? Properties.builder().addSubscriptionIdentifier(42).addUserProperty("k", "v").build()
                : Properties.EMPTY;
        SubscribePacket p = new SubscribePacket(10, subs, props);
        assertThat(roundTrip(p, v, Sender.CLIENT)).isEqualTo(p);
    }

    @ParameterizedTest
    @EnumSource(ProtocolVersion.class)
    void subAck(ProtocolVersion v) throws DecodeException {
        List<ReasonCode> codes = v5(v)
                ? List.of(ReasonCode.GRANTED_QOS_0, ReasonCode.GRANTED_QOS_1, ReasonCode.GRANTED_QOS_2,
                        ReasonCode.TOPIC_FILTER_INVALID, ReasonCode.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED)
                : List.of(ReasonCode.GRANTED_QOS_0, ReasonCode.GRANTED_QOS_1, ReasonCode.GRANTED_QOS_2,
                        ReasonCode.UNSPECIFIED_ERROR);
        SubAckPacket p = new SubAckPacket(10, codes, v5(v) ? ackProperties() : Properties.EMPTY);
        assertThat(roundTrip(p, v, Sender.SERVER)).isEqualTo(p);
    }

    @Test
    void subAckV3MapsErrorsTo0x80() throws DecodeException {
        SubAckPacket p = new SubAckPacket(1, List.of(ReasonCode.GRANTED_QOS_1, ReasonCode.NOT_AUTHORIZED), ackProperties());
        byte[] bytes = encode(p, ProtocolVersion.MQTT_3_1_1);
        assertThat(bytes).containsExactly(
                0x90,               // SUBACK
                0x04,               // remaining length 4
                0x00, 0x01,         // packet id 1
                0x01,               // granted QoS 1
                0x80);              // failure
        assertThat(((SubAckPacket) decode(bytes, ProtocolVersion.MQTT_3_1_1, Sender.SERVER)).reasonCodes())
                .containsExactly(ReasonCode.GRANTED_QOS_1, ReasonCode.UNSPECIFIED_ERROR);
    }

    @ParameterizedTest
    @EnumSource(ProtocolVersion.class)
    void unsubscribe(ProtocolVersion v) throws DecodeException {
        UnsubscribePacket p = new UnsubscribePacket(3, List.of("a/#", "b"),
                v5(v) ? Properties.builder().addUserProperty("k", "v").build() : Properties.EMPTY);
        assertThat(roundTrip(p, v, Sender.CLIENT)).isEqualTo(p);
    }

    @ParameterizedTest
    @EnumSource(ProtocolVersion.class)
    void unsubAck(ProtocolVersion v) throws DecodeException {
        UnsubAckPacket p = v5(v)
                ? new UnsubAckPacket(3, List.of(ReasonCode.SUCCESS, ReasonCode.NO_SUBSCRIPTION_EXISTED), ackProperties())
                : new UnsubAckPacket(3, List.of(), Properties.EMPTY);
        assertThat(roundTrip(p, v, Sender.SERVER)).isEqualTo(p);
        if (!v5(v)) {
            // 3.x UNSUBACK has no payload
            assertThat(encode(new UnsubAckPacket(3, List.of(ReasonCode.SUCCESS), ackProperties()), v))
                    .containsExactly(0xB0, 0x02, 0x00, 0x03);
        }
    }

    @ParameterizedTest
    @EnumSource(ProtocolVersion.class)
    void pings(ProtocolVersion v) throws DecodeException {
        assertThat(encode(PingReqPacket.INSTANCE, v)).containsExactly(0xC0, 0x00);
        assertThat(encode(PingRespPacket.INSTANCE, v)).containsExactly(0xD0, 0x00);
        assertThat(roundTrip(PingReqPacket.INSTANCE, v, Sender.CLIENT)).isEqualTo(PingReqPacket.INSTANCE);
        assertThat(roundTrip(PingRespPacket.INSTANCE, v, Sender.SERVER)).isEqualTo(PingRespPacket.INSTANCE);
    }

    @ParameterizedTest
    @EnumSource(ProtocolVersion.class)
    void disconnect(ProtocolVersion v) throws DecodeException {
        assertThat(encode(DisconnectPacket.NORMAL, v)).containsExactly(0xE0, 0x00);
        assertThat(roundTrip(DisconnectPacket.NORMAL, v, Sender.CLIENT)).isEqualTo(DisconnectPacket.NORMAL);
        if (v5(v)) {
            DisconnectPacket full = new DisconnectPacket(ReasonCode.SERVER_MOVED, Properties.builder()
                    .sessionExpiryInterval(0L).reasonString("moved").serverReference("b:1883").addUserProperty("x", "y").build());
            assertThat(roundTrip(full, v, Sender.SERVER)).isEqualTo(full);
            DisconnectPacket codeOnly = new DisconnectPacket(ReasonCode.DISCONNECT_WITH_WILL_MESSAGE, Properties.EMPTY);
            assertThat(encode(codeOnly, v)).containsExactly(0xE0, 0x01, 0x04);
            assertThat(roundTrip(codeOnly, v, Sender.CLIENT)).isEqualTo(codeOnly);
        } else {
            // 3.x: DISCONNECT has no variable header whatever the packet says
            assertThat(encode(new DisconnectPacket(ReasonCode.SERVER_BUSY, ackProperties()), v)).containsExactly(0xE0, 0x00);
        }
    }

    @Test
    void auth() throws DecodeException {
        ProtocolVersion v = ProtocolVersion.MQTT_5;
        AuthPacket success = new AuthPacket(ReasonCode.SUCCESS, Properties.EMPTY);
        assertThat(encode(success, v)).containsExactly(0xF0, 0x00);
        assertThat(roundTrip(success, v, Sender.SERVER)).isEqualTo(success);
        AuthPacket full = new AuthPacket(ReasonCode.CONTINUE_AUTHENTICATION, Properties.builder().authenticationMethod("SCRAM")
                .authenticationData(DATA).reasonString("more").addUserProperty("a", "b").build());
        assertThat(roundTrip(full, v, Sender.CLIENT)).usingRecursiveComparison().isEqualTo(full);
        assertThatThrownBy(() -> encode(success, ProtocolVersion.MQTT_3_1_1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void encoderRefusesPropertyNotAllowedInPacket() {
        PubAckPacket p = new PubAckPacket(1, ReasonCode.SUCCESS, Properties.builder().topicAlias(1).build());
        assertThatThrownBy(() -> PacketEncoder.encodedSize(p, ProtocolVersion.MQTT_5)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void encodeIntoCallerBuffer() throws DecodeException {
        PublishPacket p = new PublishPacket("t", 1, false, false, 5, publishProperties(), DATA);
        ByteBuf out = Unpooled.buffer(1);
        try {
            out.writeByte(0x55); // something already in the buffer
            PacketEncoder.encode(p, ProtocolVersion.MQTT_5, out);
            assertThat(out.readableBytes()).isEqualTo(1 + PacketEncoder.encodedSize(p, ProtocolVersion.MQTT_5));
        } finally {
            out.release();
        }
    }
}
