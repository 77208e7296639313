package io.starling.it.spec;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Byte builders for the spec conformance tests ({@code io.starling.it.spec.v311}, {@code io.starling.it.spec.v5}).
 * Every method returns ints for {@link io.starling.testkit.RawClient#send(int...)}; each field is commented where
 * the packet is put together. The packet a test is about is usually written out byte by byte in the test itself;
 * these builders are for the set-up packets around it (CONNECT, SUBSCRIBE, PUBLISH with computed lengths).
 */
public final class Wire {

    /** CONNECT flag bits (3.1.2.3 / 3.1.2.2 in 5.0). */
    public static final int RESERVED = 0x01;
    public static final int CLEAN = 0x02;
    public static final int WILL = 0x04;
    public static final int WILL_QOS1 = 0x08;
    public static final int WILL_QOS2 = 0x10;
    public static final int WILL_RETAIN = 0x20;
    public static final int PASSWORD = 0x40;
    public static final int USER_NAME = 0x80;

    /** PUBLISH fixed-header flag bits (low nibble of the first byte). */
    public static final int DUP = 0x08;
    public static final int QOS1 = 0x02;
    public static final int QOS2 = 0x04;
    public static final int RETAIN = 0x01;

    private Wire() {
    }

    // ------------------------------------------------------------------ primitives

    /** The concatenation of the parts. */
    public static int[] cat(int[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int[] part : parts) {
            for (int b : part) {
                out.write(b);
            }
        }
        return toInts(out.toByteArray());
    }

    /** The bytes as they are (for readable scripts). */
    public static int[] b(int... bytes) {
        return bytes;
    }

    /** A two-byte integer, most significant byte first. */
    public static int[] u16(int v) {
        return new int[] {(v >> 8) & 0xFF, v & 0xFF};
    }

    /** A four-byte integer, most significant byte first. */
    public static int[] u32(long v) {
        return new int[] {(int) (v >> 24) & 0xFF, (int) (v >> 16) & 0xFF, (int) (v >> 8) & 0xFF, (int) v & 0xFF};
    }

    /** A UTF-8 Encoded String: two-byte length, then the UTF-8 bytes. */
    public static int[] str(String s) {
        return lenPrefixed(utf8(s));
    }

    /** Binary data / raw string bytes with a two-byte length prefix. */
    public static int[] lenPrefixed(int[] bytes) {
        return cat(u16(bytes.length), bytes);
    }

    /** The UTF-8 bytes of {@code s}, no length prefix. */
    public static int[] utf8(String s) {
        return toInts(s.getBytes(StandardCharsets.UTF_8));
    }

    /** A Variable Byte Integer (1.5.5 / 2.2.3). */
    public static int[] vbi(int value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int len = value;
        do {
            int digit = len % 128;
            len /= 128;
            out.write(len > 0 ? digit | 0x80 : digit);
        } while (len > 0);
        return toInts(out.toByteArray());
    }

    /** First byte, Remaining Length of the parts, then the parts. */
    public static int[] packet(int firstByte, int[]... parts) {
        int[] body = cat(parts);
        return cat(new int[] {firstByte}, vbi(body.length), body);
    }

    /** v5 properties: Property Length (Variable Byte Integer), then the properties. */
    public static int[] props(int[]... properties) {
        int[] body = cat(properties);
        return cat(vbi(body.length), body);
    }

    public static int[] toInts(byte[] bytes) {
        int[] ints = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ints[i] = bytes[i] & 0xFF;
        }
        return ints;
    }

    public static byte[] toBytes(int[] ints) {
        byte[] bytes = new byte[ints.length];
        for (int i = 0; i < ints.length; i++) {
            bytes[i] = (byte) ints[i];
        }
        return bytes;
    }

    // ------------------------------------------------------------------ MQTT 3.1.1 (protocol level 4)

    /** 3.1.1 CONNECT without will, user name or password. */
    public static int[] connect311(String clientId, int flags, int keepAlive) {
        return packet(0x10,                               // CONNECT
                str("MQTT"),                              // protocol name
                b(0x04),                                  // protocol level 4 = 3.1.1
                b(flags),                                 // connect flags
                u16(keepAlive),                           // keep alive (s)
                str(clientId));                           // payload: client identifier
    }

    /** 3.1.1 CONNECT with a will; {@code flags} must contain {@link #WILL} and the will QoS/retain bits. */
    public static int[] connect311Will(String clientId, int flags, int keepAlive, String willTopic, String willMessage) {
        return packet(0x10,                               // CONNECT
                str("MQTT"),                              // protocol name
                b(0x04),                                  // protocol level 4 = 3.1.1
                b(flags),                                 // connect flags (will flag, will QoS, will retain ...)
                u16(keepAlive),                           // keep alive (s)
                str(clientId),                            // client identifier
                str(willTopic),                           // will topic
                str(willMessage));                        // will message (two-byte length + bytes)
    }

    /** 3.1.1 PUBLISH; {@code flags} = DUP/QoS/RETAIN bits; the packet id is written only when QoS > 0. */
    public static int[] publish311(int flags, String topic, int packetId, String payload) {
        int qos = (flags >> 1) & 0x03;
        return packet(0x30 | flags,                       // PUBLISH with DUP, QoS, RETAIN
                str(topic),                               // topic name
                qos > 0 ? u16(packetId) : new int[0],     // packet identifier (QoS 1/2 only)
                utf8(payload));                           // payload: the rest of the packet
    }

    /** 3.1.1 SUBSCRIBE with one filter. */
    public static int[] subscribe311(int packetId, String filter, int qos) {
        return packet(0x82,                               // SUBSCRIBE, reserved flags 0010
                u16(packetId),                            // packet identifier
                str(filter),                              // topic filter
                b(qos));                                  // requested QoS
    }

    /** 3.1.1 UNSUBSCRIBE. */
    public static int[] unsubscribe311(int packetId, String... filters) {
        int[][] parts = new int[filters.length + 1][];
        parts[0] = u16(packetId);                         // packet identifier
        for (int i = 0; i < filters.length; i++) {
            parts[i + 1] = str(filters[i]);               // topic filter
        }
        return packet(0xA2, parts);                       // UNSUBSCRIBE, reserved flags 0010
    }

    // ------------------------------------------------------------------ MQTT 5.0 (protocol level 5)

    /** 5.0 CONNECT without will, user name or password; {@code properties} from {@link #props}. */
    public static int[] connect5(String clientId, int flags, int keepAlive, int[] properties) {
        return packet(0x10,                               // CONNECT
                str("MQTT"),                              // protocol name
                b(0x05),                                  // protocol version 5
                b(flags),                                 // connect flags
                u16(keepAlive),                           // keep alive (s)
                properties,                               // CONNECT properties
                str(clientId));                           // payload: client identifier
    }

    /** 5.0 CONNECT with a will (empty will properties unless given). */
    public static int[] connect5Will(String clientId, int flags, int keepAlive, int[] properties, int[] willProperties,
            String willTopic, String willPayload) {
        return packet(0x10,                               // CONNECT
                str("MQTT"),                              // protocol name
                b(0x05),                                  // protocol version 5
                b(flags),                                 // connect flags (will flag, will QoS, will retain ...)
                u16(keepAlive),                           // keep alive (s)
                properties,                               // CONNECT properties
                str(clientId),                            // client identifier
                willProperties,                           // will properties
                str(willTopic),                           // will topic
                str(willPayload));                        // will payload (two-byte length + bytes)
    }

    /** Session Expiry Interval property (0x11). */
    public static int[] sessionExpiry(long seconds) {
        return cat(b(0x11), u32(seconds));
    }

    /** Receive Maximum property (0x21). */
    public static int[] receiveMaximum(int value) {
        return cat(b(0x21), u16(value));
    }

    /** Subscription Identifier property (0x0B). */
    public static int[] subscriptionId(int value) {
        return cat(b(0x0B), vbi(value));
    }

    /** 5.0 PUBLISH; the packet id is written only when QoS > 0. */
    public static int[] publish5(int flags, String topic, int packetId, int[] properties, String payload) {
        int qos = (flags >> 1) & 0x03;
        return packet(0x30 | flags,                       // PUBLISH with DUP, QoS, RETAIN
                str(topic),                               // topic name
                qos > 0 ? u16(packetId) : new int[0],     // packet identifier (QoS 1/2 only)
                properties,                               // PUBLISH properties
                utf8(payload));                           // payload
    }

    /** 5.0 SUBSCRIBE with one filter; {@code options} = QoS | No Local 0x04 | RAP 0x08 | Retain Handling << 4. */
    public static int[] subscribe5(int packetId, int[] properties, String filter, int options) {
        return packet(0x82,                               // SUBSCRIBE, reserved flags 0010
                u16(packetId),                            // packet identifier
                properties,                               // SUBSCRIBE properties
                str(filter),                              // topic filter
                b(options));                              // subscription options
    }

    /** 5.0 UNSUBSCRIBE without properties. */
    public static int[] unsubscribe5(int packetId, String... filters) {
        int[][] parts = new int[filters.length + 2][];
        parts[0] = u16(packetId);                         // packet identifier
        parts[1] = b(0x00);                               // property length 0
        for (int i = 0; i < filters.length; i++) {
            parts[i + 2] = str(filters[i]);               // topic filter
        }
        return packet(0xA2, parts);                       // UNSUBSCRIBE, reserved flags 0010
    }
}
