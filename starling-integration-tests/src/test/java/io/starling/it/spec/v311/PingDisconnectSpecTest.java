package io.starling.it.spec.v311;

import static io.starling.it.spec.Wire.CLEAN;
import static io.starling.it.spec.Wire.WILL;

import io.starling.it.BrokerExtension;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** MQTT 3.1.1 sections 3.12 PINGREQ and 3.14 DISCONNECT, byte by byte. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PingDisconnectSpecTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Conns conns = new Conns(broker);

    // [MQTT-3.12.4-1] The server answers every PINGREQ with a PINGRESP, also several in one write.
    @Test
    void everyPingreqGetsAPingresp_MQTT_3_12_4_1() {
        Conn c = conns.connect311("ping");
        c.send(0xC0, 0x00);                                // PINGREQ
        c.expect(0xD0, 0x00);                              // PINGRESP
        c.send(
                0xC0, 0x00,                                // PINGREQ
                0xC0, 0x00,                                // PINGREQ
                0xC0, 0x00);                               // PINGREQ
        c.expect(0xD0, 0x00);
        c.expect(0xD0, 0x00);
        c.expect(0xD0, 0x00);
        c.expectNothing();
    }

    // [MQTT-3.14.1-1] The server checks that the DISCONNECT reserved flags are zero and disconnects the client if
    // not; it is not a normal DISCONNECT, so the Will is published.
    @Test
    void disconnectWithReservedFlagsClosesAndPublishesTheWill_MQTT_3_14_1_1() {
        Conn sub = conns.subscriber311("dflags-sub", "dflags/will", 0);
        Conn c = conns.open();
        c.send(Wire.connect311Will("dflags", CLEAN | WILL, 60, "dflags/will", "w"));
        c.expect(0x20, 0x02, 0x00, 0x00);                  // CONNACK
        c.send(
                0xE1, 0x00);                               // DISCONNECT with reserved flags 0001
        c.expectClosedWithoutPacket();
        sub.expectPublish311(0, "dflags/will", "w");
    }

    // [MQTT-3.14.4-3] On DISCONNECT the server discards the Will without publishing it. [MQTT-3.1.2-10] the Will
    // is deleted when a DISCONNECT arrives.
    @Test
    void disconnectDiscardsTheWill_MQTT_3_14_4_3() {
        Conn sub = conns.subscriber311("dwill-sub", "dwill/will", 0);
        Conn c = conns.open();
        c.send(Wire.connect311Will("dwill", CLEAN | WILL, 60, "dwill/will", "w"));
        c.expect(0x20, 0x02, 0x00, 0x00);                  // CONNACK
        c.send(
                0xE0, 0x00);                               // DISCONNECT
        c.expectClosed();
        sub.expectNothing();
    }

    // A DISCONNECT with a non-zero Remaining Length is malformed (3.14: no variable header or payload) [MQTT-4.8.0-1].
    @Test
    void disconnectWithBodyCloses_MQTT_4_8_0_1() {
        Conn sub = conns.subscriber311("dbody-sub", "dbody/will", 0);
        Conn c = conns.open();
        c.send(Wire.connect311Will("dbody", CLEAN | WILL, 60, "dbody/will", "w"));
        c.expect(0x20, 0x02, 0x00, 0x00);
        c.send(
                0xE0, 0x01,                                // DISCONNECT, remaining length 1
                0x00);                                     // an unexpected byte
        c.expectClosedWithoutPacket();
        sub.expectPublish311(0, "dbody/will", "w");        // not a normal DISCONNECT: the will goes out
    }
}
