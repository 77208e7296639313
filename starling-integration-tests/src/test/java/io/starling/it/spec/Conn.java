package io.starling.it.spec;

import io.starling.testkit.RawClient;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Arrays;

/**
 * A raw connection for the spec tests: {@link RawClient} plus the assertions the tests repeat (exact packets,
 * silence for a short bounded period, closed by the server, PUBLISH parsing when the server chose the packet id).
 * Create through {@link Conns}, which closes every connection after each test.
 */
public final class Conn implements AutoCloseable {

    /** How long a negative check waits for a packet that must not come. */
    public static final Duration QUIET = Duration.ofMillis(400);
    /** How long the server has to close a connection it must close. */
    public static final Duration CLOSE = Duration.ofSeconds(5);

    private final RawClient raw;

    Conn(RawClient raw) {
        this.raw = raw;
    }

    public RawClient raw() {
        return raw;
    }

    /**
     * Sends whole packets. The byte script is checked first: it must be a sequence of complete packets whose
     * Remaining Length matches the bytes that follow (a guard against miscounted scripts). Use
     * {@link #sendUnchecked} for scripts that break the framing on purpose.
     */
    public Conn send(int... bytes) {
        checkFraming(bytes);
        raw.send(bytes);
        return this;
    }

    /** Sends the bytes as they are, without the framing check. */
    public Conn sendUnchecked(int... bytes) {
        raw.send(bytes);
        return this;
    }

    private static void checkFraming(int[] bytes) {
        int i = 0;
        while (i < bytes.length) {
            int start = i;
            i++;
            int len = 0;
            int mul = 1;
            int b;
            int n = 0;
            do {
                if (i >= bytes.length || n == 4) {
                    throw new IllegalArgumentException("byte script: bad Remaining Length in packet at " + start);
                }
                b = bytes[i++];
                len += (b & 0x7F) * mul;
                mul *= 128;
                n++;
            } while ((b & 0x80) != 0);
            i += len;
            if (i > bytes.length) {
                throw new IllegalArgumentException("byte script: Remaining Length " + len + " of the packet at " + start
                        + " runs " + (i - bytes.length) + " bytes past the script");
            }
        }
    }

    /** Reads the next packet, failing if none arrives within {@link RawClient#DEFAULT_TIMEOUT}. */
    public byte[] read() {
        byte[] p = raw.readPacket(RawClient.DEFAULT_TIMEOUT);
        if (p == null) {
            throw new AssertionError("no packet arrived within " + RawClient.DEFAULT_TIMEOUT);
        }
        return p;
    }

    /** The next packet must be exactly these bytes. */
    public Conn expect(int... bytes) {
        raw.expectPacket(bytes);
        return this;
    }

    /** No packet within {@link #QUIET} (and the connection is still open). */
    public Conn expectNothing() {
        byte[] p;
        try {
            p = raw.readPacket(QUIET);
        } catch (UncheckedIOException e) {
            throw new AssertionError("expected silence, but the connection failed: " + e.getMessage(), e);
        }
        if (p != null) {
            throw new AssertionError("expected no packet, got " + RawClient.hex(p));
        }
        return this;
    }

    /** Reads and discards packets until none arrives for {@link #QUIET} (e.g. retained messages after '#'). */
    public Conn drain() {
        while (raw.readPacket(QUIET) != null) {
            // discard
        }
        return this;
    }

    /** The server closes the connection within {@link #CLOSE}; whatever it sends first is ignored. */
    public void expectClosed() {
        if (!raw.awaitClosed(CLOSE)) {
            throw new AssertionError("the server did not close the connection within " + CLOSE);
        }
    }

    /** The server closes the connection within {@link #CLOSE} without sending any packet first. */
    public void expectClosedWithoutPacket() {
        byte[] p;
        try {
            p = raw.readPacket(CLOSE);
        } catch (UncheckedIOException e) {
            return; // closed (or reset) before any packet started
        }
        if (p == null) {
            throw new AssertionError("the server did not close the connection within " + CLOSE);
        }
        throw new AssertionError("expected the connection to close without a packet, got " + RawClient.hex(p));
    }

    /** The connection is still open: a PINGREQ gets its PINGRESP. */
    public Conn expectAlive() {
        send(0xC0, 0x00);                                  // PINGREQ
        expect(0xD0, 0x00);                                // PINGRESP
        return this;
    }

    /**
     * 5.0: the next packet is a DISCONNECT with {@code reasonCode} and without a Session Expiry Interval
     * [MQTT-3.14.2-2], and then the server closes the connection. Returns the DISCONNECT.
     */
    public byte[] expectDisconnect(int reasonCode) {
        byte[] p = read();
        if ((p[0] & 0xFF) != 0xE0 || p.length < 3 || (p[2] & 0xFF) != reasonCode) {
            throw new AssertionError("expected DISCONNECT with reason 0x" + Integer.toHexString(reasonCode) + ", got "
                    + RawClient.hex(p));
        }
        if (p.length > 4 && (p[4] & 0xFF) == 0x11) {          // first property: Session Expiry Interval
            throw new AssertionError("server DISCONNECT with a Session Expiry Interval: " + RawClient.hex(p));
        }
        expectClosed();
        return p;
    }

    /**
     * 5.0: the next packet is a PUBACK ({@code type} 0x40) or PUBREC (0x50) for {@code packetId} with reason code
     * 0x00 (Success) or 0x10 (No matching subscribers): short form, or with a reason code and optional properties.
     */
    public Conn expectAck5(int type, int packetId) {
        byte[] p = read();
        boolean ok = (p[0] & 0xFF) == type && p.length >= 4 && ((p[2] & 0xFF) << 8 | (p[3] & 0xFF)) == packetId
                && (p.length == 4 || (p[4] & 0xFF) == 0x00 || (p[4] & 0xFF) == 0x10);
        if (!ok) {
            throw new AssertionError("expected ack 0x" + Integer.toHexString(type) + " for packet id " + packetId
                    + " with reason 0x00/0x10, got " + RawClient.hex(p));
        }
        return this;
    }

