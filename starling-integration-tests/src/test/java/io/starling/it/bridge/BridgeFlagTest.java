package io.starling.it.bridge;

import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.starling.it.BrokerExtension;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Mosquitto's bridge flag byte by byte: a 3.1.1 CONNECT whose Protocol Level has bit 7 set (0x84) is a bridge, accepted
 * as 3.1.1; such a client is not sent back its own messages (as a 5.0 No Local subscription) and gets RETAIN as
 * published. The flag on level 5 is no version at all [MQTT-3.1.2-2]. With {@code -Dstarling.it.broker=mosquitto} the
 * first two run against Mosquitto, whose behaviour Starling's follows.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BridgeFlagTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Conns conns = new Conns(broker);

    /** A 3.1.1 CONNECT of client id {@code id} (clean session, keep-alive 60) with the given Protocol Level byte. */
    private static int[] connect(int level, String id) {
        return Wire.packet(0x10,
                Wire.str("MQTT"),
                Wire.b(level),
                Wire.b(Wire.CLEAN),
                Wire.u16(60),
                Wire.str(id));
    }

    @Test
    void aBridgeIsNotSentItsOwnMessagesAndKeepsRetain() {
        Conn bridge = conns.open();
        bridge.send(connect(0x84, "flagged"));
        bridge.expect(0x20, 0x02, 0x00, 0x00);              // CONNACK: accepted as 3.1.1
        Conns.subscribe311(bridge, 1, "t/#", 0, 0);
        bridge.send(Wire.publish311(0, "t/own", 0, "mine")); // its own message: not sent back
        Conn other = conns.connect311("other");
        other.send(Wire.publish311(0x01, "t/other", 0, "theirs")); // retained, from another client
        // the first PUBLISH the bridge gets is the other client's, RETAIN as published
        bridge.expectPublish311(0x01, "t/other", "theirs");
        other.send(Wire.publish311(0x01, "t/other", 0, ""));       // clears the retained message
    }

    @Test
    void theSameWithoutTheFlagGetsItsOwnMessageBack() {
        Conn plain = conns.open();
        plain.send(connect(0x04, "plain"));
        plain.expect(0x20, 0x02, 0x00, 0x00);
        Conns.subscribe311(plain, 1, "u/#", 0, 0);
        plain.send(Wire.publish311(0, "u/own", 0, "mine"));
        plain.expectPublish311(0, "u/own", "mine");
    }

    @Test
    void theFlagOnLevel5IsAnUnsupportedVersion_MQTT_3_1_2_2() {
        assumeFalse(BrokerExtension.isMosquitto(), "Starling's answer");
        Conn c = conns.open();
        c.send(connect(0x85, "v5-flagged"));
        c.expect(0x20, 0x02, 0x00, 0x01);                   // CONNACK 0x01 unacceptable protocol version
        c.expectClosed();
    }

    /**
     * A Mosquitto bridge's default notification Will is on {@code $SYS/broker/connection/<id>/state}: for a client with
     * the bridge flag the Will is dropped and the connection accepted; any other client with such a Will is refused
     * (no client publishes to {@code $SYS}).
     */
    @Test
    void aBridgesWillOnSysIsDroppedWhereAnyOtherClientIsRefused() {
        assumeFalse(BrokerExtension.isMosquitto(), "Starling's $SYS rule");
        for (int level : new int[] {0x84, 0x04}) {
            Conn c = conns.open();
            c.send(Wire.packet(0x10,
                    Wire.str("MQTT"),
                    Wire.b(level),
                    Wire.b(Wire.CLEAN | Wire.WILL | Wire.WILL_QOS1 | Wire.WILL_RETAIN),
                    Wire.u16(60),
                    Wire.str("notifier-" + level),
                    Wire.str("$SYS/broker/connection/notifier/state"),
                    Wire.str("0")));
            if (level == 0x84) {
                c.expect(0x20, 0x02, 0x00, 0x00);           // accepted, without the Will
            } else {
                c.expect(0x20, 0x02, 0x00, 0x05);           // 0x05 not authorized
                c.expectClosed();
            }
        }
    }
}
