package io.starling.it.spec.v5;

import static io.starling.it.spec.Wire.QOS1;
import static io.starling.it.spec.Wire.props;

import io.starling.it.BrokerExtension;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * MQTT 5.0 sections 3.8 SUBSCRIBE, 3.9 SUBACK, 3.10 UNSUBSCRIBE, 3.11 UNSUBACK, and malformed packets, byte by byte
 * (protocol version 5). Statement ids are 5.0 ids.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SubscribeV5SpecTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Conns conns = new Conns(broker);

    // [MQTT-3.8.1-1] SUBSCRIBE flags 0010, otherwise malformed: DISCONNECT 0x81. [MQTT-2.1.3-1] reserved flags.
    @Test
    void subscribeFlagsMalformed_MQTT_3_8_1_1() {
        Conn c = conns.connect5("v5-sflags");
        c.send(
                0x80, 0x07,                                // SUBSCRIBE with flags 0000
                0x00, 0x01,                                // packet id 1
                0x00,                                      // property length 0
                0x00, 0x01, 'a',                           // filter "a"
                0x00);                                     // options
        c.expectDisconnect(0x81);
    }

    // [MQTT-3.8.3-1] Filters are UTF-8 strings: ill-formed UTF-8 is malformed (0x81). [MQTT-1.5.4-1]
    @Test
    void filterUtf8_MQTT_3_8_3_1() {
        Conn c = conns.connect5("v5-sutf");
        c.send(
                0x82, 0x08,                                // SUBSCRIBE, remaining length 8
                0x00, 0x01,                                // packet id 1
                0x00,                                      // property length 0
                0x00, 0x02, 0xED, 0xA0,                    // filter: a cut surrogate
                0x00);                                     // options
        c.expectDisconnect(0x81);
    }

    // [MQTT-1.5.4-2] U+0000 in a string is malformed. [MQTT-4.7.3-2] no U+0000 in filters.
    @Test
    void nullInFilter_MQTT_1_5_4_2() {
        Conn c = conns.connect5("v5-snul");
        c.send(
                0x82, 0x08,                                // SUBSCRIBE, remaining length 8
                0x00, 0x01,                                // packet id 1
                0x00,                                      // property length 0
                0x00, 0x02, 'a', 0x00,                     // filter "a\0"
                0x00);                                     // options
        c.expectDisconnect(0x81);
    }

    // [MQTT-3.8.3-2] At least one filter: an empty SUBSCRIBE payload is a Protocol Error (0x82).
    @Test
    void subscribeWithoutFilter_MQTT_3_8_3_2() {
        Conn c = conns.connect5("v5-snone");
        c.send(
                0x82, 0x03,                                // SUBSCRIBE, remaining length 3
                0x00, 0x01,                                // packet id 1
                0x00);                                     // property length 0, no payload
        c.expectDisconnect(0x82);
    }

    // [MQTT-3.8.3-3] No Local 1: the publisher's own messages are not forwarded to it.
    @Test
    void noLocal_MQTT_3_8_3_3() {
        Conn c = conns.connect5("v5-nl");
        Conns.subscribe5(c, 1, props(), "v5nl/t", 0x04, 0x00); // No Local
        Conn other = conns.subscriber5("v5-nl-other", "v5nl/t", 0x00);
        c.send(Wire.publish5(0, "v5nl/t", 0, props(), "own"));
        other.expectPublish5(0, "v5nl/t", props(), "own");
        c.expectNothing();
        Conn pub = conns.connect5("v5-nl-pub");
        pub.send(Wire.publish5(0, "v5nl/t", 0, props(), "foreign"));
        c.expectPublish5(0, "v5nl/t", props(), "foreign");
    }

    // [MQTT-3.8.3-5] Non-zero reserved bits in the Subscription Options are malformed: DISCONNECT 0x81.
    @Test
    void reservedOptionBits_MQTT_3_8_3_5() {
        Conn c = conns.connect5("v5-sres");
        c.send(
                0x82, 0x07,                                // SUBSCRIBE, remaining length 7
                0x00, 0x01,                                // packet id 1
                0x00,                                      // property length 0
                0x00, 0x01, 'a',                           // filter "a"
                0x40);                                     // reserved bit 6 set
        c.expectDisconnect(0x81);
    }

    // [MQTT-3.8.4-1] every SUBSCRIBE gets a SUBACK; [MQTT-3.8.4-2] with its packet id; [MQTT-3.8.4-5] several filters,
    // one SUBACK; [MQTT-3.8.4-6] one reason code per filter; [MQTT-3.8.4-7] granted QoS or failure; [MQTT-3.9.3-1] in
    // order; [MQTT-3.9.3-2] defined codes (0x8F Topic Filter invalid). [MQTT-2.2.1-6] [MQTT-2.2.2-1]
    // [MQTT-3.2.2-10] QoS 0, 1 and 2 are all granted. [MQTT-4.7.1-1] '#' not last is invalid.
    @Test
    void subackPerFilter_MQTT_3_8_4_6() {
        Conn c = conns.connect5("v5-smulti");
        c.send(
                0x82, 0x14,                                // SUBSCRIBE, remaining length 20
                0x12, 0x34,                                // packet id 0x1234
                0x00,                                      // property length 0
                0x00, 0x01, 'a', 0x02,                     // "a" QoS 2
                0x00, 0x01, 'b', 0x00,                     // "b" QoS 0
                0x00, 0x02, 'c', '#', 0x01,                // "c#" invalid
                0x00, 0x01, 'd', 0x01);                    // "d" QoS 1
        c.expect(
                0x90, 0x07,                                // one SUBACK, remaining length 7
                0x12, 0x34,                                // packet id 0x1234
                0x00,                                      // property length 0
                0x02, 0x00, 0x8F, 0x01);                   // reason codes in filter order
    }

    // [MQTT-3.8.4-3] The same filter replaces the subscription (new options); [MQTT-3.8.4-8] delivered QoS is the
    // minimum of published and granted.
    @Test
    void resubscribeReplaces_MQTT_3_8_4_3() {
        Conn c = conns.connect5("v5-srep");
        Conns.subscribe5(c, 1, props(), "v5srep/t", 0x02, 0x02);
        Conns.subscribe5(c, 2, props(), "v5srep/t", 0x01, 0x01);
        Conn pub = conns.connect5("v5-srep-pub");
        pub.send(Wire.publish5(Wire.QOS2, "v5srep/t", 1, props(), "x"));
        pub.expectAck5(0x50, (0x00) << 8 | (0x01));
        int id = c.expectPublish5(QOS1, "v5srep/t", props(), "x"); // QoS 1 = min(2, 1)
        c.send(0x40, 0x02, id >> 8, id & 0xFF);
        c.expectNothing();
    }

    // [MQTT-3.10.1-1] UNSUBSCRIBE flags 0010, otherwise malformed (0x81).
    @Test
    void unsubscribeFlags_MQTT_3_10_1_1() {
        Conn c = conns.connect5("v5-uflags");
        c.send(
                0xA0, 0x06,                                // UNSUBSCRIBE with flags 0000
                0x00, 0x01,                                // packet id 1
                0x00,                                      // property length 0
                0x00, 0x01, 'a');                          // filter "a"
        c.expectDisconnect(0x81);
    }

    // [MQTT-3.10.3-2] At least one filter in UNSUBSCRIBE: Protocol Error 0x82. [MQTT-3.10.3-1] UTF-8: 0x81.
    @Test
    void unsubscribeWithoutFilter_MQTT_3_10_3_2() {
        Conn c = conns.connect5("v5-unone");
        c.send(
                0xA2, 0x03,                                // UNSUBSCRIBE, remaining length 3
                0x00, 0x01,                                // packet id 1
                0x00);                                     // property length 0, no filter
        c.expectDisconnect(0x82);
        Conn u = conns.connect5("v5-uutf");
        u.send(
                0xA2, 0x06,                                // UNSUBSCRIBE, remaining length 6
                0x00, 0x01,                                // packet id 1
                0x00,                                      // property length 0
                0x00, 0x01, 0xFF);                         // filter: not UTF-8 [MQTT-3.10.3-1]
        u.expectDisconnect(0x81);
    }

    // [MQTT-3.10.4-1] literal comparison; [MQTT-3.10.4-2] no new messages afterwards; [MQTT-3.10.4-4] UNSUBACK;
    // [MQTT-3.10.4-5] with the packet id even if nothing was removed; [MQTT-3.10.4-6] one UNSUBACK for several;
    // [MQTT-3.11.3-1] reason codes in order; [MQTT-3.11.3-2] 0x00 success, 0x11 no subscription existed.
    @Test
    void unsubackReasonCodes_MQTT_3_11_3_2() {
        Conn c = conns.subscriber5("v5-unsub", "v5u/+", 0x00);
        c.send(Wire.unsubscribe5(0x0102, "v5u/a", "v5u/+", "v5u/none"));
        c.expect(
                0xB0, 0x06,                                // UNSUBACK, remaining length 6
                0x01, 0x02,                                // packet id 0x0102
                0x00,                                      // property length 0
                0x11,                                      // "v5u/a": no subscription existed (no match by wildcard)
                0x00,                                      // "v5u/+": success
                0x11);                                     // "v5u/none": no subscription existed
        Conn pub = conns.connect5("v5-unsub-pub");
        pub.send(Wire.publish5(0, "v5u/a", 0, props(), "x"));
        c.expectNothing();
    }

    // [MQTT-3.10.4-3] A QoS 2 delivery in flight at UNSUBSCRIBE is completed (PUBREC still gets PUBREL).
    @Test
    void inflightCompletedAfterUnsubscribe_MQTT_3_10_4_3() {
        Conn c = conns.subscriber5("v5-uinf", "v5uinf/t", 0x02);
        Conn pub = conns.connect5("v5-uinf-pub");
        pub.send(Wire.publish5(Wire.QOS2, "v5uinf/t", 1, props(), "x"));
        pub.expectAck5(0x50, (0x00) << 8 | (0x01));
        int id = c.expectPublish5(Wire.QOS2, "v5uinf/t", props(), "x");
        c.send(Wire.unsubscribe5(2, "v5uinf/t"));
        c.expect(0xB0, 0x04, 0x00, 0x02, 0x00, 0x00);      // UNSUBACK, success
        c.send(0x50, 0x02, id >> 8, id & 0xFF);
        c.expect(0x62, 0x02, id >> 8, id & 0xFF);
    }

    // [MQTT-1.5.5-1] A Variable Byte Integer must use the fewest bytes: a two-byte Property Length of 0 is malformed.
    @Test
    void nonMinimalVariableByteInteger_MQTT_1_5_5_1() {
        Conn c = conns.connect5("v5-vbi");
        c.send(
                0x30, 0x06,                                // PUBLISH QoS 0, remaining length 6
                0x00, 0x01, 'a',                           // topic "a"
                0x80, 0x00,                                // property length 0 in two bytes
                'x');                                      // payload
        c.expectDisconnect(0x81);
    }

    // [MQTT-2.1.3-1] Reserved flags of PUBREL must be 0010: otherwise DISCONNECT 0x81. [MQTT-3.6.1-1]
    @Test
    void pubrelFlags_MQTT_3_6_1_1() {
        Conn c = conns.connect5("v5-prf");
        c.send(0x60, 0x02, 0x00, 0x01);                    // PUBREL with flags 0000
        c.expectDisconnect(0x81);
    }

    // [MQTT-4.13.1-1] A Protocol Error (AUTH without an agreed Authentication Method) gets DISCONNECT 0x82 and a close.
    // [MQTT-4.12.0-6] no AUTH is ever sent to such a client.
    @Test
    void authWithoutMethodIsAProtocolError_MQTT_4_13_1_1() {
        Conn c = conns.connect5("v5-auth");
        c.send(
                0xF0, 0x02,                                // AUTH, remaining length 2
                0x18,                                      // reason 0x18 continue authentication
                0x00);                                     // property length 0
        c.expectDisconnect(0x82);
    }
}
