package io.starling.it.spec.v311;

import static io.starling.it.spec.Wire.QOS1;
import static io.starling.it.spec.Wire.QOS2;

import io.starling.it.BrokerExtension;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** MQTT 3.1.1 sections 3.10 UNSUBSCRIBE and 3.11 UNSUBACK, byte by byte. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class UnsubscribeSpecTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Conns conns = new Conns(broker);

    // [MQTT-3.10.1-1] UNSUBSCRIBE fixed-header flags must be 0010; anything else is malformed and closes.
    @Test
    void unsubscribeWithFlags0000Closes_MQTT_3_10_1_1() {
        conns.connect311("uflags").send(
                0xA0, 0x05,                                // UNSUBSCRIBE with flags 0000
                0x00, 0x01,                                // packet id 1
                0x00, 0x01, 'a')                           // filter "a"
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.10.3-1] UNSUBSCRIBE topic filters are UTF-8 strings: ill-formed UTF-8 closes the connection.
    @Test
    void filterWithIllFormedUtf8Closes_MQTT_3_10_3_1() {
        conns.connect311("uutf").send(
                0xA2, 0x05,                                // UNSUBSCRIBE, remaining length 5
                0x00, 0x01,                                // packet id 1
                0x00, 0x01, 0x80)                          // filter: a lone continuation byte
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.10.3-2] UNSUBSCRIBE carries at least one topic filter: an empty payload closes the connection.
    @Test
    void unsubscribeWithoutFilterCloses_MQTT_3_10_3_2() {
        conns.connect311("unone").send(
                0xA2, 0x02,                                // UNSUBSCRIBE, remaining length 2
                0x00, 0x01)                                // packet id 1, no filter
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.10.4-1] Filters are compared character by character: UNSUBSCRIBE "u1/b" does not remove "u1/+" (which
    // matches u1/b), UNSUBSCRIBE "u1/+" does. [MQTT-3.10.4-2] Afterwards no new messages are sent.
    @Test
    void filtersAreComparedLiterally_MQTT_3_10_4_1() {
        Conn sub = conns.subscriber311("ulit", "u1/+", 0);
        Conn pub = conns.connect311("ulit-pub");
        sub.send(Wire.unsubscribe311(2, "u1/b"));          // UNSUBSCRIBE "u1/b", packet id 2
        sub.expect(0xB0, 0x02, 0x00, 0x02);                // UNSUBACK 2
        pub.send(Wire.publish311(0, "u1/b", 0, "still"));
        sub.expectPublish311(0, "u1/b", "still");          // "u1/+" is still there
        sub.send(Wire.unsubscribe311(3, "u1/+"));          // UNSUBSCRIBE "u1/+", packet id 3
        sub.expect(0xB0, 0x02, 0x00, 0x03);                // UNSUBACK 3
        pub.send(Wire.publish311(0, "u1/b", 0, "gone"));
        sub.expectNothing();                               // [MQTT-3.10.4-2]
    }

    // [MQTT-3.10.4-2] Once unsubscribed, no new matching messages are added to the session: a persistent session that
    // unsubscribed and went offline has nothing queued when it comes back.
    @Test
    void noNewMessagesAreQueuedAfterUnsubscribe_MQTT_3_10_4_2() {
        Conn sub = conns.connect311("uq", false, 0x00);
        Conns.subscribe311(sub, 1, "uq/t", 1, 1);
        sub.send(Wire.unsubscribe311(2, "uq/t"));
        sub.expect(0xB0, 0x02, 0x00, 0x02);                // UNSUBACK
        sub.send(0xE0, 0x00);                              // DISCONNECT
        sub.expectClosed();
        Conn pub = conns.connect311("uq-pub");
        pub.send(Wire.publish311(QOS1, "uq/t", 1, "x"));
        pub.expect(0x40, 0x02, 0x00, 0x01);
        Conn again = conns.connect311("uq", false, 0x01);
        again.expectNothing();
    }

    // [MQTT-3.10.4-3] A QoS 2 delivery started before the UNSUBSCRIBE is completed: PUBREC still gets its PUBREL.
    // A QoS 1 delivery is completed too: it is re-sent on resume until acknowledged.
    @Test
    void deliveriesInFlightAreCompleted_MQTT_3_10_4_3() {
        Conn sub = conns.connect311("uflight", false, 0x00);
        Conns.subscribe311(sub, 1, "uf/2", 2, 2);
        Conns.subscribe311(sub, 2, "uf/1", 1, 1);
        Conn pub = conns.connect311("uflight-pub");
        pub.send(Wire.publish311(QOS2, "uf/2", 1, "two"));
        pub.expect(0x50, 0x02, 0x00, 0x01);
        pub.send(Wire.publish311(QOS1, "uf/1", 2, "one"));
        pub.expect(0x40, 0x02, 0x00, 0x02);
        int id2 = sub.expectPublish311(QOS2, "uf/2", "two");
        int id1 = sub.expectPublish311(QOS1, "uf/1", "one");
        sub.send(Wire.unsubscribe311(3, "uf/2", "uf/1"));
        sub.expect(0xB0, 0x02, 0x00, 0x03);                // UNSUBACK
        sub.send(0x50, 0x02, id2 >> 8, id2 & 0xFF);        // PUBREC for the QoS 2 message
        sub.expect(0x62, 0x02, id2 >> 8, id2 & 0xFF);      // PUBREL: the flow goes on
        sub.send(0x70, 0x02, id2 >> 8, id2 & 0xFF);        // PUBCOMP
        sub.close();                                       // the QoS 1 message is still unacknowledged
        Conn again = conns.connect311("uflight", false, 0x01);
        again.expect(Wire.publish311(Wire.DUP | QOS1, "uf/1", id1, "one")); // re-sent, DUP 1
        again.send(0x40, 0x02, id1 >> 8, id1 & 0xFF);
        again.expectNothing();
    }

    // [MQTT-3.10.4-4] The server answers UNSUBSCRIBE with UNSUBACK carrying the same packet identifier.
    // [MQTT-3.10.4-5] An UNSUBACK is sent even if no subscription matched the filter.
    @Test
    void unsubackEvenWithoutSubscription_MQTT_3_10_4_5() {
        Conn c = conns.connect311("unothing");
        c.send(
                0xA2, 0x08,                                // UNSUBSCRIBE, remaining length 8
                0x7E, 0x57,                                // packet id 0x7E57
                0x00, 0x04, 'n', 'o', 'n', 'e');           // filter "none", never subscribed
        c.expect(
                0xB0, 0x02,                                // UNSUBACK
                0x7E, 0x57);                               // packet id 0x7E57 [MQTT-3.10.4-4]
    }

    // [MQTT-3.10.4-6] Several filters in one UNSUBSCRIBE are handled in sequence and answered by one UNSUBACK.
    @Test
    void severalFiltersOneUnsuback_MQTT_3_10_4_6() {
        Conn sub = conns.connect311("umulti");
        Conns.subscribe311(sub, 1, "um/a", 0, 0);
        Conns.subscribe311(sub, 2, "um/b", 0, 0);
        Conns.subscribe311(sub, 3, "um/c", 0, 0);
        sub.send(
                0xA2, 0x0E,                                // UNSUBSCRIBE, remaining length 14
                0x00, 0x04,                                // packet id 4
                0x00, 0x04, 'u', 'm', '/', 'a',            // filter "um/a"
                0x00, 0x04, 'u', 'm', '/', 'b');           // filter "um/b"
        sub.expect(0xB0, 0x02, 0x00, 0x04);                // exactly one UNSUBACK
        Conn pub = conns.connect311("umulti-pub");
        pub.send(Wire.publish311(0, "um/a", 0, "a"));
        pub.send(Wire.publish311(0, "um/b", 0, "b"));
        pub.send(Wire.publish311(0, "um/c", 0, "c"));
        sub.expectPublish311(0, "um/c", "c");              // only the third subscription is left
        sub.expectNothing();
    }
}
