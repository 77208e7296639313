package io.starling.it;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Builders for the byte scripts that repeat (CONNECT, SUBSCRIBE, PUBLISH with a computed Remaining Length); the
 * packets a test is about are written out byte by byte in the test itself. Every method returns ints for
 * {@link io.starling.testkit.RawClient#send(int...)}.
 */
public final class Packets {

    /** CONNECT flags. */
    public static final int CLEAN = 0x02;
    public static final int WILL = 0x04;
    public static final int WILL_QOS1 = 0x08;
    public static final int WILL_RETAIN = 0x20;

    private Packets() {
    }

    /** CONNECT (level 4 = 3.1.1, 5 = MQTT 5 with no properties) without will. */
    public static int[] connect(int level, String clientId, int flags, int keepAlive) {
        return packet(0x10,
                str("MQTT"),                              // protocol name
                new int[] {level},                        // protocol level
                new int[] {flags},                        // connect flags
                new int[] {keepAlive >> 8, keepAlive & 0xFF}, // keep alive
                level == 5 ? new int[] {0x00} : new int[0], // v5: property length 0
                str(clientId));                           // payload: client id
    }

    /** CONNECT with a will (the {@link #WILL} flag is added to {@code flags}); v5 with empty will properties. */
    public static int[] connectWithWill(int level, String clientId, int flags, int keepAlive, String willTopic,
            String willPayload) {
        return packet(0x10,
                str("MQTT"),
                new int[] {level},
                new int[] {flags | WILL},
                new int[] {keepAlive >> 8, keepAlive & 0xFF},
                level == 5 ? new int[] {0x00} : new int[0], // v5: CONNECT property length 0
                str(clientId),
                level == 5 ? new int[] {0x00} : new int[0], // v5: will property length 0
                str(willTopic),                           // will topic
                str(willPayload));                        // will payload (2-byte length + bytes)
    }

    /** SUBSCRIBE with one filter; {@code options} = requested QoS (plus v5 option bits). */
    public static int[] subscribe(int level, int packetId, String filter, int options) {
        return packet(0x82,                               // SUBSCRIBE, reserved flags 0010
                new int[] {packetId >> 8, packetId & 0xFF}, // packet id
                level == 5 ? new int[] {0x00} : new int[0], // v5: property length 0
                str(filter),                              // topic filter
                new int[] {options});                     // subscription options
    }

    /** 3.1.1 PUBLISH; {@code firstByte} carries type, DUP, QoS and RETAIN; packet id written when QoS > 0. */
    public static int[] publish(int firstByte, String topic, int packetId, String payload) {
        int qos = (firstByte >> 1) & 0x03;
        return packet(firstByte,
                str(topic),
                qos > 0 ? new int[] {packetId >> 8, packetId & 0xFF} : new int[0],
                bytes(payload));
    }

    /** A UTF-8 string with its 2-byte length prefix. */
    public static int[] str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int[] out = new int[b.length + 2];
        out[0] = b.length >> 8;
        out[1] = b.length & 0xFF;
        for (int i = 0; i < b.length; i++) {
            out[i + 2] = b[i] & 0xFF;
        }
        return out;
    }

    /** The UTF-8 bytes of {@code s}, no length prefix. */
    public static int[] bytes(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int[] out = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = b[i] & 0xFF;
        }
        return out;
    }

    /** First byte, Remaining Length (variable byte integer) of the parts, then the parts. */
    public static int[] packet(int firstByte, int[]... parts) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (int[] part : parts) {
            for (int b : part) {
                body.write(b);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(firstByte);
        int len = body.size();
        do {
            int digit = len % 128;
            len /= 128;
            out.write(len > 0 ? digit | 0x80 : digit);
        } while (len > 0);
        out.writeBytes(body.toByteArray());
        byte[] all = out.toByteArray();
        int[] ints = new int[all.length];
        for (int i = 0; i < all.length; i++) {
            ints[i] = all[i] & 0xFF;
        }
        return ints;
    }

    /** Unsigned byte {@code i} of a packet. */
    public static int u8(byte[] packet, int i) {
        return packet[i] & 0xFF;
    }

    /** Offset of the variable header: 1 + the size of the Remaining Length field. */
    public static int bodyOffset(byte[] packet) {
        int i = 1;
        while ((packet[i] & 0x80) != 0) {
            i++;
        }
        return i + 1;
    }
}
