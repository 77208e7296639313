package io.starling.cluster.session;

import io.starling.broker.message.Message;
import io.starling.codec.Properties;
import io.starling.codec.UserProperty;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.List;

/**
 * A {@link Message} in bytes, for what the cluster keeps in Hazelcast (Wills, retained messages) and what moves with a
 * session: topic, QoS, RETAIN, expiry (absolute), publisher, the PUBLISH properties a subscriber sees, payload.
 */
public final class MessageBytes {

    private MessageBytes() {
    }

    /** Writes {@code m}. */
    public static void write(DataOutputStream out, Message m) throws IOException {
        out.writeUTF(m.topic());
        out.writeByte(m.qos());
        out.writeBoolean(m.retain());
        out.writeLong(m.expiresAtMillis());
        writeNullable(out, m.publisherId());
        writeProperties(out, m.properties());
        writeBytes(out, m.payload());
    }

    /** Reads what {@link #write} wrote. */
    public static Message read(DataInputStream in) throws IOException {
        String topic = in.readUTF();
        int qos = in.readUnsignedByte();
        boolean retain = in.readBoolean();
        long expiresAt = in.readLong();
        String publisher = readNullable(in);
        Properties props = readProperties(in);
        byte[] payload = readBytes(in);
        return new Message(topic, qos, retain, payload, props, publisher, expiresAt);
    }

    /** Writes the PUBLISH properties a subscriber sees (also those of a Will in an ownership record). */
    static void writeProperties(DataOutputStream out, Properties p) throws IOException {
        writeNullable(out, p.payloadFormatIndicator() == null ? null : String.valueOf(p.payloadFormatIndicator()));
        writeNullable(out, p.messageExpiryInterval() == null ? null : String.valueOf(p.messageExpiryInterval()));
        writeNullable(out, p.contentType());
        writeNullable(out, p.responseTopic());
        out.writeBoolean(p.correlationData() != null);
        if (p.correlationData() != null) {
            writeBytes(out, p.correlationData());
        }
        List<UserProperty> users = p.userProperties();
        out.writeInt(users.size());
        for (UserProperty u : users) {
            out.writeUTF(u.name());
            out.writeUTF(u.value());
        }
    }

    /** Reads what {@link #writeProperties} wrote. */
    static Properties readProperties(DataInputStream in) throws IOException {
        Properties.Builder pb = Properties.builder();
        String pfi = readNullable(in);
        if (pfi != null) {
            pb.payloadFormatIndicator(Integer.parseInt(pfi));
        }
        String mei = readNullable(in);
        if (mei != null) {
            pb.messageExpiryInterval(Long.parseLong(mei));
        }
        String ct = readNullable(in);
        if (ct != null) {
            pb.contentType(ct);
        }
        String rt = readNullable(in);
        if (rt != null) {
            pb.responseTopic(rt);
        }
        if (in.readBoolean()) {
            pb.correlationData(readBytes(in));
        }
        int n = in.readInt();
        if (n < 0 || n > 65_535) {
            throw new IOException("bad user property count " + n);
        }
        for (int i = 0; i < n; i++) {
            pb.addUserProperty(in.readUTF(), in.readUTF());
        }
        return pb.build();
    }

    static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    static byte[] readBytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > 268_435_455) {
            throw new IOException("bad length " + n);
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    static void writeNullable(DataOutputStream out, String s) throws IOException {
        out.writeBoolean(s != null);
        if (s != null) {
            out.writeUTF(s);
        }
    }

    static String readNullable(DataInputStream in) throws IOException {
        return in.readBoolean() ? in.readUTF() : null;
    }
}
