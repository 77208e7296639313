package io.starling.it.spec.v311;

import static io.starling.it.spec.Wire.DUP;
import static io.starling.it.spec.Wire.QOS1;
import static io.starling.it.spec.Wire.QOS2;
import static org.assertj.core.api.Assertions.assertThat;

import io.starling.it.BrokerExtension;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * MQTT 3.1.1 section 3.6 PUBREL and chapter 4: session state (4.1), QoS flows (4.3), retry (4.4), message receipt
 * (4.5), ordering (4.6), errors (4.8).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class QosFlowSpecTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Conns conns = new Conns(broker);

    // [MQTT-3.6.1-1] PUBREL fixed-header flags must be 0010; the server treats others as malformed and closes.
    @Test
    void pubrelWithFlags0000Closes_MQTT_3_6_1_1() {
        Conn c = conns.connect311("prflags");
        c.send(Wire.publish311(QOS2, "prflags/t", 1, "x"));
        c.expect(0x50, 0x02, 0x00, 0x01);                  // PUBREC
        c.send(
                0x60, 0x02,                                // PUBREL with flags 0000
                0x00, 0x01);                               // packet id 1
        c.expectClosedWithoutPacket();
    }

    // [MQTT-4.1.0-1] The server keeps the session state for the life of the session: an unfinished inbound QoS 2
    // flow (PUBREC sent, PUBREL pending) survives a reconnect with CleanSession=0 and completes.
    @Test
    void sessionStateSurvivesReconnect_MQTT_4_1_0_1() {
        Conn sub = conns.subscriber311("state-sub", "state/t", 2);
        Conn c = conns.connect311("state", false, 0x00);
        c.send(Wire.publish311(QOS2, "state/t", 0x0101, "s"));
        c.expect(0x50, 0x02, 0x01, 0x01);                  // PUBREC
        c.close();                                         // dropped before PUBREL
        Conn again = conns.connect311("state", false, 0x01);
        again.send(0x62, 0x02, 0x01, 0x01);                // PUBREL for the id of the previous connection
        again.expect(0x70, 0x02, 0x01, 0x01);              // PUBCOMP
        int id = sub.expectPublish311(QOS2, "state/t", "s");
        sub.send(0x50, 0x02, id >> 8, id & 0xFF);
        sub.expect(0x62, 0x02, id >> 8, id & 0xFF);
        sub.send(0x70, 0x02, id >> 8, id & 0xFF);
        sub.expectNothing();                               // delivered once
    }

    // [MQTT-4.1.0-2] A session lasts at least as long as its connection: a CleanSession=1 session keeps its
    // subscription and its inbound QoS 2 state while connected.
    @Test
    void cleanSessionLastsAsLongAsTheConnection_MQTT_4_1_0_2() {
        Conn c = conns.subscriber311("life", "life/t", 2);
        c.send(Wire.publish311(QOS2, "life/t", 7, "l"));   // to itself
        c.expect(0x50, 0x02, 0x00, 0x07);                  // PUBREC: the id is now in the session state
        int id = c.expectPublish311(QOS2, "life/t", "l");
        c.send(Wire.publish311(DUP | QOS2, "life/t", 7, "l")); // the same PUBLISH again before PUBREL
        c.expect(0x50, 0x02, 0x00, 0x07);                  // PUBREC again, no second delivery
        c.send(0x50, 0x02, id >> 8, id & 0xFF);            // PUBREC for the delivery
        c.expect(0x62, 0x02, id >> 8, id & 0xFF);          // PUBREL
        c.send(0x70, 0x02, id >> 8, id & 0xFF);            // PUBCOMP
        c.send(0x62, 0x02, 0x00, 0x07);                    // PUBREL for the inbound message
        c.expect(0x70, 0x02, 0x00, 0x07);                  // PUBCOMP
        c.expectNothing();
    }

    // [MQTT-4.3.1-1] QoS 0: the server sends the PUBLISH with QoS 0 and DUP 0.
    @Test
    void qos0DeliveryHasQos0AndDup0_MQTT_4_3_1_1() {
        Conn sub = conns.subscriber311("q0-sub", "q0/t", 2);
        Conn pub = conns.connect311("q0-pub");
        pub.send(Wire.publish311(0, "q0/t", 0, "zero"));
        sub.expect(
                0x30, 0x0A,                                // PUBLISH, QoS 0, DUP 0, RETAIN 0, remaining length 10
                0x00, 0x04, 'q', '0', '/', 't',            // topic "q0/t"
                'z', 'e', 'r', 'o');                       // payload
    }

    // [MQTT-4.3.2-1] QoS 1 sender (the server): a new packet id for each message, QoS 1 and DUP 0, and the message
    // stays unacknowledged until the PUBACK: re-sent on resume before it, never after it.
    @Test
    void qos1SenderKeepsTheMessageUntilPuback_MQTT_4_3_2_1() {
        Conn sub = conns.connect311("q1s", false, 0x00);
        Conns.subscribe311(sub, 1, "q1s/t", 1, 1);
        Conn pub = conns.connect311("q1s-pub");
        pub.send(Wire.publish311(QOS1, "q1s/t", 1, "a"));
        pub.send(Wire.publish311(QOS1, "q1s/t", 2, "b"));
        pub.expect(0x40, 0x02, 0x00, 0x01);
        pub.expect(0x40, 0x02, 0x00, 0x02);
        int a = sub.expectPublish311(QOS1, "q1s/t", "a");  // QoS 1, DUP 0
        int b = sub.expectPublish311(QOS1, "q1s/t", "b");
        assertThat(a).isNotEqualTo(b);
        sub.send(0x40, 0x02, a >> 8, a & 0xFF);            // PUBACK "a" only
        sub.expectAlive();                                 // the PUBACK has been processed
        sub.close();
        Conn again = conns.connect311("q1s", false, 0x01);
        again.expect(Wire.publish311(DUP | QOS1, "q1s/t", b, "b")); // only "b" is re-sent
        again.send(0x40, 0x02, b >> 8, b & 0xFF);
        again.expectNothing();
    }

    // [MQTT-4.3.2-2] QoS 1 receiver (the server): PUBACK with the same packet id; after the PUBACK a PUBLISH with the
    // same id is a new message and is delivered again.
    @Test
    void qos1ReceiverTreatsAReusedIdAsNewMessage_MQTT_4_3_2_2() {
        Conn sub = conns.subscriber311("q1r-sub", "q1r/t", 0);
        Conn pub = conns.connect311("q1r-pub");
        pub.send(Wire.publish311(QOS1, "q1r/t", 5, "first"));
        pub.expect(0x40, 0x02, 0x00, 0x05);                // PUBACK 5
        sub.expectPublish311(0, "q1r/t", "first");
        pub.send(Wire.publish311(QOS1, "q1r/t", 5, "second")); // packet id 5 again
        pub.expect(0x40, 0x02, 0x00, 0x05);
        sub.expectPublish311(0, "q1r/t", "second");        // a new message
    }

    // [MQTT-4.3.3-1] QoS 2 sender (the server): new id, QoS 2 DUP 0; PUBREL with the same id on PUBREC; PUBREL kept
    // until PUBCOMP (re-sent on resume); the PUBLISH is never re-sent once PUBREL was sent.
    @Test
    void qos2SenderFlow_MQTT_4_3_3_1() {
        Conn sub = conns.connect311("q2s", false, 0x00);
        Conns.subscribe311(sub, 1, "q2s/t", 2, 2);
        Conn pub = conns.connect311("q2s-pub");
        pub.send(Wire.publish311(QOS2, "q2s/t", 1, "two"));
        pub.expect(0x50, 0x02, 0x00, 0x01);
        int id = sub.expectPublish311(QOS2, "q2s/t", "two"); // QoS 2, DUP 0
        sub.send(0x50, 0x02, id >> 8, id & 0xFF);          // PUBREC
        sub.expect(0x62, 0x02, id >> 8, id & 0xFF);        // PUBREL, same id
        sub.close();                                       // dropped before PUBCOMP
        Conn again = conns.connect311("q2s", false, 0x01);
        again.expect(0x62, 0x02, id >> 8, id & 0xFF);      // PUBREL again, not the PUBLISH
        again.send(0x70, 0x02, id >> 8, id & 0xFF);        // PUBCOMP
        again.expectNothing();
    }

    // [MQTT-4.3.3-2] QoS 2 receiver (the server): PUBREC with the id; until PUBREL a repeated PUBLISH gets PUBREC and
    // is not delivered onward again; PUBREL gets PUBCOMP; after PUBCOMP the same id is a new message.
    @Test
    void qos2ReceiverFlow_MQTT_4_3_3_2() {
        Conn sub = conns.subscriber311("q2r-sub", "q2r/t", 0);
        Conn pub = conns.connect311("q2r-pub");
        pub.send(Wire.publish311(QOS2, "q2r/t", 0x0909, "m1"));
        pub.expect(0x50, 0x02, 0x09, 0x09);                // PUBREC
        sub.expectPublish311(0, "q2r/t", "m1");
        pub.send(Wire.publish311(DUP | QOS2, "q2r/t", 0x0909, "m1")); // repeated before PUBREL
        pub.expect(0x50, 0x02, 0x09, 0x09);                // PUBREC again
        pub.send(0x62, 0x02, 0x09, 0x09);                  // PUBREL
        pub.expect(0x70, 0x02, 0x09, 0x09);                // PUBCOMP
        sub.expectNothing();                               // no duplicate onward delivery
        pub.send(Wire.publish311(QOS2, "q2r/t", 0x0909, "m2")); // the id is free again
        pub.expect(0x50, 0x02, 0x09, 0x09);
        sub.expectPublish311(0, "q2r/t", "m2");            // a new message
        pub.send(0x62, 0x02, 0x09, 0x09);
        pub.expect(0x70, 0x02, 0x09, 0x09);
    }

    // [MQTT-4.4.0-1] On a CleanSession=0 reconnect the server re-sends unacknowledged PUBLISH packets (DUP 1) and
    // PUBREL packets with their original packet ids.
    @Test
    void unacknowledgedPacketsAreResentOnResume_MQTT_4_4_0_1() {
        Conn sub = conns.connect311("retry", false, 0x00);
        Conns.subscribe311(sub, 1, "retry/t", 2, 2);
        Conn pub = conns.connect311("retry-pub");
        pub.send(Wire.publish311(QOS2, "retry/t", 1, "rel"));
        pub.expect(0x50, 0x02, 0x00, 0x01);
        pub.send(Wire.publish311(QOS1, "retry/t", 2, "pub"));
        pub.expect(0x40, 0x02, 0x00, 0x02);
        int rel = sub.expectPublish311(QOS2, "retry/t", "rel");
        int p = sub.expectPublish311(QOS1, "retry/t", "pub");
        sub.send(0x50, 0x02, rel >> 8, rel & 0xFF);        // PUBREC
        sub.expect(0x62, 0x02, rel >> 8, rel & 0xFF);      // PUBREL
        sub.close();                                       // PUBCOMP and PUBACK never sent
        Conn again = conns.connect311("retry", false, 0x01);
        again.expect(0x62, 0x02, rel >> 8, rel & 0xFF);    // PUBREL re-sent, original id
        again.expect(Wire.publish311(DUP | QOS1, "retry/t", p, "pub")); // PUBLISH re-sent, DUP 1, original id
        again.send(0x70, 0x02, rel >> 8, rel & 0xFF);
        again.send(0x40, 0x02, p >> 8, p & 0xFF);
        again.expectNothing();
    }

    // [MQTT-4.5.0-1] An accepted message is added to the session of every matching subscriber, connected or not.
    @Test
    void messageGoesToEveryMatchingSession_MQTT_4_5_0_1() {
        Conn online = conns.subscriber311("rcpt-on", "rcpt/+", 1);
        Conn offline = conns.connect311("rcpt-off", false, 0x00);
        Conns.subscribe311(offline, 1, "rcpt/#", 1, 1);
        offline.send(0xE0, 0x00);
        offline.expectClosed();
        Conn pub = conns.connect311("rcpt-pub");
        pub.send(Wire.publish311(QOS1, "rcpt/x", 1, "all"));
        pub.expect(0x40, 0x02, 0x00, 0x01);
        int id = online.expectPublish311(QOS1, "rcpt/x", "all");
        online.send(0x40, 0x02, id >> 8, id & 0xFF);
        Conn back = conns.connect311("rcpt-off", false, 0x01);
        id = back.expectPublish311(QOS1, "rcpt/x", "all");
        back.send(0x40, 0x02, id >> 8, id & 0xFF);
    }

    // [MQTT-4.6.0-5] Every topic is an Ordered Topic by default: one publisher's messages on one topic arrive in the
    // order sent, at QoS 0, 1 and 2.
    @Test
    void messagesArriveInPublishOrder_MQTT_4_6_0_5() {
        Conn sub = conns.subscriber311("ord-sub", "ord/+", 2);
        Conn pub = conns.connect311("ord-pub");
        int[] qos = {0, QOS1, QOS2};
        for (int q : qos) {
            int[] script = new int[0];
            for (int i = 1; i <= 10; i++) {                // ten messages in one write
                script = Wire.cat(script, Wire.publish311(q, "ord/q" + q, i, "m" + i));
            }
            pub.send(script);
            List<Conn.Pub> got = new ArrayList<>();
            for (int i = 1; i <= 10; i++) {                // all ten fit in the inflight window (32)
                Conn.Pub p = sub.readPublish(false);
                assertThat(p.text()).as("QoS %d message %d", p.qos(), i).isEqualTo("m" + i);
                got.add(p);
            }
            for (Conn.Pub p : got) {
                int hi = p.packetId() >> 8;
                int lo = p.packetId() & 0xFF;
                if (p.qos() == 1) {
                    sub.send(0x40, 0x02, hi, lo);          // PUBACK
                } else if (p.qos() == 2) {
                    sub.send(0x50, 0x02, hi, lo);          // PUBREC
                    sub.expect(0x62, 0x02, hi, lo);        // PUBREL
                    sub.send(0x70, 0x02, hi, lo);          // PUBCOMP
                }
            }
            if (q != 0) {
                for (int i = 1; i <= 10; i++) {            // the publisher's acknowledgements, in order too
                    pub.expect(q == QOS1 ? 0x40 : 0x50, 0x02, 0x00, i);
                }
            }
        }
    }

    // [MQTT-4.6.0-6] As an Ordered Topic sender the server follows 4.6.0-1..4: it re-sends unacknowledged PUBLISH
    // packets in their original order, and acknowledges received PUBLISH packets (PUBACK, PUBREC) in arrival order.
    @Test
    void resendsAndAcksKeepTheOrder_MQTT_4_6_0_6() {
        Conn sub = conns.connect311("ord6-sub", false, 0x00);
        Conns.subscribe311(sub, 1, "ord6/t", 1, 1);
        Conn pub = conns.connect311("ord6-pub");
        pub.send(Wire.cat(
                Wire.publish311(QOS1, "ord6/t", 3, "a"),   // ids deliberately not increasing
                Wire.publish311(QOS2, "ord6/t", 1, "b"),
                Wire.publish311(QOS1, "ord6/t", 2, "c")));
        pub.expect(0x40, 0x02, 0x00, 0x03);                // PUBACK 3
        pub.expect(0x50, 0x02, 0x00, 0x01);                // PUBREC 1
        pub.expect(0x40, 0x02, 0x00, 0x02);                // PUBACK 2
        List<Integer> ids = new ArrayList<>();
        ids.add(sub.expectPublish311(QOS1, "ord6/t", "a"));
        ids.add(sub.expectPublish311(QOS1, "ord6/t", "b"));
        ids.add(sub.expectPublish311(QOS1, "ord6/t", "c"));
        sub.close();                                       // none acknowledged
        Conn again = conns.connect311("ord6-sub", false, 0x01);
        again.expect(Wire.publish311(DUP | QOS1, "ord6/t", ids.get(0), "a"));
        again.expect(Wire.publish311(DUP | QOS1, "ord6/t", ids.get(1), "b"));
        again.expect(Wire.publish311(DUP | QOS1, "ord6/t", ids.get(2), "c"));
        for (int id : ids) {
            again.send(0x40, 0x02, id >> 8, id & 0xFF);
        }
        pub.send(0x62, 0x02, 0x00, 0x01);
        pub.expect(0x70, 0x02, 0x00, 0x01);
    }

    // [MQTT-4.8.0-1] A protocol violation closes the connection: here a packet type only the server may send
    // (SUBACK), and the reserved packet type 15.
    @Test
    void serverOnlyPacketFromClientCloses_MQTT_4_8_0_1() {
        conns.connect311("viol").send(
                0x90, 0x03,                                // SUBACK from a client
                0x00, 0x01,                                // packet id 1
                0x00)                                      // return code
                .expectClosedWithoutPacket();
        conns.connect311("viol2").send(
                0xF0, 0x00)                                // packet type 15: reserved in 3.1.1
                .expectClosedWithoutPacket();
    }
}