    /**
     * 5.0: the next packet is a well-formed CONNACK (acknowledge flag bits 7-1 zero, Property Length matching the
     * rest) with {@code sessionPresent} and reason code 0x00. Returns it.
     */
    public byte[] expectConnack5(int sessionPresent) {
        byte[] p = read();
        int propertyLength = 0;
        int mul = 1;
        int i = 4;
        int b;
        do {
            b = p[i++] & 0xFF;
            propertyLength += (b & 0x7F) * mul;
            mul *= 128;
        } while ((b & 0x80) != 0);
        if ((p[0] & 0xFF) != 0x20 || (p[2] & 0xFF) != sessionPresent || (p[3] & 0xFF) != 0x00
                || i + propertyLength != p.length) {
            throw new AssertionError("expected CONNACK, session present " + sessionPresent + ", reason 0x00, got "
                    + RawClient.hex(p));
        }
        return p;
    }

    /** 5.0: the next packet is a CONNACK with {@code reasonCode} (Session Present 0), then the connection closes. */
    public byte[] expectConnackRefusal(int reasonCode) {
        byte[] p = read();
        if ((p[0] & 0xFF) != 0x20 || (p[2] & 0xFF) != 0x00 || (p[3] & 0xFF) != reasonCode) {
            throw new AssertionError("expected CONNACK 00 " + Integer.toHexString(reasonCode) + ", got " + RawClient.hex(p));
        }
        expectClosed();
        return p;
    }

    /** Reads the next packet and parses it as a PUBLISH ({@code v5}: with properties). */
    public Pub readPublish(boolean v5) {
        return Pub.parse(read(), v5);
    }

    /**
     * Reads a 3.1.1 PUBLISH and checks it byte for byte against {@code flags}, topic and payload, taking only the
     * packet identifier (chosen by the server) from the packet. Returns the packet identifier (0 for QoS 0).
     */
    public int expectPublish311(int flags, String topic, String payload) {
        byte[] actual = read();
        Pub p = Pub.parse(actual, false);
        int[] expected = Wire.publish311(flags, topic, p.packetId(), payload);
        if (!Arrays.equals(Wire.toBytes(expected), actual)) {
            throw new AssertionError("expected PUBLISH " + RawClient.hex(Wire.toBytes(expected)) + " but got "
                    + RawClient.hex(actual));
        }
        return p.packetId();
    }

    /** As {@link #expectPublish311} for 5.0, with the expected properties (from {@link Wire#props}). */
    public int expectPublish5(int flags, String topic, int[] properties, String payload) {
        byte[] actual = read();
        Pub p = Pub.parse(actual, true);
        int[] expected = Wire.publish5(flags, topic, p.packetId(), properties, payload);
        if (!Arrays.equals(Wire.toBytes(expected), actual)) {
            throw new AssertionError("expected PUBLISH " + RawClient.hex(Wire.toBytes(expected)) + " but got "
                    + RawClient.hex(actual));
        }
        return p.packetId();
    }

    @Override
    public void close() {
        raw.close();
    }

    /** A parsed PUBLISH. {@code properties} is the raw property block without its length (empty on 3.1.1). */
    public record Pub(int firstByte, String topic, int packetId, byte[] properties, byte[] payload) {

        public int qos() {
            return (firstByte >> 1) & 0x03;
        }

        public boolean dup() {
            return (firstByte & 0x08) != 0;
        }

        public boolean retain() {
            return (firstByte & 0x01) != 0;
        }

        public String text() {
            return new String(payload, java.nio.charset.StandardCharsets.UTF_8);
        }

        public static Pub parse(byte[] p, boolean v5) {
            int first = p[0] & 0xFF;
            if ((first & 0xF0) != 0x30) {
                throw new AssertionError("expected a PUBLISH, got " + RawClient.hex(p));
            }
            int i = 1;
            while ((p[i] & 0x80) != 0) {
                i++;
            }
            i++;
            int topicLen = (p[i] & 0xFF) << 8 | (p[i + 1] & 0xFF);
            i += 2;
            String topic = new String(p, i, topicLen, java.nio.charset.StandardCharsets.UTF_8);
            i += topicLen;
            int packetId = 0;
            if (((first >> 1) & 0x03) > 0) {
                packetId = (p[i] & 0xFF) << 8 | (p[i + 1] & 0xFF);
                i += 2;
            }
            byte[] props = new byte[0];
            if (v5) {
                int len = 0;
                int mul = 1;
                int b;
                do {
                    b = p[i++] & 0xFF;
                    len += (b & 0x7F) * mul;
                    mul *= 128;
                } while ((b & 0x80) != 0);
                props = Arrays.copyOfRange(p, i, i + len);
                i += len;
            }
            return new Pub(first, topic, packetId, props, Arrays.copyOfRange(p, i, p.length));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Pub other && firstByte == other.firstByte && topic.equals(other.topic)
                    && packetId == other.packetId && Arrays.equals(properties, other.properties)
                    && Arrays.equals(payload, other.payload);
        }

        @Override
        public int hashCode() {
            return 31 * topic.hashCode() + Arrays.hashCode(payload);
        }

        @Override
        public String toString() {
            return "PUBLISH(flags=" + Integer.toHexString(firstByte & 0x0F) + ", topic=" + topic + ", id=" + packetId
                    + ", props=" + RawClient.hex(properties) + ", payload=" + text() + ")";
        }
    }
}
