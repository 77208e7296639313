package io.starling.cluster.link;

import io.netty.buffer.ByteBuf;
import io.starling.broker.message.Message;
import io.starling.codec.Properties;
import io.starling.codec.UserProperty;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The node link's wire format. Every frame is {@code [int length][byte type][body]}, {@code length} counting the type
 * and the body. Frames:
 * <ul>
 *   <li>{@link #HELLO} (dialer): version, node name, 32-byte nonce, incarnation;</li>
 *   <li>{@link #CHALLENGE} (acceptor): node name, nonce, incarnation, the highest sequence it applied from the
 *       dialer's incarnation, and its proof (HMAC of both nonces and names under the shared secret);</li>
 *   <li>{@link #AUTH} (dialer): its proof, and the highest sequence it applied from the acceptor's incarnation;</li>
 *   <li>{@link #DATA}: a count, then that many messages, each after its sequence number (increasing);</li>
 *   <li>{@link #ACK}: the highest sequence applied (and stored) by the receiver, cumulative.</li>
 * </ul>
 * A message: two flag bytes, topic, then only the fields present (publisher, expiry left in ms, payload format,
 * content type, response topic, correlation data, user properties, shared groups), then the payload.
 */
final class Frames {

    static final byte VERSION = 1;
    static final byte HELLO = 1;
    static final byte CHALLENGE = 2;
    static final byte AUTH = 3;
    static final byte DATA = 4;
    static final byte ACK = 5;
    static final int NONCE = 32;
    static final int MAC = 32;

    private static final int QOS = 0x03;
    private static final int RETAIN = 0x04;
    private static final int EXPIRY = 0x08;
    private static final int PUBLISHER = 0x10;
    private static final int FORMAT = 0x20;
    private static final int CONTENT_TYPE = 0x40;
    private static final int RESPONSE_TOPIC = 0x80;
    private static final int CORRELATION = 0x01;
    private static final int USER_PROPERTIES = 0x02;
    private static final int GROUPS = 0x04;

    private Frames() {
    }

    /** Starts a frame: a length to be filled in by {@link #end}, and the type; returns where the frame starts. */
    static int begin(ByteBuf out, byte type) {
        int start = out.writerIndex();
        out.writeInt(0);
        out.writeByte(type);
        return start;
    }

    static void end(ByteBuf out, int start) {
        out.setInt(start, out.writerIndex() - start - 4);
    }

    /** Writes one message with the shared groups the receiver is to pick a member of ({@code null} if none). */
    static void writeMessage(ByteBuf out, Message m, List<String> groups, long nowMillis) {
        Properties p = m.properties();
        int f1 = m.qos() & QOS;
        f1 |= m.retain() ? RETAIN : 0;
        f1 |= m.expiresAtMillis() != Message.NEVER ? EXPIRY : 0;
        f1 |= m.publisherId() != null ? PUBLISHER : 0;
        f1 |= p.payloadFormatIndicator() != null ? FORMAT : 0;
        f1 |= p.contentType() != null ? CONTENT_TYPE : 0;
        f1 |= p.responseTopic() != null ? RESPONSE_TOPIC : 0;
        int f2 = p.correlationData() != null ? CORRELATION : 0;
        f2 |= !p.userProperties().isEmpty() ? USER_PROPERTIES : 0;
        f2 |= groups != null && !groups.isEmpty() ? GROUPS : 0;
        out.writeByte(f1);
        out.writeByte(f2);
        writeString(out, m.topic());
        if ((f1 & PUBLISHER) != 0) {
            writeString(out, m.publisherId());
        }
        if ((f1 & EXPIRY) != 0) {
            out.writeLong(Math.max(1, m.expiresAtMillis() - nowMillis));
        }
        if ((f1 & FORMAT) != 0) {
            out.writeByte(p.payloadFormatIndicator());
        }
        if ((f1 & CONTENT_TYPE) != 0) {
            writeString(out, p.contentType());
        }
        if ((f1 & RESPONSE_TOPIC) != 0) {
            writeString(out, p.responseTopic());
        }
        if ((f2 & CORRELATION) != 0) {
            writeBytes(out, p.correlationData());
        }
        if ((f2 & USER_PROPERTIES) != 0) {
            List<UserProperty> ups = p.userProperties();
            out.writeShort(ups.size());
            for (UserProperty u : ups) {
                writeString(out, u.name());
                writeString(out, u.value());
            }
        }
        if ((f2 & GROUPS) != 0) {
            out.writeShort(groups.size());
            for (String g : groups) {
                writeString(out, g);
            }
        }
        writeBytes(out, m.payload());
    }

    /** A message read from a frame, with the shared groups this node is to serve ({@code null} if none). */
    record Received(Message message, Set<String> groups) {
    }

    /** Reads one message; any malformed input throws (the caller closes the link). */
    static Received readMessage(ByteBuf in, long nowMillis) {
        int f1 = in.readUnsignedByte();
        int f2 = in.readUnsignedByte();
        if ((f2 & ~(CORRELATION | USER_PROPERTIES | GROUPS)) != 0 || (f1 & QOS) == 3) {
            throw new IllegalArgumentException("bad message flags");
        }
        String topic = readString(in);
        String publisher = (f1 & PUBLISHER) != 0 ? readString(in) : null;
        long expiresAt = Message.NEVER;
        Properties.Builder b = Properties.builder();
        if ((f1 & EXPIRY) != 0) {
            long left = in.readLong();
            if (left <= 0) {
                throw new IllegalArgumentException("bad expiry");
            }
            expiresAt = nowMillis + left;
            b.messageExpiryInterval((left + 999) / 1000);
        }
        if ((f1 & FORMAT) != 0) {
            b.payloadFormatIndicator((int) in.readUnsignedByte());
        }
        if ((f1 & CONTENT_TYPE) != 0) {
            b.contentType(readString(in));
        }
        if ((f1 & RESPONSE_TOPIC) != 0) {
            b.responseTopic(readString(in));
        }
        if ((f2 & CORRELATION) != 0) {
            b.correlationData(readBytes(in));
        }
        if ((f2 & USER_PROPERTIES) != 0) {
            int n = in.readUnsignedShort();
            for (int i = 0; i < n; i++) {
                b.addUserProperty(readString(in), readString(in));
            }
        }
        Set<String> groups = null;
        if ((f2 & GROUPS) != 0) {
            int n = in.readUnsignedShort();
            groups = new HashSet<>(Math.max(2, n * 2));
            for (int i = 0; i < n; i++) {
                groups.add(readString(in));
            }
        }
        byte[] payload = readBytes(in);
        Message m = new Message(topic, f1 & QOS, (f1 & RETAIN) != 0, payload, b.build(), publisher, expiresAt);
        return new Received(m, groups);
    }

    static void writeString(ByteBuf out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > 0xFFFF) {
            throw new IllegalArgumentException("string too long");
        }
        out.writeShort(b.length);
        out.writeBytes(b);
    }

    static String readString(ByteBuf in) {
        int n = in.readUnsignedShort();
        if (n > in.readableBytes()) {
            throw new IllegalArgumentException("truncated string");
        }
        String s = in.toString(in.readerIndex(), n, StandardCharsets.UTF_8);
        in.skipBytes(n);
        return s;
    }

    static void writeBytes(ByteBuf out, byte[] b) {
        out.writeInt(b.length);
        out.writeBytes(b);
    }

    static byte[] readBytes(ByteBuf in) {
        int n = in.readInt();
        if (n < 0 || n > in.readableBytes()) {
            throw new IllegalArgumentException("bad length " + n);
        }
        byte[] b = new byte[n];
        in.readBytes(b);
        return b;
    }

    /** Bytes a message takes in a frame, about: for the bounds on what waits per peer. */
    static long weight(Message m) {
        return m.payload().length + m.topic().length() + 64L;
    }

    /** A copy of a list of shared groups, or {@code null} for none. */
    static List<String> groups(List<String> g) {
        return g == null || g.isEmpty() ? null : new ArrayList<>(g);
    }
}
