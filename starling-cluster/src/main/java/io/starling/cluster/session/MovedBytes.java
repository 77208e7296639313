package io.starling.cluster.session;

import io.starling.broker.message.Delivery;
import io.starling.broker.session.MovedSession;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** A {@link MovedSession} in bytes: the answer of the old owner to a {@link Handover}. */
final class MovedBytes {

    private MovedBytes() {
    }

    static byte[] encode(String node, MovedSession moved) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            byte[] record = new OwnerRecord(node, 0, false, null, moved.expirySeconds(), moved.subscriptions()).encode();
            out.writeInt(record.length);
            out.write(record);
            out.writeInt(moved.queued().size());
            for (Delivery d : moved.queued()) {
                out.writeByte(d.qos());
                out.writeBoolean(d.retain());
                out.writeInt(d.subscriptionIds().size());
                for (int id : d.subscriptionIds()) {
                    out.writeInt(id);
                }
                MessageBytes.write(out, d.message());
            }
            out.writeInt(moved.inboundQos2().size());
            for (int id : moved.inboundQos2()) {
                out.writeShort(id);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static MovedSession decode(byte[] b) {
        if (b == null) {
            return null;
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(b))) {
            int len = in.readInt();
            if (len < 0 || len > b.length) {
                throw new IOException("bad record length " + len);
            }
            byte[] record = new byte[len];
            in.readFully(record);
            OwnerRecord r = OwnerRecord.decode(record);
            int n = in.readInt();
            if (n < 0) {
                throw new IOException("bad message count " + n);
            }
            List<Delivery> queued = new ArrayList<>(Math.min(n, 1024));
            for (int i = 0; i < n; i++) {
                int qos = in.readUnsignedByte();
                boolean retain = in.readBoolean();
                int ids = in.readInt();
                if (ids < 0 || ids > 65_535) {
                    throw new IOException("bad subscription id count " + ids);
                }
                List<Integer> subscriptionIds = new ArrayList<>(ids);
                for (int k = 0; k < ids; k++) {
                    subscriptionIds.add(in.readInt());
                }
                queued.add(new Delivery(MessageBytes.read(in), qos, retain, List.copyOf(subscriptionIds)));
            }
            int ids = in.readInt();
            if (ids < 0 || ids > 65_535) {
                throw new IOException("bad packet id count " + ids);
            }
            List<Integer> inbound = new ArrayList<>(ids);
            for (int i = 0; i < ids; i++) {
                inbound.add(in.readUnsignedShort());
            }
            return new MovedSession(r.subscriptions(), r.expirySeconds(), queued, inbound);
        } catch (IOException e) {
            throw new IllegalArgumentException("moved session cannot be read", e);
        }
    }
}
