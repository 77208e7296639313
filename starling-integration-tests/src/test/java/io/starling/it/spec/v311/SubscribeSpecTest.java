package io.starling.it.spec.v311;

import static io.starling.it.spec.Wire.QOS1;
import static io.starling.it.spec.Wire.QOS2;
import static io.starling.it.spec.Wire.RETAIN;
import static io.starling.it.spec.Wire.str;
import static io.starling.it.spec.Wire.u16;

import io.starling.it.BrokerExtension;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** MQTT 3.1.1 sections 3.8 SUBSCRIBE and 3.9 SUBACK, byte by byte. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SubscribeSpecTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Conns conns = new Conns(broker);

    // [MQTT-3.8.1-1] SUBSCRIBE fixed-header flags must be 0010; anything else is malformed and closes.
    @Test
    void subscribeWithFlags0000Closes_MQTT_3_8_1_1() {
        conns.connect311("sflags").send(
                0x80, 0x06,                                // SUBSCRIBE with flags 0000
                0x00, 0x01,                                // packet id 1
                0x00, 0x01, 'a',                           // filter "a"
                0x00)                                      // QoS 0
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.8.3-1] Topic filters are UTF-8 strings: ill-formed UTF-8 closes the connection.
    @Test
    void filterWithIllFormedUtf8Closes_MQTT_3_8_3_1() {
        conns.connect311("sutf").send(
                0x82, 0x07,                                // SUBSCRIBE, remaining length 7
                0x00, 0x01,                                // packet id 1
                0x00, 0x02, 0xE2, 0x82,                    // filter: a three-byte sequence cut after two bytes
                0x00)                                      // QoS 0
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.8.3-2] Starling supports wildcards, so it does not reject them: '+' and '#' filters are granted.
    @Test
    void wildcardFiltersAreGranted_MQTT_3_8_3_2() {
        Conn c = conns.connect311("swild");
        c.send(Wire.packet(0x82,                           // SUBSCRIBE
                u16(7),                                    // packet id 7
                str("#"), Wire.b(0x01),                    // filter "#", QoS 1
                str("+/+"), Wire.b(0x02)));                // filter "+/+", QoS 2
        c.expect(
                0x90, 0x04,                                // SUBACK, remaining length 4
                0x00, 0x07,                                // packet id 7
                0x01, 0x02);                               // granted QoS 1, 2
    }

    // [MQTT-3.8.3-3] A SUBSCRIBE needs at least one filter / QoS pair: an empty payload closes the connection.
    @Test
    void subscribeWithoutFilterCloses_MQTT_3_8_3_3() {
        conns.connect311("snone").send(
                0x82, 0x02,                                // SUBSCRIBE, remaining length 2
                0x00, 0x01)                                // packet id 1, no payload
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.8.3-4] Non-zero reserved bits in the requested-QoS byte, or QoS 3, are malformed: close.
    @Test
    void reservedBitsOrQos3InRequestedQosClose_MQTT_3_8_3_4() {
        conns.connect311("sres").send(
                0x82, 0x06,                                // SUBSCRIBE, remaining length 6
                0x00, 0x01,                                // packet id 1
                0x00, 0x01, 'a',                           // filter "a"
                0x04)                                      // reserved bit 2 set, QoS 0
                .expectClosedWithoutPacket();
        conns.connect311("sq3").send(
                0x82, 0x06,                                // SUBSCRIBE, remaining length 6
                0x00, 0x01,                                // packet id 1
                0x00, 0x01, 'a',                           // filter "a"
                0x03)                                      // QoS 3
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.8.4-1] Every SUBSCRIBE gets a SUBACK, also one whose only filter fails.
    // [MQTT-3.8.4-2] The SUBACK carries the SUBSCRIBE's packet identifier.
    @Test
    void everySubscribeGetsASuback_MQTT_3_8_4_1() {
        Conn c = conns.connect311("sack");
        c.send(
                0x82, 0x06,                                // SUBSCRIBE, remaining length 6
                0x12, 0x34,                                // packet id 0x1234
                0x00, 0x01, 'a',                           // filter "a"
                0x00);                                     // QoS 0
        c.expect(
                0x90, 0x03,                                // SUBACK
                0x12, 0x34,                                // packet id 0x1234 [MQTT-3.8.4-2]
                0x00);                                     // granted QoS 0
        c.send(
                0x82, 0x07,                                // SUBSCRIBE, remaining length 7
                0x12, 0x35,                                // packet id 0x1235
                0x00, 0x02, 'a', '#',                      // filter "a#": invalid
                0x01);                                     // QoS 1
        c.expect(
                0x90, 0x03,                                // SUBACK all the same
                0x12, 0x35,                                // packet id 0x1235
                0x80);                                     // 0x80 failure
    }

    // [MQTT-3.8.4-3] A SUBSCRIBE with a filter identical to an existing one replaces the subscription (new QoS),
    // re-sends the matching retained messages, and no second copy of live messages appears.
    @Test
    void identicalFilterReplacesTheSubscription_MQTT_3_8_4_3() {
        Conn pub = conns.connect311("srep-pub");
        pub.send(Wire.publish311(QOS1 | RETAIN, "srep/t", 1, "ret"));
        pub.expect(0x40, 0x02, 0x00, 0x01);
        Conn sub = conns.connect311("srep-sub");
        Conns.subscribe311(sub, 1, "srep/t", 0, 0);
        sub.expectPublish311(RETAIN, "srep/t", "ret");     // at QoS 0
        Conns.subscribe311(sub, 2, "srep/t", 1, 1);        // the same filter at QoS 1
        int rid = sub.expectPublish311(QOS1 | RETAIN, "srep/t", "ret"); // retained message re-sent
        sub.send(0x40, 0x02, rid >> 8, rid & 0xFF);
        pub.send(Wire.publish311(QOS1, "srep/t", 2, "live"));
        pub.expect(0x40, 0x02, 0x00, 0x02);
        int id = sub.expectPublish311(QOS1, "srep/t", "live"); // at the new QoS 1
        sub.send(0x40, 0x02, id >> 8, id & 0xFF);
        sub.expectNothing();                               // one subscription, one copy
    }

    // [MQTT-3.8.4-4] A SUBSCRIBE with several filters is handled like one SUBSCRIBE per filter, answered by one SUBACK.
    // [MQTT-3.8.4-5] One return code per filter. [MQTT-3.9.3-1] in the order of the filters.
    @Test
    void severalFiltersOneSuback_MQTT_3_8_4_4() {
        Conn c = conns.connect311("smulti");
        c.send(
                0x82, 0x16,                                // SUBSCRIBE, remaining length 22
                0x00, 0x09,                                // packet id 9
                0x00, 0x04, 'm', '/', 'q', '2', 0x02,      // filter "m/q2", QoS 2
                0x00, 0x03, 'm', '/', '#', 0x00,           // filter "m/#", QoS 0
                0x00, 0x04, 'm', '/', '#', 'x', 0x01);     // filter "m/#x" (invalid), QoS 1
        c.expect(
                0x90, 0x05,                                // one SUBACK, remaining length 5
                0x00, 0x09,                                // packet id 9
                0x02,                                      // "m/q2": QoS 2
                0x00,                                      // "m/#": QoS 0
                0x80);                                     // "m/#x": failure
        Conn pub = conns.connect311("smulti-pub");
        pub.send(Wire.publish311(0, "m/other", 0, "o"));
        c.expectPublish311(0, "m/other", "o");             // the second subscription exists on its own
    }

    // [MQTT-3.8.4-6] The delivered QoS is the lower of the published QoS and the granted QoS.
    @Test
    void deliveredQosIsTheMinimum_MQTT_3_8_4_6() {
        Conn sub = conns.connect311("smin");
        Conns.subscribe311(sub, 1, "smin/one", 1, 1);
        Conns.subscribe311(sub, 2, "smin/two", 2, 2);
        Conn pub = conns.connect311("smin-pub");
        pub.send(Wire.publish311(QOS2, "smin/one", 1, "2to1"));  // published 2, granted 1
        pub.expect(0x50, 0x02, 0x00, 0x01);
        int id = sub.expectPublish311(QOS1, "smin/one", "2to1");
        sub.send(0x40, 0x02, id >> 8, id & 0xFF);
        pub.send(Wire.publish311(QOS1, "smin/two", 2, "1to1"));  // published 1, granted 2
        pub.expect(0x40, 0x02, 0x00, 0x02);
        id = sub.expectPublish311(QOS1, "smin/two", "1to1");
        sub.send(0x40, 0x02, id >> 8, id & 0xFF);
        pub.send(Wire.publish311(0, "smin/two", 0, "0to0"));     // published 0, granted 2
        sub.expectPublish311(0, "smin/two", "0to0");
    }

    // [MQTT-3.9.3-2] SUBACK return codes are only 0x00, 0x01, 0x02 and 0x80: one of each.
    @Test
    void subackUsesOnlyAllowedReturnCodes_MQTT_3_9_3_2() {
        Conn c = conns.connect311("scodes");
        c.send(
                0x82, 0x13,                                // SUBSCRIBE, remaining length 19
                0x00, 0x02,                                // packet id 2
                0x00, 0x01, 'a', 0x00,                     // "a" QoS 0
                0x00, 0x01, 'b', 0x01,                     // "b" QoS 1
                0x00, 0x01, 'c', 0x02,                     // "c" QoS 2
                0x00, 0x02, '+', 'x', 0x01);               // "+x" invalid
        c.expect(
                0x90, 0x06,                                // SUBACK, remaining length 6
                0x00, 0x02,                                // packet id 2
                0x00, 0x01, 0x02, 0x80);                   // return codes
    }
}
