package io.starling.it.spec.v311;

import static io.starling.it.spec.Wire.QOS1;
import static io.starling.it.spec.Wire.QOS2;
import static org.assertj.core.api.Assertions.assertThat;

import io.starling.it.BrokerExtension;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** MQTT 3.1.1 sections 1.5 (data representation), 2.2 (fixed header) and 2.3 (packet identifier), byte by byte. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DataRepresentationSpecTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Conns conns = new Conns(broker);

    // [MQTT-1.5.3-1] UTF-8 strings must be well-formed and must not encode U+D800..U+DFFF; the receiver closes the
    // connection otherwise. Here: an encoded surrogate in a PUBLISH topic and in a SUBSCRIBE filter.
    @Test
    void encodedSurrogateClosesTheConnection_MQTT_1_5_3_1() {
        conns.connect311("utf-sur1").send(
                0x30, 0x06,                                // PUBLISH QoS 0, remaining length 6
                0x00, 0x03, 0xED, 0xA0, 0x80,              // topic: U+D800 encoded in UTF-8
                'x')                                       // payload
                .expectClosedWithoutPacket();
        conns.connect311("utf-sur2").send(
                0x82, 0x08,                                // SUBSCRIBE, remaining length 8
                0x00, 0x01,                                // packet id 1
                0x00, 0x03, 0xED, 0xBF, 0xBF,              // filter: U+DFFF encoded in UTF-8
                0x00)                                      // QoS 0
                .expectClosedWithoutPacket();
    }

    // [MQTT-1.5.3-1] Other ill-formed UTF-8 (an overlong encoding of '/') in a topic name closes the connection.
    @Test
    void overlongUtf8ClosesTheConnection_MQTT_1_5_3_1() {
        conns.connect311("utf-over").send(
                0x30, 0x06,                                // PUBLISH QoS 0, remaining length 6
                0x00, 0x03, 'a', 0xC0, 0xAF,               // topic: 'a' then an overlong two-byte '/'
                'x')                                       // payload
                .expectClosedWithoutPacket();
    }

    // [MQTT-1.5.3-2] A UTF-8 string must not contain U+0000; a receiver seeing it closes the connection.
    @Test
    void nullCharacterClosesTheConnection_MQTT_1_5_3_2() {
        conns.connect311("utf-nul1").send(
                0x30, 0x06,                                // PUBLISH QoS 0, remaining length 6
                0x00, 0x03, 'a', 0x00, 'b',                // topic "a\0b"
                'x')                                       // payload
                .expectClosedWithoutPacket();
        conns.open().send(
                0x10, 0x0E,                                // CONNECT, remaining length 14
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x04,                                      // level 4
                0x02,                                      // flags: clean session
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x02, 'c', 0x00)                     // client id "c\0"
                .expectClosedWithoutPacket();
    }

    // [MQTT-1.5.3-3] 0xEF 0xBB 0xBF is U+FEFF and is neither stripped nor skipped: a topic starting with it is a
    // different topic from the one without it, and is delivered with the bytes intact.
    @Test
    void byteOrderMarkIsKept_MQTT_1_5_3_3() {
        Conn withBom = conns.connect311("bom-with");
        withBom.send(
                0x82, 0x0A,                                // SUBSCRIBE, remaining length 10
                0x00, 0x01,                                // packet id 1
                0x00, 0x05, 0xEF, 0xBB, 0xBF, 'b', 'o',    // filter U+FEFF "bo"
                0x00);                                     // QoS 0
        withBom.expect(0x90, 0x03, 0x00, 0x01, 0x00);      // SUBACK granted QoS 0
        Conn without = conns.subscriber311("bom-without", "bo", 0);
        Conn pub = conns.connect311("bom-pub");
        pub.send(
                0x30, 0x08,                                // PUBLISH QoS 0, remaining length 8
                0x00, 0x05, 0xEF, 0xBB, 0xBF, 'b', 'o',    // topic U+FEFF "bo"
                'x');                                      // payload
        withBom.expect(
                0x30, 0x08,                                // PUBLISH QoS 0, remaining length 8
                0x00, 0x05, 0xEF, 0xBB, 0xBF, 'b', 'o',    // the topic with its byte order mark
                'x');                                      // payload
        without.expectNothing();                           // "bo" is another topic
    }

    // [MQTT-2.2.2-1] Reserved fixed-header flag bits must have the listed values; [MQTT-2.2.2-2] a receiver of invalid
    // flags closes the connection. PUBACK, PUBREC, PUBCOMP (0000) and PINGREQ (0000) with one flag bit set.
    @ParameterizedTest
    @ValueSource(ints = {0x42, 0x51, 0x74, 0xC8})
    void invalidFixedHeaderFlagsClose_MQTT_2_2_2_2(int firstByte) {
        Conn c = conns.connect311("flags-" + Integer.toHexString(firstByte));
        int[] body = (firstByte & 0xF0) == 0xC0
                ? new int[] {}                             // PINGREQ: no body
                : new int[] {0x00, 0x01};                  // packet id 1
        c.send(Wire.cat(new int[] {firstByte, body.length}, body)); // first byte with a wrong flag, remaining length
        c.expectClosedWithoutPacket();
    }

    // [MQTT-2.2.2-2] CONNECT (flags 0000) with a flag bit set, as the first packet: closed without CONNACK.
    @Test
    void connectWithFixedHeaderFlagsCloses_MQTT_2_2_2_2() {
        conns.open().send(
                0x12, 0x0D,                                // CONNECT with fixed-header flags 0010, remaining length 13
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x04,                                      // level 4
                0x02,                                      // flags: clean session
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x01, 'f')                           // client id "f"
                .expectClosedWithoutPacket();
    }

    // [MQTT-2.2.2-2] The reserved flags of SUBSCRIBE, UNSUBSCRIBE, PUBREL (0010) and DISCONNECT (0000): other values
    // close the connection (also covered by SubscribeSpecTest, UnsubscribeSpecTest, QosFlowSpecTest,
    // PingDisconnectSpecTest for each packet).
    @ParameterizedTest
    @ValueSource(ints = {0x83, 0xA0, 0x6A, 0xE2})
    void invalidFlagsOnFlaggedPacketsClose_MQTT_2_2_2_1(int firstByte) {
        Conn c = conns.connect311("flags2-" + Integer.toHexString(firstByte));
        int[] body = switch (firstByte & 0xF0) {
            case 0x80 -> new int[] {0x00, 0x01, 0x00, 0x01, 'a', 0x00}; // packet id 1, filter "a", QoS 0
            case 0xA0 -> new int[] {0x00, 0x01, 0x00, 0x01, 'a'};       // packet id 1, filter "a"
            case 0x60 -> new int[] {0x00, 0x01};                        // packet id 1
            default -> new int[] {};                                    // DISCONNECT: no body
        };
        c.send(Wire.cat(new int[] {firstByte, body.length}, body));
        c.expectClosedWithoutPacket();
    }

    // [MQTT-2.3.1-1] SUBSCRIBE, UNSUBSCRIBE and QoS > 0 PUBLISH carry a non-zero packet identifier: 0 closes.
    @Test
    void packetIdentifierZeroCloses_MQTT_2_3_1_1() {
        conns.connect311("pid0-pub").send(
                0x32, 0x06,                                // PUBLISH QoS 1, remaining length 6
                0x00, 0x01, 'a',                           // topic "a"
                0x00, 0x00,                                // packet id 0
                'x')                                       // payload
                .expectClosedWithoutPacket();
        conns.connect311("pid0-sub").send(
                0x82, 0x06,                                // SUBSCRIBE, remaining length 6
                0x00, 0x00,                                // packet id 0
                0x00, 0x01, 'a',                           // filter "a"
                0x00)                                      // QoS 0
                .expectClosedWithoutPacket();
        conns.connect311("pid0-unsub").send(
                0xA2, 0x05,                                // UNSUBSCRIBE, remaining length 5
                0x00, 0x00,                                // packet id 0
                0x00, 0x01, 'a')                           // filter "a"
                .expectClosedWithoutPacket();
    }

    // [MQTT-2.3.1-4] The server's own QoS > 0 PUBLISH packets carry non-zero identifiers not currently in use:
    // three unacknowledged deliveries have three distinct identifiers, and a fourth after one PUBACK still differs
    // from the two that remain unacknowledged. [MQTT-2.3.1-1] non-zero on the server's side too.
    @Test
    void serverPacketIdentifiersAreNonZeroAndUnused_MQTT_2_3_1_4() {
        Conn sub = conns.subscriber311("pid-sub", "pid/t", 1);
        Conn pub = conns.connect311("pid-pub");
        Set<Integer> inUse = new HashSet<>();
        int first = 0;
        for (int i = 1; i <= 3; i++) {
            pub.send(Wire.publish311(QOS1, "pid/t", i, "q" + i));
            pub.expect(0x40, 0x02, 0x00, i);               // PUBACK
            int id = sub.expectPublish311(QOS1, "pid/t", "q" + i);
            assertThat(id).as("packet id").isNotZero();
            assertThat(inUse.add(id)).as("id %d not in use", id).isTrue();
            if (i == 1) {
                first = id;
            }
        }
        sub.send(0x40, 0x02, first >> 8, first & 0xFF);    // PUBACK the first: its id is free again
        inUse.remove(first);
        pub.send(Wire.publish311(QOS2, "pid/t", 4, "q4")); // QoS 2 in, granted 1: delivered at QoS 1
        pub.expect(0x50, 0x02, 0x00, 0x04);                // PUBREC
        int id4 = sub.expectPublish311(QOS1, "pid/t", "q4");
        assertThat(id4).isNotZero();
        assertThat(inUse).as("ids still unacknowledged").doesNotContain(id4);
    }

    // [MQTT-2.3.1-5] A QoS 0 PUBLISH has no packet identifier: the server's QoS 0 delivery has the payload right after
    // the topic name, even when the message was published at QoS 1 (downgraded).
    @Test
    void qos0PublishHasNoPacketIdentifier_MQTT_2_3_1_5() {
        Conn sub = conns.subscriber311("qos0-noid-sub", "noid/t", 0);
        Conn pub = conns.connect311("qos0-noid-pub");
        pub.send(Wire.publish311(QOS1, "noid/t", 0x0102, "p")); // PUBLISH QoS 1, packet id 0x0102
        pub.expect(0x40, 0x02, 0x01, 0x02);                // PUBACK 0x0102
        sub.expect(
                0x30, 0x09,                                // PUBLISH QoS 0, remaining length 9
                0x00, 0x06, 'n', 'o', 'i', 'd', '/', 't',  // topic "noid/t"
                'p');                                      // payload right after the topic: no packet id
    }

    // [MQTT-2.3.1-6] PUBACK, PUBREC and PUBREL carry the packet identifier of the PUBLISH they answer, in both
    // directions.
    @Test
    void acknowledgementsRepeatThePacketIdentifier_MQTT_2_3_1_6() {
        Conn sub = conns.subscriber311("ackid-sub", "ackid/t", 2);
        Conn pub = conns.connect311("ackid-pub");
        pub.send(Wire.publish311(QOS1, "ackid/t", 0xA1B2, "one"));
        pub.expect(
                0x40, 0x02,                                // PUBACK
                0xA1, 0xB2);                               // packet id 0xA1B2
        int id1 = sub.expectPublish311(QOS1, "ackid/t", "one");
        sub.send(0x40, 0x02, id1 >> 8, id1 & 0xFF);        // PUBACK
        pub.send(Wire.publish311(QOS2, "ackid/t", 0xC3D4, "two"));
        pub.expect(
                0x50, 0x02,                                // PUBREC
                0xC3, 0xD4);                               // packet id 0xC3D4
        pub.send(0x62, 0x02, 0xC3, 0xD4);                  // PUBREL 0xC3D4
        pub.expect(
                0x70, 0x02,                                // PUBCOMP
                0xC3, 0xD4);                               // packet id 0xC3D4
        int id2 = sub.expectPublish311(QOS2, "ackid/t", "two");
        sub.send(0x50, 0x02, id2 >> 8, id2 & 0xFF);        // PUBREC
        sub.expect(
                0x62, 0x02,                                // PUBREL from the server
                id2 >> 8, id2 & 0xFF);                     // with the PUBLISH's packet id
        sub.send(0x70, 0x02, id2 >> 8, id2 & 0xFF);        // PUBCOMP
    }

    // [MQTT-2.3.1-7] SUBACK and UNSUBACK carry the packet identifier of the SUBSCRIBE / UNSUBSCRIBE they answer
    // ([MQTT-3.10.4-4] for UNSUBACK).
    @Test
    void subackAndUnsubackRepeatThePacketIdentifier_MQTT_2_3_1_7() {
        Conn c = conns.connect311("subid");
        c.send(
                0x82, 0x06,                                // SUBSCRIBE, remaining length 6
                0xBE, 0xEF,                                // packet id 0xBEEF
                0x00, 0x01, 's',                           // filter "s"
                0x01);                                     // QoS 1
        c.expect(
                0x90, 0x03,                                // SUBACK
                0xBE, 0xEF,                                // packet id 0xBEEF
                0x01);                                     // granted QoS 1
        c.send(
                0xA2, 0x05,                                // UNSUBSCRIBE, remaining length 5
                0xCA, 0xFE,                                // packet id 0xCAFE
                0x00, 0x01, 's');                          // filter "s"
        c.expect(
                0xB0, 0x02,                                // UNSUBACK
                0xCA, 0xFE);                               // packet id 0xCAFE
    }
}
