package io.starling.it.spec.v5;

import static io.starling.it.spec.Wire.DUP;
import static io.starling.it.spec.Wire.QOS1;
import static io.starling.it.spec.Wire.QOS2;
import static io.starling.it.spec.Wire.RETAIN;
import static io.starling.it.spec.Wire.props;
import static io.starling.it.spec.Wire.receiveMaximum;
import static io.starling.it.spec.Wire.sessionExpiry;
import static io.starling.it.spec.Wire.subscriptionId;
import static org.assertj.core.api.Assertions.assertThat;

import io.starling.it.BrokerExtension;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * MQTT 5.0 section 3.3 PUBLISH and chapter 4 QoS flows, retry, flow control and errors, byte by byte (protocol
 * version 5). Statement ids are 5.0 ids.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PublishV5SpecTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Conns conns = new Conns(broker);

    // [MQTT-3.3.4-1] The receiver answers per QoS: nothing, PUBACK, PUBREC. [MQTT-2.2.1-5] with the same packet id.
    // [MQTT-3.4.2-1] / [MQTT-3.5.2-1] / [MQTT-3.7.2-1] defined reason codes (0x00 success, short form).
    // [MQTT-4.3.2-4] QoS 1 receiver: PUBACK; [MQTT-4.3.3-8] QoS 2 receiver: PUBREC; [MQTT-4.3.3-11] PUBCOMP on PUBREL.
    @Test
    void serverAnswersPerQos_MQTT_3_3_4_1() {
        Conn c = conns.connect5("v5-ans");
        c.send(Wire.publish5(0, "v5ans/t", 0, props(), "0"));
        c.expectNothing();
        c.send(Wire.publish5(QOS1, "v5ans/t", 0x0A0B, props(), "1"));
        c.expectAck5(0x40, 0x0A0B);                        // PUBACK 0x0A0B (0x00, or 0x10: no subscribers)
        c.send(Wire.publish5(QOS2, "v5ans/t", 0x0C0D, props(), "2"));
        c.expectAck5(0x50, 0x0C0D);                        // PUBREC 0x0C0D
        c.send(0x62, 0x02, 0x0C, 0x0D);                    // PUBREL
        c.expect(0x70, 0x02, 0x0C, 0x0D);                  // PUBCOMP
    }

    // [MQTT-3.3.1-1] DUP 1 on re-delivery (session resumed with Clean Start 0); [MQTT-4.4.0-1] only then, with the
    // original packet id; [MQTT-4.3.2-1] / [MQTT-4.3.2-2] / [MQTT-4.3.2-3] QoS 1 sender: new id, DUP 0, kept until
    // PUBACK. [MQTT-3.3.1-3] the outgoing DUP does not copy the incoming one (published with DUP 1, sent with DUP 0).
    @Test
    void redeliveryOnResumeHasDup1_MQTT_3_3_1_1() {
        Conn sub = conns.connect5("v5-dup", false, props(sessionExpiry(60)), 0x00);
        Conns.subscribe5(sub, 1, props(), "v5dup/t", 1, 0x01);
        Conn pub = conns.connect5("v5-dup-pub");
        pub.send(Wire.publish5(DUP | QOS1, "v5dup/t", 4, props(), "d")); // DUP 1 from the publisher
        pub.expectAck5(0x40, (0x00) << 8 | (0x04));
        int id = sub.expectPublish5(QOS1, "v5dup/t", props(), "d"); // DUP 0
        sub.expectNothing();                               // never re-sent on a live connection
        sub.close();
        Conn again = conns.connect5("v5-dup", false, props(sessionExpiry(60)), 0x01);
        again.expect(Wire.publish5(DUP | QOS1, "v5dup/t", id, props(), "d")); // DUP 1, same id
        again.send(0x40, 0x02, id >> 8, id & 0xFF);
        again.expectNothing();
    }

    // [MQTT-3.3.1-2] DUP is 0 for QoS 0: a QoS 0 PUBLISH with DUP 1 is malformed: DISCONNECT 0x81.
    // [MQTT-4.13.1-1] malformed packet: DISCONNECT with the reason code, then close.
    @Test
    void qos0WithDupIsMalformed_MQTT_3_3_1_2() {
        Conn c = conns.connect5("v5-dup0");
        c.send(
                0x38, 0x05,                                // PUBLISH QoS 0 with DUP 1, remaining length 5
                0x00, 0x01, 'a',                           // topic "a"
                0x00,                                      // property length 0
                'x');                                      // payload
        byte[] d = c.read();                               // Malformed Packet or Protocol Error: both fit
        assertThat(d[0] & 0xFF).as("DISCONNECT").isEqualTo(0xE0);
        assertThat(d[2] & 0xFF).as("reason code").isIn(0x81, 0x82);
        c.expectClosed();
    }

    // [MQTT-3.3.1-4] Both QoS bits set is malformed: DISCONNECT 0x81.
    @Test
    void qos3IsMalformed_MQTT_3_3_1_4() {
        Conn c = conns.connect5("v5-q3");
        c.send(
                0x36, 0x07,                                // PUBLISH QoS 3, remaining length 7
                0x00, 0x01, 'a',                           // topic "a"
                0x00, 0x01,                                // packet id 1
                0x00,                                      // property length 0
                'x');                                      // payload
        c.expectDisconnect(0x81);
    }

    // [MQTT-3.3.1-5] RETAIN 1 replaces the retained message; [MQTT-3.3.1-9] Retain Handling 0 sends it on subscribe;
    // [MQTT-3.3.1-6] an empty retained payload removes it; [MQTT-3.3.1-7] and is not stored; [MQTT-3.3.1-8] RETAIN 0
    // does not touch the retained message.
    @Test
    void retainedMessages_MQTT_3_3_1_5() {
        Conn pub = conns.connect5("v5-ret-pub");
        pub.send(Wire.publish5(RETAIN, "v5ret/t", 0, props(), "first"));
        pub.send(Wire.publish5(RETAIN, "v5ret/t", 0, props(), "second"));
        pub.send(Wire.publish5(0, "v5ret/t", 0, props(), "not retained"));
        pub.expectAlive();
        Conn a = conns.connect5("v5-ret-a");
        Conns.subscribe5(a, 1, props(), "v5ret/t", 0, 0x00); // Retain Handling 0
        a.expectPublish5(RETAIN, "v5ret/t", props(), "second");
        a.expectNothing();
        pub.send(Wire.publish5(RETAIN, "v5ret/t", 0, props(), "")); // clears
        a.expectPublish5(0, "v5ret/t", props(), "");       // forwarded to the existing subscriber
        Conn b = conns.connect5("v5-ret-b");
        Conns.subscribe5(b, 1, props(), "v5ret/t", 0, 0x00);
        b.expectNothing();
    }

    // [MQTT-3.3.1-10] Retain Handling 1: retained messages only for a new subscription, not for a re-subscribe.
    // [MQTT-3.3.1-11] Retain Handling 2: no retained messages at all.
    @Test
    void retainHandling_MQTT_3_3_1_10() {
        Conn pub = conns.connect5("v5-rh-pub");
        pub.send(Wire.publish5(RETAIN, "v5rh/t", 0, props(), "r"));
        pub.expectAlive();
        Conn one = conns.connect5("v5-rh1");
        Conns.subscribe5(one, 1, props(), "v5rh/t", 0x10, 0x00); // Retain Handling 1, new subscription
        one.expectPublish5(RETAIN, "v5rh/t", props(), "r");
        Conns.subscribe5(one, 2, props(), "v5rh/t", 0x10, 0x00); // the same subscription again
        one.expectNothing();
        Conn two = conns.connect5("v5-rh2");
        Conns.subscribe5(two, 1, props(), "v5rh/t", 0x20, 0x00); // Retain Handling 2
        two.expectNothing();
        Conn zero = conns.connect5("v5-rh0");
        Conns.subscribe5(zero, 1, props(), "v5rh/t", 0x00, 0x00);
        zero.expectPublish5(RETAIN, "v5rh/t", props(), "r");
        Conns.subscribe5(zero, 2, props(), "v5rh/t", 0x00, 0x00); // Retain Handling 0: sent again
        zero.expectPublish5(RETAIN, "v5rh/t", props(), "r"); // [MQTT-3.8.4-4]
    }

    // [MQTT-3.3.1-12] Retain As Published 0: live messages go out with RETAIN 0. [MQTT-3.3.1-13] Retain As Published 1:
    // RETAIN as received. [MQTT-4.5.0-1] every matching subscriber gets the message.
    @Test
    void retainAsPublished_MQTT_3_3_1_13() {
        Conn rap0 = conns.subscriber5("v5-rap0", "v5rap/t", 0x00);
        Conn rap1 = conns.connect5("v5-rap1");
        Conns.subscribe5(rap1, 1, props(), "v5rap/t", 0x08, 0x00); // Retain As Published
        Conn pub = conns.connect5("v5-rap-pub");
        pub.send(Wire.publish5(RETAIN, "v5rap/t", 0, props(), "x"));
        rap0.expectPublish5(0, "v5rap/t", props(), "x");
        rap1.expectPublish5(RETAIN, "v5rap/t", props(), "x");
        pub.send(Wire.publish5(0, "v5rap/t", 0, props(), "y"));
        rap1.expectPublish5(0, "v5rap/t", props(), "y");
    }

    // [MQTT-3.3.2-1] Topic Name first and UTF-8; [MQTT-3.3.2-2] no wildcards: DISCONNECT 0x90 (Topic Name invalid)
    // or 0x81; [MQTT-4.7.0-1] wildcards never in topic names. [MQTT-1.5.4-1] ill-formed UTF-8: malformed.
    @Test
    void invalidTopicNames_MQTT_3_3_2_2() {
        Conn w = conns.connect5("v5-tn1");
        w.send(Wire.publish5(0, "a/#", 0, props(), "x"));
        byte[] d = w.read();
        assertThat(d[0] & 0xFF).isEqualTo(0xE0);
        assertThat(d[2] & 0xFF).as("reason").isIn(0x90, 0x81, 0x82);
        w.expectClosed();
        Conn u = conns.connect5("v5-tn2");
        u.send(
                0x30, 0x06,                                // PUBLISH QoS 0, remaining length 6
                0x00, 0x02, 0xC0, 0x80,                    // topic: overlong NUL
                0x00,                                      // property length 0
                'x');                                      // payload
        u.expectDisconnect(0x81);
    }

    // [MQTT-3.3.2-3] The delivered topic name is the published one, matching the filter.
    @Test
    void deliveredTopicName_MQTT_3_3_2_3() {
        Conn sub = conns.subscriber5("v5-tn3", "v5tn3/+/#", 0);
        Conn pub = conns.connect5("v5-tn3-pub");
        pub.send(Wire.publish5(0, "v5tn3/a/b/c", 0, props(), "m"));
        sub.expectPublish5(0, "v5tn3/a/b/c", props(), "m");
    }

    // [MQTT-3.3.2-4] Payload Format Indicator, [MQTT-3.3.2-15] Response Topic, [MQTT-3.3.2-16] Correlation Data,
    // [MQTT-3.3.2-17] User Properties, [MQTT-3.3.2-18] in their order, [MQTT-3.3.2-20] Content Type: all forwarded
    // unchanged.
    @Test
    void applicationPropertiesAreForwardedUnchanged_MQTT_3_3_2_17() {
        int[] properties = props(
                Wire.b(0x01, 0x01),                        // Payload Format Indicator 1
                Wire.b(0x08), Wire.str("re/ply"),          // Response Topic "re/ply"
                Wire.b(0x09), Wire.lenPrefixed(Wire.b(1, 2, 3)), // Correlation Data 01 02 03
                Wire.b(0x26), Wire.str("k2"), Wire.str("v2"), // User Property k2=v2
                Wire.b(0x26), Wire.str("k1"), Wire.str("v1"), // User Property k1=v1 (order kept)
                Wire.b(0x26), Wire.str("k2"), Wire.str("v0"), // User Property k2=v0 (repeated key)
                Wire.b(0x03), Wire.str("text/plain"));     // Content Type
        Conn sub = conns.subscriber5("v5-props", "v5props/t", 0);
        Conn pub = conns.connect5("v5-props-pub");
        pub.send(Wire.publish5(0, "v5props/t", 0, properties, "p"));
        Conn.Pub p = sub.readPublish(true);
        assertThat(p.text()).isEqualTo("p");
        List<String> sent = properties(Wire.toBytes(properties), Wire.vbi(properties.length - 1).length);
        List<String> got = properties(p.properties(), 0);
        assertThat(got).as("properties (any order between kinds)").containsExactlyInAnyOrderElementsOf(sent);
        assertThat(got.stream().filter(e -> e.startsWith("26:")).toList()).as("User Properties in their order")
                .containsExactlyElementsOf(sent.stream().filter(e -> e.startsWith("26:")).toList());
    }

    /** The properties of a PUBLISH property block as "id:hex-of-value" strings, in wire order. */
    private static List<String> properties(byte[] block, int from) {
        List<String> out = new ArrayList<>();
        int i = from;
        while (i < block.length) {
            int id = block[i++] & 0xFF;
            int len = switch (id) {
                case 0x01 -> 1;                                                     // byte
                case 0x02 -> 4;                                                     // four-byte integer
                case 0x23 -> 2;                                                     // two-byte integer
                case 0x03, 0x08, 0x09 -> 2 + ((block[i] & 0xFF) << 8 | (block[i + 1] & 0xFF)); // string, binary
                case 0x26 -> {                                                      // string pair
                    int k = 2 + ((block[i] & 0xFF) << 8 | (block[i + 1] & 0xFF));
                    yield k + 2 + ((block[i + k] & 0xFF) << 8 | (block[i + k + 1] & 0xFF));
                }
                default -> throw new AssertionError("unexpected property 0x" + Integer.toHexString(id));
            };
            out.add(String.format("%02x:", id) + io.starling.testkit.RawClient.hex(Arrays.copyOfRange(block, i, i + len)));
            i += len;
        }
        return out;
    }

    // [MQTT-3.3.4-2] Overlapping subscriptions: delivered at the highest QoS; [MQTT-3.3.4-3] with the Subscription
    // Identifiers of all of them; [MQTT-3.3.4-4] one copy carries every matching identifier.
    @Test
    void overlappingSubscriptionsAndIdentifiers_MQTT_3_3_4_3() {
        Conn sub = conns.connect5("v5-sid");
        Conns.subscribe5(sub, 1, props(subscriptionId(7)), "v5sid/+", 0x00, 0x00);
        Conns.subscribe5(sub, 2, props(subscriptionId(300)), "v5sid/#", 0x01, 0x01);
        Conn pub = conns.connect5("v5-sid-pub");
        pub.send(Wire.publish5(QOS1, "v5sid/x", 1, props(), "s"));
        pub.expectAck5(0x40, (0x00) << 8 | (0x01));
        Conn.Pub p = sub.readPublish(true);
        assertThat(p.qos()).isEqualTo(1);
        Set<String> ids = new HashSet<>();
        byte[] pr = p.properties();
        for (int i = 0; i < pr.length; ) {
            assertThat(pr[i]).as("only Subscription Identifiers").isEqualTo((byte) 0x0B);
            int v = 0;
            int mul = 1;
            int b;
            i++;
            do {
                b = pr[i++] & 0xFF;
                v += (b & 0x7F) * mul;
                mul *= 128;
            } while ((b & 0x80) != 0);
            ids.add(Integer.toString(v));
        }
        assertThat(ids).containsExactlyInAnyOrder("7", "300");
        sub.send(0x40, 0x02, p.packetId() >> 8, p.packetId() & 0xFF);
        sub.expectNothing();                               // one copy
    }

    // [MQTT-3.3.4-6] A PUBLISH from a client must not carry a Subscription Identifier: Protocol Error 0x82.
    @Test
    void subscriptionIdentifierFromClientIsAProtocolError_MQTT_3_3_4_6() {
        Conn c = conns.connect5("v5-sidc");
        c.send(Wire.publish5(0, "v5sidc/t", 0, props(subscriptionId(5)), "x"));
        c.expectDisconnect(0x82);
    }

    // [MQTT-3.3.4-9] The server keeps its unacknowledged QoS 1/2 PUBLISH packets within the client's Receive Maximum
    // (2 here, [MQTT-4.9.0-1] the initial quota); [MQTT-4.9.0-2] at quota zero it sends no more;
    // [MQTT-3.3.4-10] / [MQTT-4.9.0-3] other packets still flow (PINGRESP, SUBACK).
    // (QoS 0 messages may be queued behind the waiting ones, 4.9, so they are not checked.)
    @Test
    void receiveMaximumOfTheClientIsRespected_MQTT_3_3_4_9() {
        Conn sub = conns.connect5("v5-rm", true, props(receiveMaximum(2)), 0x00);
        Conns.subscribe5(sub, 1, props(), "v5rm/t", 0x01, 0x01);
        Conn pub = conns.connect5("v5-rm-pub");
        for (int i = 1; i <= 4; i++) {
            pub.send(Wire.publish5(QOS1, "v5rm/t", i, props(), "m" + i));
            pub.expectAck5(0x40, (0x00) << 8 | (i));
        }
        int a = sub.expectPublish5(QOS1, "v5rm/t", props(), "m1");
        int b = sub.expectPublish5(QOS1, "v5rm/t", props(), "m2");
        sub.expectNothing();                               // quota 0: m3 waits
        sub.expectAlive();                                 // PINGRESP still flows
        Conns.subscribe5(sub, 2, props(), "v5rm/q0", 0x00, 0x00); // SUBACK still flows
        sub.send(0x40, 0x02, a >> 8, a & 0xFF);            // PUBACK m1: one slot free
        int c = sub.expectPublish5(QOS1, "v5rm/t", props(), "m3");
        sub.expectNothing();
        sub.send(0x40, 0x02, b >> 8, b & 0xFF);
        sub.send(0x40, 0x02, c >> 8, c & 0xFF);
        int d = sub.expectPublish5(QOS1, "v5rm/t", props(), "m4");
        sub.send(0x40, 0x02, d >> 8, d & 0xFF);
    }

    // [MQTT-2.2.1-4] Server packet ids are non-zero and unused; [MQTT-2.2.1-2] a QoS 0 PUBLISH has none.
    // [MQTT-4.3.1-1] QoS 0 is sent with QoS 0 and DUP 0.
    @Test
    void serverPacketIdentifiers_MQTT_2_2_1_4() {
        Conn sub = conns.subscriber5("v5-pid", "v5pid/+", 0x01);
        Conn pub = conns.connect5("v5-pid-pub");
        Set<Integer> used = new HashSet<>();
        for (int i = 1; i <= 3; i++) {
            pub.send(Wire.publish5(QOS1, "v5pid/a", i, props(), "m"));
            pub.expectAck5(0x40, (0x00) << 8 | (i));
            int id = sub.expectPublish5(QOS1, "v5pid/a", props(), "m");
            assertThat(id).isNotZero();
            assertThat(used.add(id)).isTrue();
        }
        pub.send(Wire.publish5(0, "v5pid/b", 0, props(), "z"));
        sub.expect(
                0x30, 0x0B,                                // PUBLISH QoS 0, remaining length 11
                0x00, 0x07, 'v', '5', 'p', 'i', 'd', '/', 'b', // topic
                0x00,                                      // property length 0, no packet id before it
                'z');                                      // payload
    }

    // QoS 2 sender: new id, DUP 0, PUBREL on PUBREC, kept until PUBCOMP, resent on resume, never the
    // PUBLISH again after PUBREL ([MQTT-4.3.3-1] [MQTT-4.3.3-2] [MQTT-4.3.3-3] [MQTT-4.3.3-4] [MQTT-4.3.3-5]
    // [MQTT-4.3.3-6]). [MQTT-4.4.0-1] PUBREL re-sent with the original id on resume. [MQTT-3.6.2-1] PUBREL 0x00.
    @Test
    void qos2SenderFlow_MQTT_4_3_3_4() {
        Conn sub = conns.connect5("v5-q2s", false, props(sessionExpiry(60)), 0x00);
        Conns.subscribe5(sub, 1, props(), "v5q2s/t", 0x02, 0x02);
        Conn pub = conns.connect5("v5-q2s-pub");
        pub.send(Wire.publish5(QOS2, "v5q2s/t", 1, props(), "two"));
        pub.expectAck5(0x50, (0x00) << 8 | (0x01));
        int id = sub.expectPublish5(QOS2, "v5q2s/t", props(), "two");
        sub.send(0x50, 0x02, id >> 8, id & 0xFF);          // PUBREC
        sub.expect(0x62, 0x02, id >> 8, id & 0xFF);        // PUBREL
        sub.close();
        Conn again = conns.connect5("v5-q2s", false, props(sessionExpiry(60)), 0x01);
        again.expect(0x62, 0x02, id >> 8, id & 0xFF);      // PUBREL again, not the PUBLISH
        again.send(0x70, 0x02, id >> 8, id & 0xFF);
        again.expectNothing();
    }

    // [MQTT-4.3.3-9] / [MQTT-4.4.0-2] A PUBREC with a reason code of 0x80 or more ends the flow: no PUBREL, and the
    // PUBLISH is not re-sent.
    @Test
    void pubrecErrorEndsTheFlow_MQTT_4_4_0_2() {
        Conn sub = conns.connect5("v5-recerr", false, props(sessionExpiry(60)), 0x00);
        Conns.subscribe5(sub, 1, props(), "v5recerr/t", 0x02, 0x02);
        Conn pub = conns.connect5("v5-recerr-pub");
        pub.send(Wire.publish5(QOS2, "v5recerr/t", 1, props(), "e"));
        pub.expectAck5(0x50, (0x00) << 8 | (0x01));
        int id = sub.expectPublish5(QOS2, "v5recerr/t", props(), "e");
        sub.send(
                0x50, 0x03,                                // PUBREC, remaining length 3
                id >> 8, id & 0xFF,                        // packet id
                0x80);                                     // reason 0x80 unspecified error
        sub.expectNothing();                               // no PUBREL
        sub.close();
        Conn again = conns.connect5("v5-recerr", false, props(sessionExpiry(60)), 0x01);
        again.expectNothing();                             // nothing re-sent
    }

    // [MQTT-4.3.3-10] Until PUBREL, a repeated QoS 2 PUBLISH gets PUBREC and is not delivered twice;
    // [MQTT-4.3.3-12] after PUBCOMP the id is new. [MQTT-4.3.2-5] after PUBACK a reused id is a new message.
    @Test
    void qos2ReceiverDeduplicates_MQTT_4_3_3_10() {
        Conn sub = conns.subscriber5("v5-q2r", "v5q2r/t", 0x00);
        Conn pub = conns.connect5("v5-q2r-pub");
        pub.send(Wire.publish5(QOS2, "v5q2r/t", 3, props(), "a"));
        pub.expectAck5(0x50, (0x00) << 8 | (0x03));
        sub.expectPublish5(0, "v5q2r/t", props(), "a");
        pub.send(Wire.publish5(DUP | QOS2, "v5q2r/t", 3, props(), "a"));
        pub.expectAck5(0x50, (0x00) << 8 | (0x03));
        pub.send(0x62, 0x02, 0x00, 0x03);
        pub.expect(0x70, 0x02, 0x00, 0x03);
        sub.expectNothing();
        pub.send(Wire.publish5(QOS2, "v5q2r/t", 3, props(), "b"));
        pub.expectAck5(0x50, (0x00) << 8 | (0x03));
        sub.expectPublish5(0, "v5q2r/t", props(), "b");
        pub.send(0x62, 0x02, 0x00, 0x03);
        pub.expect(0x70, 0x02, 0x00, 0x03);
        pub.send(Wire.publish5(QOS1, "v5q2r/t", 3, props(), "c"));
        pub.expectAck5(0x40, (0x00) << 8 | (0x03));
        pub.send(Wire.publish5(QOS1, "v5q2r/t", 3, props(), "d"));
        pub.expectAck5(0x40, (0x00) << 8 | (0x03));
        sub.expectPublish5(0, "v5q2r/t", props(), "c");
        sub.expectPublish5(0, "v5q2r/t", props(), "d");
    }

    // [MQTT-4.6.0-5] / [MQTT-4.6.0-6] Messages of one publisher on one topic are forwarded in order (non-shared).
    // [MQTT-4.5.0-1] each matching subscriber gets it.
    @Test
    void orderIsKept_MQTT_4_6_0_6() {
        Conn sub = conns.subscriber5("v5-ord", "v5ord/t", 0x01);
        Conn pub = conns.connect5("v5-ord-pub");
        int[] script = new int[0];
        for (int i = 1; i <= 10; i++) {
            script = Wire.cat(script, Wire.publish5(QOS1, "v5ord/t", i, props(), "m" + i));
        }
        pub.send(script);
        for (int i = 1; i <= 10; i++) {
            int id = sub.expectPublish5(QOS1, "v5ord/t", props(), "m" + i);
            sub.send(0x40, 0x02, id >> 8, id & 0xFF);
        }
    }

    // [MQTT-4.7.2-1] Filters starting with a wildcard do not match topics starting with '$'.
    @Test
    void dollarTopics_MQTT_4_7_2_1() {
        Conn plus = conns.subscriber5("v5-dollar", "+/v5d", 0x00);
        Conn pub = conns.connect5("v5-dollar-pub");
        pub.send(Wire.publish5(0, "$x/v5d", 0, props(), "d"));
        pub.send(Wire.publish5(0, "y/v5d", 0, props(), "y"));
        plus.expectPublish5(0, "y/v5d", props(), "y");
        plus.expectNothing();
    }
}
