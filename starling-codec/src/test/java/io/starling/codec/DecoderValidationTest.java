package io.starling.codec;

import static io.starling.codec.Codec.decode;
import static io.starling.codec.Codec.failure;
import static org.assertj.core.api.Assertions.assertThat;

import io.starling.codec.PacketDecoder.Sender;
import io.starling.codec.packet.AuthPacket;
import io.starling.codec.packet.ConnAckPacket;
import io.starling.codec.packet.DisconnectPacket;
import io.starling.codec.packet.PubRelPacket;
import io.starling.codec.packet.PublishPacket;
import io.starling.codec.packet.SubAckPacket;
import io.starling.codec.packet.SubscribePacket;
import org.junit.jupiter.api.Test;

/**
 * One test per malformed or protocol-error condition the decoder detects, named for the rule, asserting the exact
 * reason code. Statement ids: 3.1.1 unless marked (5.0).
 */
class DecoderValidationTest {

    private static final ProtocolVersion V31 = ProtocolVersion.MQTT_3_1;
    private static final ProtocolVersion V311 = ProtocolVersion.MQTT_3_1_1;
    private static final ProtocolVersion V5 = ProtocolVersion.MQTT_5;

    private static final ReasonCode MALFORMED = ReasonCode.MALFORMED_PACKET;
    private static final ReasonCode PROTOCOL_ERROR = ReasonCode.PROTOCOL_ERROR;

