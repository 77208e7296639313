package io.starling.it.spec.v311;

import static io.starling.it.spec.Wire.DUP;
import static io.starling.it.spec.Wire.QOS1;
import static io.starling.it.spec.Wire.QOS2;
import static io.starling.it.spec.Wire.RETAIN;
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

/** MQTT 3.1.1 section 3.3 PUBLISH: flags, retained messages, topic name, response per QoS, overlapping subscriptions. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PublishSpecTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Conns conns = new Conns(broker);

    // [MQTT-3.3.1-1] DUP is 1 when the server re-delivers a PUBLISH: a QoS 1 message not acknowledged before the
    // connection dropped is sent again with DUP=1 and the same packet identifier on resume.
    @Test
    void redeliveryHasDup1_MQTT_3_3_1_1() {
        Conn sub = conns.connect311("dup-sub", false, 0x00);
        Conns.subscribe311(sub, 1, "dup/t", 1, 1);
        Conn pub = conns.connect311("dup-pub");
        pub.send(Wire.publish311(QOS1, "dup/t", 1, "again"));
        pub.expect(0x40, 0x02, 0x00, 0x01);
        int id = sub.expectPublish311(QOS1, "dup/t", "again"); // first delivery: DUP 0
        sub.close();                                       // dropped before PUBACK
        Conn again = conns.connect311("dup-sub", false, 0x01);
        again.expect(Wire.publish311(DUP | QOS1, "dup/t", id, "again")); // DUP 1, same packet id
        again.send(0x40, 0x02, id >> 8, id & 0xFF);        // PUBACK
        again.expectNothing();
    }

    // [MQTT-3.3.1-2] DUP must be 0 for QoS 0: the server's QoS 0 delivery of a message received with DUP=1 at QoS 1
    // has DUP 0; a QoS 0 PUBLISH with DUP=1 from a client is a protocol violation and closes the connection.
    @Test
    void qos0HasDup0_MQTT_3_3_1_2() {
        Conn sub = conns.subscriber311("dup0-sub", "dup0/t", 0);
        Conn pub = conns.connect311("dup0-pub");
        pub.send(Wire.publish311(DUP | QOS1, "dup0/t", 9, "d")); // PUBLISH QoS 1 with DUP 1
        pub.expect(0x40, 0x02, 0x00, 0x09);                // PUBACK
        sub.expect(
                0x30, 0x09,                                // PUBLISH QoS 0 and DUP 0, remaining length 9
                0x00, 0x06, 'd', 'u', 'p', '0', '/', 't',  // topic "dup0/t"
                'd');                                      // payload
        pub.send(
                0x38, 0x04,                                // PUBLISH QoS 0 with DUP 1
                0x00, 0x01, 'a',                           // topic "a"
                'x');                                      // payload
        pub.expectClosedWithoutPacket();
    }

    // [MQTT-3.3.1-3] The DUP flag of an outgoing PUBLISH does not copy the incoming one: a message received with
    // DUP=1 (first delivery to the server) goes out with DUP=0 to a QoS 1 subscriber.
    @Test
    void outgoingDupIsIndependentOfIncomingDup_MQTT_3_3_1_3() {
        Conn sub = conns.subscriber311("dup3-sub", "dup3/t", 1);
        Conn pub = conns.connect311("dup3-pub");
        pub.send(Wire.publish311(DUP | QOS1, "dup3/t", 3, "d")); // PUBLISH QoS 1, DUP 1
        pub.expect(0x40, 0x02, 0x00, 0x03);
        int id = sub.expectPublish311(QOS1, "dup3/t", "d"); // DUP 0: not a retransmission to this subscriber
        sub.send(0x40, 0x02, id >> 8, id & 0xFF);
    }

    // [MQTT-3.3.1-4] A PUBLISH with both QoS bits set is malformed: the connection is closed.
    @Test
    void qos3Closes_MQTT_3_3_1_4() {
        conns.connect311("qos3").send(
                0x36, 0x06,                                // PUBLISH QoS 3 (both bits set)
                0x00, 0x01, 'a',                           // topic "a"
                0x00, 0x01,                                // packet id 1
                'x')                                       // payload
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.3.1-5] RETAIN=1: the message and its QoS are stored and given to future subscribers.
    // [MQTT-3.3.1-8] A message sent because of a new subscription has RETAIN=1.
    @Test
    void retainedMessageIsStoredWithItsQos_MQTT_3_3_1_5() {
        Conn pub = conns.connect311("ret5-pub");
        pub.send(Wire.publish311(QOS1 | RETAIN, "ret5/t", 1, "stored")); // retained PUBLISH QoS 1
        pub.expect(0x40, 0x02, 0x00, 0x01);
        Conn sub = conns.connect311("ret5-sub");
        Conns.subscribe311(sub, 1, "ret5/t", 2, 2);        // subscribe at QoS 2
        int id = sub.expectPublish311(QOS1 | RETAIN, "ret5/t", "stored"); // stored QoS 1, RETAIN 1
        sub.send(0x40, 0x02, id >> 8, id & 0xFF);
    }

    // [MQTT-3.3.1-6] A new subscription gets the last retained message of every matching topic.
    @Test
    void newSubscriptionGetsEveryMatchingRetainedMessage_MQTT_3_3_1_6() {
        Conn pub = conns.connect311("ret6-pub");
        pub.send(Wire.publish311(RETAIN, "ret6/a", 0, "A1"));
        pub.send(Wire.publish311(RETAIN, "ret6/a", 0, "A2")); // the last one of ret6/a
        pub.send(Wire.publish311(RETAIN, "ret6/b", 0, "B"));
        pub.send(Wire.publish311(RETAIN, "ret6/b/c", 0, "C")); // does not match ret6/+
        pub.expectAlive();                                 // all three processed
        Conn sub = conns.connect311("ret6-sub");
        Conns.subscribe311(sub, 1, "ret6/+", 0, 0);
        Set<String> got = new HashSet<>();
        for (int i = 0; i < 2; i++) {
            Conn.Pub p = sub.readPublish(false);
            got.add(p.firstByte() + " " + p.topic() + " " + p.text());
        }
        assertThat(got).containsExactlyInAnyOrder("49 ret6/a A2", "49 ret6/b B"); // 49 = 0x31: QoS 0, RETAIN 1
        sub.expectNothing();
    }

    // [MQTT-3.3.1-7] A retained QoS 0 PUBLISH replaces the topic's previous retained message.
    @Test
    void retainedQos0ReplacesThePreviousOne_MQTT_3_3_1_7() {
        Conn pub = conns.connect311("ret7-pub");
        pub.send(Wire.publish311(QOS2 | RETAIN, "ret7/t", 1, "old")); // retained QoS 2
        pub.expect(0x50, 0x02, 0x00, 0x01);                // PUBREC
        pub.send(0x62, 0x02, 0x00, 0x01);                  // PUBREL
        pub.expect(0x70, 0x02, 0x00, 0x01);                // PUBCOMP
        pub.send(Wire.publish311(RETAIN, "ret7/t", 0, "new")); // retained QoS 0
        pub.expectAlive();
        Conn sub = conns.connect311("ret7-sub");
        Conns.subscribe311(sub, 1, "ret7/t", 2, 2);
        sub.expectPublish311(RETAIN, "ret7/t", "new");     // QoS 0, RETAIN 1
        sub.expectNothing();
    }

    // [MQTT-3.3.1-9] A message matching an established subscription is sent with RETAIN=0, even if it was published
    // with RETAIN=1.
    @Test
    void liveDeliveryHasRetain0_MQTT_3_3_1_9() {
        Conn sub = conns.subscriber311("ret9-sub", "ret9/t", 0);
        Conn pub = conns.connect311("ret9-pub");
        pub.send(Wire.publish311(RETAIN, "ret9/t", 0, "live"));
        sub.expect(
                0x30, 0x0C,                                // PUBLISH QoS 0, RETAIN 0, remaining length 12
                0x00, 0x06, 'r', 'e', 't', '9', '/', 't',  // topic "ret9/t"
                'l', 'i', 'v', 'e');                       // payload
    }

    // [MQTT-3.3.1-10] A retained PUBLISH with a zero-byte payload removes the retained message and is forwarded to
    // current subscribers as a normal message. [MQTT-3.3.1-11] and is not stored itself.
    @Test
    void emptyRetainedPayloadClears_MQTT_3_3_1_10() {
        Conn pub = conns.connect311("ret10-pub");
        pub.send(Wire.publish311(RETAIN, "ret10/t", 0, "x"));
        pub.expectAlive();
        Conn live = conns.connect311("ret10-live");
        Conns.subscribe311(live, 1, "ret10/t", 0, 0);
        live.expectPublish311(RETAIN, "ret10/t", "x");     // the retained message
        pub.send(
                0x31, 0x09,                                // PUBLISH QoS 0, RETAIN 1, remaining length 9
                0x00, 0x07, 'r', 'e', 't', '1', '0', '/', 't'); // topic "ret10/t", zero-byte payload
        live.expect(
                0x30, 0x09,                                // forwarded as normal: RETAIN 0 (established subscription)
                0x00, 0x07, 'r', 'e', 't', '1', '0', '/', 't'); // topic, empty payload
        Conn later = conns.connect311("ret10-later");
        Conns.subscribe311(later, 1, "ret10/t", 0, 0);
        later.expectNothing();                             // neither "x" nor the empty message
    }

    // [MQTT-3.3.1-11] A zero-byte retained message is never stored, also when no retained message existed.
    @Test
    void zeroByteRetainedMessageIsNotStored_MQTT_3_3_1_11() {
        Conn pub = conns.connect311("ret11-pub");
        pub.send(
                0x33, 0x0B,                                // PUBLISH QoS 1, RETAIN 1, remaining length 11
                0x00, 0x07, 'r', 'e', 't', '1', '1', '/', 't', // topic "ret11/t"
                0x00, 0x01);                               // packet id 1, zero-byte payload
        pub.expect(0x40, 0x02, 0x00, 0x01);                // PUBACK
        Conn sub = conns.connect311("ret11-sub");
        Conns.subscribe311(sub, 1, "ret11/t", 1, 1);
        sub.expectNothing();
    }

    // [MQTT-3.3.1-12] RETAIN=0: the message is not stored and does not replace or remove the retained message.
    @Test
    void nonRetainedPublishLeavesRetainedMessageAlone_MQTT_3_3_1_12() {
        Conn pub = conns.connect311("ret12-pub");
        pub.send(Wire.publish311(RETAIN, "ret12/t", 0, "kept"));
        pub.send(Wire.publish311(0, "ret12/t", 0, "passing"));
        pub.send(
                0x30, 0x09,                                // PUBLISH QoS 0, RETAIN 0, remaining length 9
                0x00, 0x07, 'r', 'e', 't', '1', '2', '/', 't'); // topic, zero-byte payload: does not clear
        pub.send(Wire.publish311(0, "ret12/none", 0, "not stored"));
        pub.expectAlive();
        Conn sub = conns.connect311("ret12-sub");
        Conns.subscribe311(sub, 1, "ret12/#", 0, 0);
        sub.expectPublish311(RETAIN, "ret12/t", "kept");
        sub.expectNothing();                               // ret12/none was never stored
    }

    // [MQTT-3.3.2-1] The topic name is the first field of the variable header and a UTF-8 string: a topic length
    // running past the packet makes it malformed; ill-formed UTF-8 too.
    @Test
    void topicNameMustBeAValidString_MQTT_3_3_2_1() {
        conns.connect311("tn-len").send(
                0x30, 0x04,                                // PUBLISH QoS 0, remaining length 4
                0x00, 0x09, 'a', 'b')                      // topic length 9, but only 2 bytes in the packet
                .expectClosedWithoutPacket();
        conns.connect311("tn-utf").send(
                0x30, 0x05,                                // PUBLISH QoS 0, remaining length 5
                0x00, 0x02, 0xC0, 0x80,                    // topic: overlong encoding of U+0000
                'x')                                       // payload
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.3.2-2] A PUBLISH topic name contains no wildcard: '+' or '#' close the connection.
    @Test
    void wildcardInTopicNameCloses_MQTT_3_3_2_2() {
        conns.connect311("tn-plus").send(
                0x30, 0x06,                                // PUBLISH QoS 0, remaining length 6
                0x00, 0x03, 'a', '/', '+',                 // topic "a/+"
                'x')                                       // payload
                .expectClosedWithoutPacket();
        conns.connect311("tn-hash").send(
                0x32, 0x06,                                // PUBLISH QoS 1, remaining length 6
                0x00, 0x01, '#',                           // topic "#"
                0x00, 0x01,                                // packet id 1
                'x')                                       // payload
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.3.2-3] The topic name sent to a subscriber is the published topic name, which matches the filter (not
    // the filter itself).
    @Test
    void deliveredTopicNameIsThePublishedOne_MQTT_3_3_2_3() {
        Conn sub = conns.subscriber311("tn3-sub", "tn3/+/c/#", 0);
        Conn pub = conns.connect311("tn3-pub");
        pub.send(Wire.publish311(0, "tn3/b/c/d/e", 0, "m"));
        sub.expect(
                0x30, 0x0E,                                // PUBLISH QoS 0, remaining length 14
                0x00, 0x0B, 't', 'n', '3', '/', 'b', '/', 'c', '/', 'd', '/', 'e', // topic "tn3/b/c/d/e"
                'm');                                      // payload
    }

    // [MQTT-3.3.4-1] The receiver of a PUBLISH answers per QoS: QoS 0 nothing, QoS 1 PUBACK, QoS 2 PUBREC.
    @Test
    void serverAnswersPerQos_MQTT_3_3_4_1() {
        Conn c = conns.connect311("answer");
        c.send(Wire.publish311(0, "answer/t", 0, "zero"));
        c.expectNothing();                                 // QoS 0: no answer
        c.send(Wire.publish311(QOS1, "answer/t", 0x0011, "one"));
        c.expect(0x40, 0x02, 0x00, 0x11);                  // QoS 1: PUBACK
        c.send(Wire.publish311(QOS2, "answer/t", 0x0022, "two"));
        c.expect(0x50, 0x02, 0x00, 0x22);                  // QoS 2: PUBREC
    }

    // [MQTT-3.3.5-1] Overlapping subscriptions of one client: the message is delivered at the highest granted QoS of
    // the matching subscriptions (Starling sends one copy).
    @Test
    void overlappingSubscriptionsUseTheHighestQos_MQTT_3_3_5_1() {
        Conn sub = conns.connect311("ovl-sub");
        Conns.subscribe311(sub, 1, "ovl/+", 0, 0);
        Conns.subscribe311(sub, 2, "ovl/#", 2, 2);
        Conns.subscribe311(sub, 3, "ovl/x", 1, 1);
        Conn pub = conns.connect311("ovl-pub");
        pub.send(Wire.publish311(QOS2, "ovl/x", 1, "hi"));
        pub.expect(0x50, 0x02, 0x00, 0x01);
        Conn.Pub p = sub.readPublish(false);
        assertThat(p.qos()).as("QoS of the delivery").isEqualTo(2);
        sub.send(0x50, 0x02, p.packetId() >> 8, p.packetId() & 0xFF); // PUBREC
        sub.expect(0x62, 0x02, p.packetId() >> 8, p.packetId() & 0xFF); // PUBREL
    }
}
