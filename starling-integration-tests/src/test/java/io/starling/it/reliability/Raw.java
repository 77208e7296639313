package io.starling.it.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.it.spec.Wire;
import io.starling.testkit.RawClient;
import java.io.UncheckedIOException;
import java.time.Duration;

/**
 * Byte-level MQTT clients for the reliability tests: each exchange is written out with {@link Wire} and each answer
 * read whole, so that a test sees exactly which acknowledgement (and reason code) the broker sent, or that it sent
 * none and closed the connection.
 */
final class Raw {

    static final Duration ANSWER = Duration.ofSeconds(30);

    private Raw() {
    }

    /** A 5.0 connection with Clean Start and a Session Expiry Interval; returns the CONNACK reason code. */
    static int connect5(RawClient c, String clientId, long expirySeconds) {
        c.send(Wire.connect5(clientId, Wire.CLEAN, 0, expirySeconds == 0 ? Wire.props()
                : Wire.props(Wire.sessionExpiry(expirySeconds))));
        byte[] p = c.readPacket(ANSWER);
        assertThat(p[0] & 0xFF).as("CONNACK of %s", clientId).isEqualTo(0x20);
        return p[3] & 0xFF;
    }

    /** A 3.1.1 connection; returns the CONNACK return code. */
    static int connect311(RawClient c, String clientId, boolean cleanSession) {
        c.send(Wire.connect311(clientId, cleanSession ? Wire.CLEAN : 0, 0));
        byte[] p = c.readPacket(ANSWER);
        assertThat(p[0] & 0xFF).as("CONNACK of %s", clientId).isEqualTo(0x20);
        return p[3] & 0xFF;
    }

    /** A 5.0 QoS 1 PUBLISH; returns the PUBACK reason code (0 when the PUBACK has none). */
    static int publish5(RawClient c, String topic, int packetId, String payload, boolean retain) {
        c.send(Wire.publish5(Wire.QOS1 | (retain ? Wire.RETAIN : 0), topic, packetId, Wire.props(), payload));
        byte[] p = c.readPacket(ANSWER);
        assertThat(p[0] & 0xFF).as("PUBACK for %s", topic).isEqualTo(0x40);
        assertThat(((p[2] & 0xFF) << 8) | (p[3] & 0xFF)).as("packet id").isEqualTo(packetId);
        return p[1] == 2 ? 0 : p[4] & 0xFF;
    }

    /** A 5.0 QoS 2 PUBLISH; returns the PUBREC reason code (0 when the PUBREC has none). */
    static int publish5Qos2(RawClient c, String topic, int packetId, String payload) {
        c.send(Wire.publish5(Wire.QOS2, topic, packetId, Wire.props(), payload));
        byte[] p = c.readPacket(ANSWER);
        assertThat(p[0] & 0xFF).as("PUBREC for %s", topic).isEqualTo(0x50);
        assertThat(((p[2] & 0xFF) << 8) | (p[3] & 0xFF)).as("packet id").isEqualTo(packetId);
        return p[1] == 2 ? 0 : p[4] & 0xFF;
    }

    /** PUBREL, then the PUBCOMP's reason code. */
    static int release5(RawClient c, int packetId) {
        c.send(0x62, 0x02, packetId >> 8, packetId & 0xFF);
        byte[] p = c.readPacket(ANSWER);
        assertThat(p[0] & 0xFF).as("PUBCOMP").isEqualTo(0x70);
        return p[1] == 2 ? 0 : p[4] & 0xFF;
    }

    /** A 5.0 SUBSCRIBE of one filter at QoS 1; returns the SUBACK reason code. */
    static int subscribe5(RawClient c, int packetId, String filter) {
        c.send(Wire.subscribe5(packetId, Wire.props(), filter, 1));
        byte[] p = c.readPacket(ANSWER);
        assertThat(p[0] & 0xFF).as("SUBACK for %s", filter).isEqualTo(0x90);
        int propsLength = p[4] & 0xFF; // a one-byte property length: the broker's SUBACKs carry at most a reason string
        return p[5 + propsLength] & 0xFF;
    }

    /** A 3.1.1 QoS 1 PUBLISH; returns the PUBACK, or {@code null} if the connection was closed instead. */
    static byte[] publish311(RawClient c, String topic, int packetId, String payload) {
        c.send(Wire.publish311(Wire.QOS1, topic, packetId, payload));
        return readOrClosed(c);
    }

    /** The next packet, or {@code null} when the broker closed the connection instead; fails if neither happens. */
    static byte[] readOrClosed(RawClient c) {
        byte[] p;
        try {
            p = c.readPacket(ANSWER);
        } catch (UncheckedIOException e) {
            return null; // closed by the broker
        }
        assertThat(p).as("an answer or a closed connection within %s", ANSWER).isNotNull();
        return p;
    }

    /** PINGREQ, PINGRESP: the connection is alive and answered. */
    static void ping(RawClient c) {
        c.send(0xC0, 0x00);
        c.expectPacket(0xD0, 0x00);
    }
}