    /** Bytes from ints, so that 0x80..0xFF need no cast. */
    static byte[] b(int... values) {
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = (byte) values[i];
        }
        return bytes;
    }

    /** An MQTT 5.0 CONNECT with client id "c", no Will, and the given CONNECT property bytes. */
    static byte[] connectV5WithProperties(int... props) {
        int[] head = {
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name
            0x05,                           // level 5
            0x02,                           // clean start
            0x00, 0x3C,                     // keep alive 60
            props.length                    // property length
        };
        int[] tail = {0x00, 0x01, 'c'};     // client id "c"
        return packet(0x10, head, props, tail);
    }

    /** An MQTT 5.0 CONNECT with a Will (QoS 0) on topic "w" with empty payload and the given Will property bytes. */
    static byte[] connectV5WithWillProperties(int... willProps) {
        int[] head = {
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name
            0x05,                           // level 5
            0x06,                           // clean start, will flag
            0x00, 0x3C,                     // keep alive 60
            0x00,                           // no properties
            0x00, 0x01, 'c',                // client id "c"
            willProps.length                // will property length
        };
        int[] tail = {
            0x00, 0x01, 'w',                // will topic "w"
            0x00, 0x00                      // empty will payload
        };
        return packet(0x10, head, willProps, tail);
    }

    /** An MQTT 5.0 PUBLISH QoS 1 on topic "t", packet id 1, with the given property bytes and payload "x". */
    static byte[] publishV5WithProperties(int... props) {
        int[] head = {
            0x00, 0x01, 't',                // topic "t"
            0x00, 0x01,                     // packet id 1
            props.length                    // property length
        };
        return packet(0x32, head, props, new int[] {'x'});
    }

    /** An MQTT 5.0 PUBACK with packet id 1, the given reason code and property bytes. */
    static byte[] pubAckV5WithProperties(int... props) {
        return packet(0x40, new int[] {0x00, 0x01, 0x00, props.length}, props, new int[0]);
    }

    private static byte[] packet(int firstByte, int[] head, int[] middle, int[] tail) {
        int length = head.length + middle.length + tail.length;
        if (length > 127) {
            throw new IllegalArgumentException("test packet too long");
        }
        int[] all = new int[2 + length];
        all[0] = firstByte;
        all[1] = length;
        System.arraycopy(head, 0, all, 2, head.length);
        System.arraycopy(middle, 0, all, 2 + head.length, middle.length);
        System.arraycopy(tail, 0, all, 2 + head.length + middle.length, tail.length);
        return b(all);
    }

    // ------------------------------------------------------------------ fixed header

    @Test
    void reservedPacketType0IsMalformed_MQTT_2_2_1() {
        byte[] bytes = b(
            0x00,                   // packet type 0 (reserved)
            0x00);                  // remaining length 0
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
        assertThat(failure(bytes, V5)).isEqualTo(MALFORMED);
    }

    @Test
    void authOnV3IsMalformed() throws DecodeException {
        byte[] bytes = b(
            0xF0,                   // type 15: AUTH in 5.0, reserved in 3.1.1
            0x00);                  // remaining length 0
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
        assertThat(failure(bytes, V31)).isEqualTo(MALFORMED);
        assertThat(decode(bytes, V5)).isEqualTo(new AuthPacket(ReasonCode.SUCCESS, Properties.EMPTY));
    }

    @Test
    void pubRelWithFlags0000IsMalformed_MQTT_3_6_1_1() {
        byte[] bytes = b(
            0x60,                   // PUBREL with flags 0000 instead of 0010
            0x02,                   // remaining length 2
            0x00, 0x01);            // packet id 1
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
        assertThat(failure(bytes, V5)).isEqualTo(MALFORMED);
    }

    @Test
    void subscribeWithFlags0000IsMalformed_MQTT_3_8_1_1() {
        byte[] bytes = b(
            0x80,                   // SUBSCRIBE with flags 0000 instead of 0010
            0x06,                   // remaining length 6
            0x00, 0x01,             // packet id 1
            0x00, 0x01, 'a',        // filter "a"
            0x00);                  // QoS 0
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
    }

    @Test
    void unsubscribeWithFlags0000IsMalformed_MQTT_3_10_1_1() {
        byte[] bytes = b(
            0xA0,                   // UNSUBSCRIBE with flags 0000 instead of 0010
            0x05,                   // remaining length 5
            0x00, 0x01,             // packet id 1
            0x00, 0x01, 'a');       // filter "a"
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
    }

    @Test
    void reservedFlagsSetAreMalformed_MQTT_2_2_2_1() {
        assertThat(failure(b(
            0x41,                   // PUBACK with flag bit 0 set
            0x02,                   // remaining length 2
            0x00, 0x01), V311))     // packet id 1
            .isEqualTo(MALFORMED);
        assertThat(failure(b(
            0xC8,                   // PINGREQ with flag bit 3 set
            0x00), V5))             // remaining length 0
            .isEqualTo(MALFORMED);
        assertThat(failure(b(
            0xE2,                   // DISCONNECT with flag bit 1 set
            0x00), V311))           // remaining length 0
            .isEqualTo(MALFORMED);
        assertThat(failure(b(
            0x63,                   // PUBREL with flags 0011
            0x02,                   // remaining length 2
            0x00, 0x01), V5))       // packet id 1
            .isEqualTo(MALFORMED);
    }

    @Test
    void mqtt31AllowsDupOnPubRelButNot311() throws DecodeException {
        byte[] bytes = b(
            0x6A,                   // PUBREL, DUP set, QoS 1 (MQTT 3.1 retransmission)
            0x02,                   // remaining length 2
            0x00, 0x07);            // packet id 7
        assertThat(decode(bytes, V31)).isEqualTo(PubRelPacket.of(7));
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
    }

    // ------------------------------------------------------------------ CONNECT

    @Test
    void connectUnknownProtocolNameIsProtocolError_MQTT_3_1_2_1() {
        byte[] bytes = b(
            0x10,                           // CONNECT
            0x0D,                           // remaining length 13
            0x00, 0x04, 'M', 'Q', 'T', 'X', // protocol name "MQTX"
            0x04,                           // level 4
            0x02,                           // clean session
            0x00, 0x3C,                     // keep alive 60
            0x00, 0x01, 'c');               // client id "c"
        assertThat(failure(bytes, null)).isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void connectUnsupportedLevelIsUnsupportedProtocolVersion_MQTT_3_1_2_2() {
        byte[] mqtt6 = b(
            0x10,                           // CONNECT
            0x0D,                           // remaining length 13
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
            0x06,                           // level 6
            0x02,                           // clean session
            0x00, 0x3C,                     // keep alive 60
            0x00, 0x01, 'c');               // client id "c"
        assertThat(failure(mqtt6, null)).isEqualTo(ReasonCode.UNSUPPORTED_PROTOCOL_VERSION);
        byte[] mqisdp4 = b(
            0x10,                                     // CONNECT
            0x0F,                                     // remaining length 15
            0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', // protocol name "MQIsdp"
            0x04,                                     // level 4 (3.1 is level 3)
            0x02,                                     // clean session
            0x00, 0x3C,                               // keep alive 60
            0x00, 0x01, 'c');                         // client id "c"
        assertThat(failure(mqisdp4, null)).isEqualTo(ReasonCode.UNSUPPORTED_PROTOCOL_VERSION);
    }

    @Test
    void connectMqtt31IsDecoded() throws DecodeException {
        byte[] bytes = b(
            0x10,                                     // CONNECT
            0x0F,                                     // remaining length 15
            0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', // protocol name "MQIsdp"
            0x03,                                     // level 3
            0x02,                                     // clean session
            0x00, 0x3C,                               // keep alive 60
            0x00, 0x01, 'c');                         // client id "c"
        assertThat(Codec.decodeConnect(bytes).version()).isEqualTo(V31);
    }

    @Test
    void connectReservedFlagIsMalformed_MQTT_3_1_2_3() {
        byte[] bytes = b(
            0x10,                           // CONNECT
            0x0D,                           // remaining length 13
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
            0x04,                           // level 4
            0x03,                           // clean session + reserved bit 0
            0x00, 0x3C,                     // keep alive 60
            0x00, 0x01, 'c');               // client id "c"
        assertThat(failure(bytes, null)).isEqualTo(MALFORMED);
    }

    @Test
    void connectFixedHeaderFlagsAreMalformed_MQTT_2_2_2_1() {
        byte[] bytes = b(
            0x12,                           // CONNECT with flags 0010
            0x0D,                           // remaining length 13
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
            0x04,                           // level 4
            0x02,                           // clean session
            0x00, 0x3C,                     // keep alive 60
            0x00, 0x01, 'c');               // client id "c"
        assertThat(failure(bytes, null)).isEqualTo(MALFORMED);
    }

    @Test
    void firstPacketNotConnectIsProtocolError_MQTT_3_1_0_1() {
        byte[] bytes = b(
            0xC0,                           // PINGREQ
            0x00);                          // remaining length 0
        assertThat(failure(bytes, null)).isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void secondConnectIsProtocolError_MQTT_3_1_0_2() {
        byte[] bytes = b(
            0x10,                           // CONNECT
            0x0D,                           // remaining length 13
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
            0x04,                           // level 4
            0x02,                           // clean session
            0x00, 0x3C,                     // keep alive 60
            0x00, 0x01, 'c');               // client id "c"
        assertThat(failure(bytes, V311)).isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void connectWillQosWithoutWillFlagIsMalformed_MQTT_3_1_2_13() {
        byte[] bytes = b(
            0x10,                           // CONNECT
            0x0D,                           // remaining length 13
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
            0x04,                           // level 4
            0x0A,                           // clean session, will QoS 1, no will flag
            0x00, 0x3C,                     // keep alive 60
            0x00, 0x01, 'c');               // client id "c"
        assertThat(failure(bytes, null)).isEqualTo(MALFORMED);
    }

    @Test
    void connectWillQosWithoutWillFlagIsMalformedV5_MQTT_3_1_2_11() {
        byte[] bytes = b(
            0x10,                           // CONNECT
            0x0E,                           // remaining length 14
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
            0x05,                           // level 5
            0x12,                           // clean start, will QoS 2, no will flag
            0x00, 0x3C,                     // keep alive 60
            0x00,                           // no properties
            0x00, 0x01, 'c');               // client id "c"
        assertThat(failure(bytes, null)).isEqualTo(MALFORMED);
    }

    @Test
    void connectWillRetainWithoutWillFlagIsMalformed_MQTT_3_1_2_15() {
        byte[] bytes = b(
            0x10,                           // CONNECT
            0x0D,                           // remaining length 13
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
            0x04,                           // level 4
            0x22,                           // clean session, will retain, no will flag
            0x00, 0x3C,                     // keep alive 60
            0x00, 0x01, 'c');               // client id "c"
        assertThat(failure(bytes, null)).isEqualTo(MALFORMED);
    }

    @Test
    void connectWillQos3IsMalformed_MQTT_3_1_2_14() {
        byte[] bytes = b(
            0x10,                           // CONNECT
            0x13,                           // remaining length 19
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
            0x04,                           // level 4
            0x1E,                           // clean session, will flag, will QoS 3
            0x00, 0x3C,                     // keep alive 60
            0x00, 0x01, 'c',                // client id "c"
            0x00, 0x01, 'w',                // will topic "w"
            0x00, 0x01, 'x');               // will message "x"
        assertThat(failure(bytes, null)).isEqualTo(MALFORMED);
    }

    @Test
    void connectPasswordWithoutUserNameIsMalformed_MQTT_3_1_2_22() {
        byte[] bytes = b(
            0x10,                           // CONNECT
            0x10,                           // remaining length 16
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
            0x04,                           // level 4
            0x42,                           // clean session, password flag, no user name flag
            0x00, 0x3C,                     // keep alive 60
            0x00, 0x01, 'c',                // client id "c"
            0x00, 0x01, 'p');               // password "p"
        assertThat(failure(bytes, null)).isEqualTo(MALFORMED);
    }

    @Test
    void connectUserNameFlagWithoutUserNameIsMalformed_MQTT_3_1_2_19() {
        byte[] bytes = b(
            0x10,                           // CONNECT
            0x0D,                           // remaining length 13
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
            0x04,                           // level 4
            0x82,                           // clean session, user name flag
            0x00, 0x3C,                     // keep alive 60
            0x00, 0x01, 'c');               // client id "c", then nothing
        assertThat(failure(bytes, null)).isEqualTo(MALFORMED);
    }

    @Test
    void connectPasswordFlagWithoutPasswordIsMalformed_MQTT_3_1_2_21() {
        byte[] bytes = b(
            0x10,                           // CONNECT
            0x10,                           // remaining length 16
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
            0x04,                           // level 4
            0xC2,                           // clean session, user name and password flags
            0x00, 0x3C,                     // keep alive 60
            0x00, 0x01, 'c',                // client id "c"
            0x00, 0x01, 'u');               // user name "u", then no password
        assertThat(failure(bytes, null)).isEqualTo(MALFORMED);
    }

    @Test
    void connectWillFlagWithoutWillTopicIsMalformed_MQTT_3_1_2_9() {
        byte[] bytes = b(
            0x10,                           // CONNECT
            0x0D,                           // remaining length 13
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
            0x04,                           // level 4
            0x06,                           // clean session, will flag
            0x00, 0x3C,                     // keep alive 60
            0x00, 0x01, 'c');               // client id "c", then no will
        assertThat(failure(bytes, null)).isEqualTo(MALFORMED);
    }

    @Test
    void connectFieldsNotFlaggedAreMalformed_MQTT_3_1_2_18() {
        byte[] bytes = b(
            0x10,                           // CONNECT
            0x10,                           // remaining length 16
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
            0x04,                           // level 4
            0x02,                           // clean session, no user name flag
            0x00, 0x3C,                     // keep alive 60
            0x00, 0x01, 'c',                // client id "c"
            0x00, 0x01, 'u');               // a user name nobody announced
        assertThat(failure(bytes, null)).isEqualTo(MALFORMED);
    }

    @Test
    void connectWillTopicWithWildcardIsMalformedV3AndTopicNameInvalidV5_MQTT_4_7_1_1() {
        byte[] v311 = b(
            0x10,                           // CONNECT
            0x13,                           // remaining length 19
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
            0x04,                           // level 4
            0x06,                           // clean session, will flag
            0x00, 0x3C,                     // keep alive 60
            0x00, 0x01, 'c',                // client id "c"
            0x00, 0x01, '#',                // will topic "#"
            0x00, 0x01, 'x');               // will message "x"
        assertThat(failure(v311, null)).isEqualTo(MALFORMED);
        byte[] v5 = b(
            0x10,                           // CONNECT
            0x15,                           // remaining length 21
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
            0x05,                           // level 5
            0x06,                           // clean start, will flag
            0x00, 0x3C,                     // keep alive 60
            0x00,                           // no properties
            0x00, 0x01, 'c',                // client id "c"
            0x00,                           // no will properties
            0x00, 0x01, '+',                // will topic "+"
            0x00, 0x01, 'x');               // will payload "x"
        assertThat(failure(v5, null)).isEqualTo(ReasonCode.TOPIC_NAME_INVALID);
    }

    @Test
    void connectEmptyWillTopicIsInvalid_MQTT_4_7_3_1() {
        byte[] bytes = b(
            0x10,                           // CONNECT
            0x12,                           // remaining length 18
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
            0x04,                           // level 4
            0x06,                           // clean session, will flag
            0x00, 0x3C,                     // keep alive 60
            0x00, 0x01, 'c',                // client id "c"
            0x00, 0x00,                     // will topic ""
            0x00, 0x01, 'x');               // will message "x"
        assertThat(failure(bytes, null)).isEqualTo(MALFORMED);
    }

    @Test
    void connectClientIdWithIllFormedUtf8IsMalformed_MQTT_1_5_3_1() {
        byte[] bytes = b(
            0x10,                           // CONNECT
            0x0D,                           // remaining length 13
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
            0x04,                           // level 4
            0x02,                           // clean session
            0x00, 0x3C,                     // keep alive 60
            0x00, 0x01, 0xFF);              // client id: byte 0xFF is never UTF-8
        assertThat(failure(bytes, null)).isEqualTo(MALFORMED);
    }

    @Test
    void connectClientIdLongerThanPacketIsMalformed() {
        byte[] bytes = b(
            0x10,                           // CONNECT
            0x0D,                           // remaining length 13
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
            0x04,                           // level 4
            0x02,                           // clean session
            0x00, 0x3C,                     // keep alive 60
            0x00, 0x05, 'c');               // client id of 5 bytes, only 1 present
        assertThat(failure(bytes, null)).isEqualTo(MALFORMED);
    }

    @Test
    void connectReceiveMaximumZeroIsProtocolError() {
        assertThat(failure(connectV5WithProperties(
            0x21, 0x00, 0x00), null))       // Receive Maximum 0
            .isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void connectMaximumPacketSizeZeroIsProtocolError() {
        assertThat(failure(connectV5WithProperties(
            0x27, 0x00, 0x00, 0x00, 0x00), null)) // Maximum Packet Size 0
            .isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void connectRequestProblemInformationOtherThan0Or1IsProtocolError() {
        assertThat(failure(connectV5WithProperties(
            0x17, 0x02), null))             // Request Problem Information 2
            .isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void connectRequestResponseInformationOtherThan0Or1IsProtocolError() {
        assertThat(failure(connectV5WithProperties(
            0x19, 0x02), null))             // Request Response Information 2
            .isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void connectDuplicateSessionExpiryIntervalIsProtocolError() {
        assertThat(failure(connectV5WithProperties(
            0x11, 0x00, 0x00, 0x00, 0x0A,   // Session Expiry Interval 10
            0x11, 0x00, 0x00, 0x00, 0x0B), null)) // Session Expiry Interval 11
            .isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void connectUserPropertyMayRepeat() throws DecodeException {
        assertThat(Codec.decodeConnect(connectV5WithProperties(
            0x26, 0x00, 0x01, 'k', 0x00, 0x01, '1', // User Property k=1
            0x26, 0x00, 0x01, 'k', 0x00, 0x01, '2')) // User Property k=2
            .properties().userProperties()).containsExactly(new UserProperty("k", "1"), new UserProperty("k", "2"));
    }

    @Test
    void connectAuthenticationDataWithoutMethodIsProtocolError() {
        assertThat(failure(connectV5WithProperties(
            0x16, 0x00, 0x01, 0x2A), null)) // Authentication Data, no Authentication Method
            .isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void connectPropertyNotAllowedInConnectIsMalformed_section_2_2_2_2() {
        assertThat(failure(connectV5WithProperties(
            0x23, 0x00, 0x01), null))       // Topic Alias: a PUBLISH property
            .isEqualTo(MALFORMED);
    }

    @Test
    void connectUnknownPropertyIsMalformed_section_2_2_2_2() {
        assertThat(failure(connectV5WithProperties(
            0x05, 0x00), null))             // identifier 0x05 is not defined
            .isEqualTo(MALFORMED);
    }

    @Test
    void connectPropertyValueRunningPastPropertiesIsMalformed() {
        assertThat(failure(connectV5WithProperties(
            0x11, 0x00, 0x00), null))       // Session Expiry Interval with 2 of 4 bytes
            .isEqualTo(MALFORMED);
    }

    @Test
    void connectPropertyLengthBeyondPacketIsMalformed() {
        byte[] bytes = b(
            0x10,                           // CONNECT
            0x0E,                           // remaining length 14
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
            0x05,                           // level 5
            0x02,                           // clean start
            0x00, 0x3C,                     // keep alive 60
            0x20,                           // property length 32: beyond the packet
            0x00, 0x01, 'c');               // client id "c"
        assertThat(failure(bytes, null)).isEqualTo(MALFORMED);
    }

    @Test
    void connectWillPayloadFormatIndicatorOtherThan0Or1IsProtocolError() {
        assertThat(failure(connectV5WithWillProperties(
            0x01, 0x02), null))             // Payload Format Indicator 2
            .isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void connectWillPropertyNotAllowedInWillIsMalformed() {
        assertThat(failure(connectV5WithWillProperties(
            0x11, 0x00, 0x00, 0x00, 0x01), null)) // Session Expiry Interval: not a Will property
            .isEqualTo(MALFORMED);
    }

    @Test
    void connectWillDelayIntervalIsAWillProperty() throws DecodeException {
        assertThat(Codec.decodeConnect(connectV5WithWillProperties(
            0x18, 0x00, 0x00, 0x00, 0x05))  // Will Delay Interval 5
            .will().properties().willDelayInterval()).isEqualTo(5L);
        assertThat(failure(connectV5WithProperties(
            0x18, 0x00, 0x00, 0x00, 0x05), null)) // ... but not a CONNECT property
            .isEqualTo(MALFORMED);
    }

    @Test
    void connectTrailingBytesAreMalformed() {
        byte[] bytes = b(
            0x10,                           // CONNECT
            0x0E,                           // remaining length 14
            0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
            0x04,                           // level 4
            0x02,                           // clean session
            0x00, 0x3C,                     // keep alive 60
            0x00, 0x01, 'c',                // client id "c"
            0x00);                          // one byte too many
        assertThat(failure(bytes, null)).isEqualTo(MALFORMED);
    }

    // ------------------------------------------------------------------ PUBLISH

    @Test
    void publishQos3IsMalformed_MQTT_3_3_1_4() {
        byte[] bytes = b(
            0x36,                   // PUBLISH, QoS 3
            0x05,                   // remaining length 5
            0x00, 0x01, 't',        // topic "t"
            0x00, 0x01);            // packet id 1
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
        assertThat(failure(bytes, V5)).isEqualTo(MALFORMED);
    }

    @Test
    void publishDupWithQos0IsMalformedV3AndProtocolErrorV5_MQTT_3_3_1_2() {
        byte[] v311 = b(
            0x38,                   // PUBLISH, DUP, QoS 0
            0x04,                   // remaining length 4
            0x00, 0x01, 't',        // topic "t"
            'x');                   // payload
        assertThat(failure(v311, V311)).isEqualTo(MALFORMED);
        byte[] v5 = b(
            0x38,                   // PUBLISH, DUP, QoS 0
            0x05,                   // remaining length 5
            0x00, 0x01, 't',        // topic "t"
            0x00,                   // no properties
            'x');                   // payload
        assertThat(failure(v5, V5)).isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void publishTopicWithWildcardIsTopicNameInvalid_MQTT_3_3_2_2() {
        byte[] plus = b(
            0x30,                   // PUBLISH, QoS 0
            0x05,                   // remaining length 5
            0x00, 0x03, 'a', '/', '+'); // topic "a/+"
        assertThat(failure(plus, V311)).isEqualTo(ReasonCode.TOPIC_NAME_INVALID);
        byte[] hash = b(
            0x30,                   // PUBLISH, QoS 0
            0x06,                   // remaining length 6
            0x00, 0x03, 'a', '/', '#', // topic "a/#"
            0x00);                  // no properties
        assertThat(failure(hash, V5)).isEqualTo(ReasonCode.TOPIC_NAME_INVALID);
    }

    @Test
    void publishEmptyTopicIsMalformedV3_MQTT_4_7_3_1() {
        byte[] bytes = b(
            0x30,                   // PUBLISH, QoS 0
            0x03,                   // remaining length 3
            0x00, 0x00,             // topic ""
            'x');                   // payload
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
    }

    @Test
    void publishEmptyTopicWithoutTopicAliasIsProtocolErrorV5_section_3_3_2_1() throws DecodeException {
        byte[] noAlias = b(
            0x30,                   // PUBLISH, QoS 0
            0x04,                   // remaining length 4
            0x00, 0x00,             // topic ""
            0x00,                   // no properties
            'x');                   // payload
        assertThat(failure(noAlias, V5)).isEqualTo(PROTOCOL_ERROR);
        byte[] withAlias = b(
            0x30,                   // PUBLISH, QoS 0
            0x07,                   // remaining length 7
            0x00, 0x00,             // topic ""
            0x03,                   // property length 3
            0x23, 0x00, 0x01,       // Topic Alias 1
            'x');                   // payload
        assertThat(((PublishPacket) decode(withAlias, V5)).properties().topicAlias()).isEqualTo(1);
    }

    @Test
    void publishPacketIdZeroIsMalformedV3AndProtocolErrorV5_MQTT_2_3_1_1() {
        byte[] v311 = b(
            0x32,                   // PUBLISH, QoS 1
            0x05,                   // remaining length 5
            0x00, 0x01, 't',        // topic "t"
            0x00, 0x00);            // packet id 0
        assertThat(failure(v311, V311)).isEqualTo(MALFORMED);
        byte[] v5 = b(
            0x34,                   // PUBLISH, QoS 2
            0x06,                   // remaining length 6
            0x00, 0x01, 't',        // topic "t"
            0x00, 0x00,             // packet id 0
            0x00);                  // no properties
        assertThat(failure(v5, V5)).isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void publishQos1WithoutPacketIdIsMalformed() {
        byte[] bytes = b(
            0x32,                   // PUBLISH, QoS 1
            0x04,                   // remaining length 4
            0x00, 0x01, 't',        // topic "t"
            0x00);                  // half a packet id
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
    }

    @Test
    void publishTopicLongerThanPacketIsMalformed() {
        byte[] bytes = b(
            0x30,                   // PUBLISH, QoS 0
            0x03,                   // remaining length 3
            0x00, 0x09, 't');       // topic of 9 bytes, 1 present
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
    }

    @Test
    void publishTopicAliasZeroIsTopicAliasInvalid_MQTT_3_3_2_8() {
        assertThat(failure(publishV5WithProperties(
            0x23, 0x00, 0x00), V5))         // Topic Alias 0
            .isEqualTo(ReasonCode.TOPIC_ALIAS_INVALID);
    }

    @Test
    void publishDuplicateTopicAliasIsProtocolError_section_3_3_2_3_4() {
        assertThat(failure(publishV5WithProperties(
            0x23, 0x00, 0x01,               // Topic Alias 1
            0x23, 0x00, 0x02), V5))         // Topic Alias 2
            .isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void publishSubscriptionIdentifierFromClientIsProtocolError_MQTT_3_3_4_6() throws DecodeException {
        byte[] bytes = publishV5WithProperties(
            0x0B, 0x05,                     // Subscription Identifier 5
            0x0B, 0x06);                    // Subscription Identifier 6
        assertThat(failure(bytes, V5)).isEqualTo(PROTOCOL_ERROR);
        // from a server: several are allowed [MQTT-3.3.4-3]
        PublishPacket p = (PublishPacket) decode(bytes, V5, Sender.SERVER);
        assertThat(p.properties().subscriptionIdentifiers()).containsExactly(5, 6);
    }

    @Test
    void publishSubscriptionIdentifierZeroIsProtocolError() {
        assertThat(failure(publishV5WithProperties(
            0x0B, 0x00), V5))               // Subscription Identifier 0
            .isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void publishPayloadFormatIndicatorOtherThan0Or1IsProtocolError() {
        assertThat(failure(publishV5WithProperties(
            0x01, 0x02), V5))               // Payload Format Indicator 2
            .isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void publishResponseTopicWithWildcardIsProtocolError_MQTT_3_3_2_14() {
        assertThat(failure(publishV5WithProperties(
            0x08, 0x00, 0x03, 'r', '/', '#'), V5)) // Response Topic "r/#"
            .isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void publishResponseTopicWithIllFormedUtf8IsMalformed_MQTT_3_3_2_13() {
        assertThat(failure(publishV5WithProperties(
            0x08, 0x00, 0x02, 'r', 0xC0), V5)) // Response Topic "r" + a lone lead byte
            .isEqualTo(MALFORMED);
    }

    @Test
    void publishContentTypeWithIllFormedUtf8IsMalformed_MQTT_3_3_2_19() {
        assertThat(failure(publishV5WithProperties(
            0x03, 0x00, 0x03, 't', 0xED, 0xA0), V5)) // Content Type with a truncated surrogate encoding
            .isEqualTo(MALFORMED);
    }

    @Test
    void publishUserPropertyValueWithIllFormedUtf8IsMalformed_MQTT_1_5_7_1() {
        assertThat(failure(publishV5WithProperties(
            0x26,                           // User Property
            0x00, 0x01, 'k',                // name "k"
            0x00, 0x02, 0xC3, 0x28), V5))   // value: 0xC3 followed by a non-continuation byte
            .isEqualTo(MALFORMED);
    }

    @Test
    void publishUserPropertyNameWithNullCharacterIsMalformed_MQTT_1_5_7_1() {
        assertThat(failure(publishV5WithProperties(
            0x26,                           // User Property
            0x00, 0x01, 0x00,               // name U+0000
            0x00, 0x01, 'v'), V5))          // value "v"
            .isEqualTo(MALFORMED);
    }

    @Test
    void publishPropertyNotAllowedIsMalformed_section_2_2_2_2() {
        assertThat(failure(publishV5WithProperties(
            0x11, 0x00, 0x00, 0x00, 0x01), V5)) // Session Expiry Interval
            .isEqualTo(MALFORMED);
    }

    @Test
    void publishPropertyLengthLongerThanFourBytesIsMalformed_MQTT_1_5_5() {
        byte[] bytes = b(
            0x32,                           // PUBLISH, QoS 1
            0x0A,                           // remaining length 10
            0x00, 0x01, 't',                // topic "t"
            0x00, 0x01,                     // packet id 1
            0x80, 0x80, 0x80, 0x80, 0x01);  // property length in five bytes
        assertThat(failure(bytes, V5)).isEqualTo(MALFORMED);
    }

    @Test
    void publishPropertyLengthNotMinimalIsMalformed_MQTT_1_5_5_1() {
        byte[] bytes = b(
            0x32,                           // PUBLISH, QoS 1
            0x07,                           // remaining length 7
            0x00, 0x01, 't',                // topic "t"
            0x00, 0x01,                     // packet id 1
            0x80, 0x00);                    // property length 0 in two bytes
        assertThat(failure(bytes, V5)).isEqualTo(MALFORMED);
    }

    @Test
    void publishPropertyLengthBeyondPacketIsMalformed() {
        byte[] bytes = b(
            0x32,                           // PUBLISH, QoS 1
            0x07,                           // remaining length 7
            0x00, 0x01, 't',                // topic "t"
            0x00, 0x01,                     // packet id 1
            0x05,                           // property length 5
            0x01);                          // ... only one byte left
        assertThat(failure(bytes, V5)).isEqualTo(MALFORMED);
    }

    // ------------------------------------------------------------------ SUBSCRIBE

    @Test
    void subscribeWithoutFiltersIsMalformedV3AndProtocolErrorV5_MQTT_3_8_3_3() {
        byte[] v311 = b(
            0x82,                   // SUBSCRIBE
            0x02,                   // remaining length 2
            0x00, 0x01);            // packet id 1, no payload
        assertThat(failure(v311, V311)).isEqualTo(MALFORMED);
        byte[] v5 = b(
            0x82,                   // SUBSCRIBE
            0x03,                   // remaining length 3
            0x00, 0x01,             // packet id 1
            0x00);                  // no properties, no payload
        assertThat(failure(v5, V5)).isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void subscribePacketIdZeroIsMalformed_MQTT_2_3_1_1() {
        byte[] bytes = b(
            0x82,                   // SUBSCRIBE
            0x06,                   // remaining length 6
            0x00, 0x00,             // packet id 0
            0x00, 0x01, 'a',        // filter "a"
            0x00);                  // QoS 0
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
    }

    @Test
    void subscribeQos3IsMalformed_MQTT_3_8_3_4() {
        byte[] bytes = b(
            0x82,                   // SUBSCRIBE
            0x06,                   // remaining length 6
            0x00, 0x01,             // packet id 1
            0x00, 0x01, 'a',        // filter "a"
            0x03);                  // QoS 3
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
    }

    @Test
    void subscribeReservedBitsAreMalformedV3_MQTT_3_8_3_4() {
        byte[] bytes = b(
            0x82,                   // SUBSCRIBE
            0x06,                   // remaining length 6
            0x00, 0x01,             // packet id 1
            0x00, 0x01, 'a',        // filter "a"
            0x04);                  // QoS 0 with reserved bit 2 (No Local in 5.0)
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
    }

    @Test
    void subscribeReservedBitsAreMalformedV5_MQTT_3_8_3_5() {
        byte[] bytes = b(
            0x82,                   // SUBSCRIBE
            0x07,                   // remaining length 7
            0x00, 0x01,             // packet id 1
            0x00,                   // no properties
            0x00, 0x01, 'a',        // filter "a"
            0x40);                  // reserved bit 6
        assertThat(failure(bytes, V5)).isEqualTo(MALFORMED);
    }

    @Test
    void subscribeQos3IsProtocolErrorV5_section_3_8_3_1() {
        byte[] bytes = b(
            0x82,                   // SUBSCRIBE
            0x07,                   // remaining length 7
            0x00, 0x01,             // packet id 1
            0x00,                   // no properties
            0x00, 0x01, 'a',        // filter "a"
            0x03);                  // Maximum QoS 3
        assertThat(failure(bytes, V5)).isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void subscribeRetainHandling3IsProtocolError_section_3_8_3_1() {
        byte[] bytes = b(
            0x82,                   // SUBSCRIBE
            0x07,                   // remaining length 7
            0x00, 0x01,             // packet id 1
            0x00,                   // no properties
            0x00, 0x01, 'a',        // filter "a"
            0x30);                  // Retain Handling 3
        assertThat(failure(bytes, V5)).isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void subscribeNoLocalOnSharedSubscriptionIsProtocolError_MQTT_3_8_3_4_v5() {
        byte[] bytes = b(
            0x82,                                           // SUBSCRIBE
            0x0F,                                           // remaining length 15
            0x00, 0x01,                                     // packet id 1
            0x00,                                           // no properties
            0x00, 0x09, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', '/', // filter "$share/g/"
            0x04);                                          // No Local
        assertThat(failure(bytes, V5)).isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void subscribeSubscriptionIdentifierZeroIsProtocolError() {
        byte[] bytes = b(
            0x82,                   // SUBSCRIBE
            0x09,                   // remaining length 9
            0x00, 0x01,             // packet id 1
            0x02,                   // property length 2
            0x0B, 0x00,             // Subscription Identifier 0
            0x00, 0x01, 'a',        // filter "a"
            0x00);                  // QoS 0
        assertThat(failure(bytes, V5)).isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void subscribeTwoSubscriptionIdentifiersIsProtocolError() {
        byte[] bytes = b(
            0x82,                   // SUBSCRIBE
            0x0B,                   // remaining length 11
            0x00, 0x01,             // packet id 1
            0x04,                   // property length 4
            0x0B, 0x01,             // Subscription Identifier 1
            0x0B, 0x02,             // Subscription Identifier 2
            0x00, 0x01, 'a',        // filter "a"
            0x00);                  // QoS 0
        assertThat(failure(bytes, V5)).isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void subscribeFilterWithIllFormedUtf8IsMalformed_MQTT_3_8_3_1() {
        byte[] bytes = b(
            0x82,                   // SUBSCRIBE
            0x07,                   // remaining length 7
            0x00, 0x01,             // packet id 1
            0x00, 0x02, 0xC3, 0x28, // filter: 0xC3 followed by a non-continuation byte
            0x00);                  // QoS 0
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
    }

    @Test
    void subscribeFilterWithoutOptionsIsMalformed() {
        byte[] bytes = b(
            0x82,                   // SUBSCRIBE
            0x05,                   // remaining length 5
            0x00, 0x01,             // packet id 1
            0x00, 0x01, 'a');       // filter "a", no QoS byte
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
    }

    @Test
    void subscribeFilterSyntaxIsLeftToTheBroker() throws DecodeException {
        byte[] bytes = b(
            0x82,                   // SUBSCRIBE
            0x0A,                   // remaining length 10
            0x00, 0x01,             // packet id 1
            0x00, 0x05, 'a', '/', '#', '/', 'b', // filter "a/#/b": invalid, answered per filter
            0x01);                  // QoS 1
        assertThat(((SubscribePacket) decode(bytes, V311)).subscriptions().get(0).filter()).isEqualTo("a/#/b");
    }

    // ------------------------------------------------------------------ UNSUBSCRIBE

    @Test
    void unsubscribeWithoutFiltersIsMalformedV3AndProtocolErrorV5_MQTT_3_10_3_2() {
        byte[] v311 = b(
            0xA2,                   // UNSUBSCRIBE
            0x02,                   // remaining length 2
            0x00, 0x01);            // packet id 1, no payload
        assertThat(failure(v311, V311)).isEqualTo(MALFORMED);
        byte[] v5 = b(
            0xA2,                   // UNSUBSCRIBE
            0x03,                   // remaining length 3
            0x00, 0x01,             // packet id 1
            0x00);                  // no properties, no payload
        assertThat(failure(v5, V5)).isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void unsubscribePacketIdZeroIsProtocolErrorV5_MQTT_2_2_1_3() {
        byte[] bytes = b(
            0xA2,                   // UNSUBSCRIBE
            0x06,                   // remaining length 6
            0x00, 0x00,             // packet id 0
            0x00,                   // no properties
            0x00, 0x01, 'a');       // filter "a"
        assertThat(failure(bytes, V5)).isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void unsubscribePropertyNotAllowedIsMalformed() {
        byte[] bytes = b(
            0xA2,                   // UNSUBSCRIBE
            0x08,                   // remaining length 8
            0x00, 0x01,             // packet id 1
            0x02,                   // property length 2
            0x0B, 0x01,             // Subscription Identifier: not allowed in UNSUBSCRIBE
            0x00, 0x01, 'a');       // filter "a"
        assertThat(failure(bytes, V5)).isEqualTo(MALFORMED);
    }

    // ------------------------------------------------------------------ PINGREQ, PINGRESP, DISCONNECT

    @Test
    void pingReqWithRemainingLengthIsMalformed_section_3_12() {
        byte[] bytes = b(
            0xC0,                   // PINGREQ
            0x01,                   // remaining length 1
            0x00);                  // unexpected byte
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
        assertThat(failure(bytes, V5)).isEqualTo(MALFORMED);
    }

    @Test
    void pingRespWithRemainingLengthIsMalformed_section_3_13() {
        byte[] bytes = b(
            0xD0,                   // PINGRESP
            0x01,                   // remaining length 1
            0x00);                  // unexpected byte
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
    }

    @Test
    void disconnectV3WithRemainingLengthIsMalformed_section_3_14() {
        byte[] bytes = b(
            0xE0,                   // DISCONNECT
            0x01,                   // remaining length 1
            0x00);                  // a reason code 3.1.1 does not have
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
        assertThat(failure(bytes, V31)).isEqualTo(MALFORMED);
    }

    @Test
    void disconnectV5ShortFormsAndContextNames() throws DecodeException {
        assertThat(decode(b(
            0xE0,                   // DISCONNECT
            0x00), V5))             // remaining length 0
            .isSameAs(DisconnectPacket.NORMAL);
        DisconnectPacket p = (DisconnectPacket) decode(b(
            0xE0,                   // DISCONNECT
            0x02,                   // remaining length 2
            0x00,                   // Normal disconnection
            0x00), V5);             // no properties
        assertThat(p.reasonCode()).isEqualTo(ReasonCode.NORMAL_DISCONNECTION);
        assertThat(((DisconnectPacket) decode(b(
            0xE0,                   // DISCONNECT
            0x01,                   // remaining length 1
            0x04), V5))             // Disconnect with Will Message, no property length
            .reasonCode()).isEqualTo(ReasonCode.DISCONNECT_WITH_WILL_MESSAGE);
    }

    @Test
    void disconnectInvalidReasonCodeIsMalformed() {
        byte[] bytes = b(
            0xE0,                   // DISCONNECT
            0x01,                   // remaining length 1
            0x05);                  // 0x05 is not a reason code
        assertThat(failure(bytes, V5)).isEqualTo(MALFORMED);
    }

    // ------------------------------------------------------------------ acks

    @Test
    void pubAckShorterThanPacketIdIsMalformed() {
        byte[] bytes = b(
            0x40,                   // PUBACK
            0x01,                   // remaining length 1
            0x00);                  // half a packet id
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
        assertThat(failure(bytes, V5)).isEqualTo(MALFORMED);
    }

    @Test
    void pubAckV3WithExtraBytesIsMalformed() {
        byte[] bytes = b(
            0x40,                   // PUBACK
            0x03,                   // remaining length 3
            0x00, 0x01,             // packet id 1
            0x00);                  // a reason code 3.1.1 does not have
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
    }

    @Test
    void ackReasonCodeNotValidForPacketIsMalformed() {
        assertThat(failure(b(
            0x40,                   // PUBACK
            0x03,                   // remaining length 3
            0x00, 0x01,             // packet id 1
            0x92), V5))             // Packet Identifier not found: PUBREL/PUBCOMP only
            .isEqualTo(MALFORMED);
        assertThat(failure(b(
            0x62,                   // PUBREL
            0x03,                   // remaining length 3
            0x00, 0x01,             // packet id 1
            0x10), V5))             // No matching subscribers: PUBACK/PUBREC only
            .isEqualTo(MALFORMED);
        assertThat(failure(b(
            0xF0,                   // AUTH
            0x01,                   // remaining length 1
            0x01), V5))             // 0x01 is not an AUTH reason code
            .isEqualTo(MALFORMED);
    }

    @Test
    void ackPropertyNotAllowedIsMalformed() {
        assertThat(failure(pubAckV5WithProperties(
            0x23, 0x00, 0x01), V5))         // Topic Alias in a PUBACK
            .isEqualTo(MALFORMED);
    }

    @Test
    void ackDuplicateReasonStringIsProtocolError() {
        assertThat(failure(pubAckV5WithProperties(
            0x1F, 0x00, 0x01, 'a',          // Reason String "a"
            0x1F, 0x00, 0x01, 'b'), V5))    // Reason String "b"
            .isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void subAckContextNameForZeroIsGrantedQos0() throws DecodeException {
        byte[] bytes = b(
            0x90,                   // SUBACK
            0x04,                   // remaining length 4
            0x00, 0x01,             // packet id 1
            0x00,                   // no properties
            0x00);                  // Granted QoS 0
        assertThat(((SubAckPacket) decode(bytes, V5, Sender.SERVER)).reasonCodes())
                .containsExactly(ReasonCode.GRANTED_QOS_0);
    }

    @Test
    void subAckV3ReservedReturnCodeIsMalformed_MQTT_3_9_3_2() {
        byte[] bytes = b(
            0x90,                   // SUBACK
            0x03,                   // remaining length 3
            0x00, 0x01,             // packet id 1
            0x03);                  // return code 3 is reserved
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
    }

    @Test
    void connAckReservedFlagsAreMalformed_MQTT_3_2_2_1() {
        byte[] bytes = b(
            0x20,                   // CONNACK
            0x02,                   // remaining length 2
            0x02,                   // reserved bit 1 set
            0x00);                  // accepted
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
    }

    @Test
    void connAckSessionPresentWithErrorIsProtocolError_MQTT_3_2_2_6() {
        byte[] bytes = b(
            0x20,                   // CONNACK
            0x03,                   // remaining length 3
            0x01,                   // session present
            0x87,                   // Not authorized
            0x00);                  // no properties
        assertThat(failure(bytes, V5)).isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void connAckV3ReservedReturnCodeIsMalformed() {
        byte[] bytes = b(
            0x20,                   // CONNACK
            0x02,                   // remaining length 2
            0x00,                   // no session
            0x06);                  // return code 6 is reserved
        assertThat(failure(bytes, V311)).isEqualTo(MALFORMED);
    }

    @Test
    void connAckV5WithoutPropertyLengthIsMalformed_MQTT_2_2_2_1() {
        byte[] bytes = b(
            0x20,                   // CONNACK
            0x02,                   // remaining length 2
            0x00,                   // no session
            0x00);                  // Success, property length missing
        assertThat(failure(bytes, V5)).isEqualTo(MALFORMED);
    }

    @Test
    void connAckMaximumQos2IsProtocolError() {
        byte[] bytes = b(
            0x20,                   // CONNACK
            0x05,                   // remaining length 5
            0x00,                   // no session
            0x00,                   // Success
            0x02,                   // property length 2
            0x24, 0x02);            // Maximum QoS 2
        assertThat(failure(bytes, V5)).isEqualTo(PROTOCOL_ERROR);
    }

    @Test
    void connAckMqtt31IgnoresTheReservedByte() throws DecodeException {
        byte[] bytes = b(
            0x20,                   // CONNACK
            0x02,                   // remaining length 2
            0x00,                   // reserved
            0x05);                  // not authorized
        assertThat(decode(bytes, V31, Sender.SERVER))
                .isEqualTo(new ConnAckPacket(false, ReasonCode.NOT_AUTHORIZED, Properties.EMPTY));
    }

    @Test
    void failedDecodeRestoresTheReaderIndex() {
        io.netty.buffer.ByteBuf body = io.netty.buffer.Unpooled.wrappedBuffer(b(
            0x00, 0x01, '#'));      // topic "#"
        try {
            assertThat(failureOf(() -> PacketDecoder.decode(0x30, body, V311))).isEqualTo(ReasonCode.TOPIC_NAME_INVALID);
            assertThat(body.readerIndex()).isZero();
        } finally {
            body.release();
        }
    }

    private interface Decoding {
        Object run() throws DecodeException;
    }

    private static ReasonCode failureOf(Decoding d) {
        try {
            d.run();
            throw new AssertionError("expected a DecodeException");
        } catch (DecodeException e) {
            return e.reasonCode();
        }
    }
}
