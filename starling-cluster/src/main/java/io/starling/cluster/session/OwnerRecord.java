package io.starling.cluster.session;

import io.starling.broker.message.Message;
import io.starling.broker.message.PendingWill;
import io.starling.broker.topic.Subscription;
import io.starling.codec.Properties;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The cluster's entry for one client id, the value of the ownership map (stored as bytes, encoded here): which node
 * owns the session and since which claim ({@code epoch}), whether a connection is attached, the Will that survivors
 * publish if the owner dies, and the session's subscriptions and expiry, so that a client of a dead node finds them on
 * another. {@code node} is empty when no live node owns the session (its owner died).
 *
 * @param node the owning node, {@code ""} for none
 * @param epoch incremented by every claim
 * @param connected whether a connection was attached when last written
 * @param will the Will to publish if the owner dies ({@code null}: none)
 * @param expirySeconds the Session Expiry Interval
 * @param subscriptions the session's subscriptions
 * @param parked the whole session ({@link MovedBytes}: subscriptions, unacknowledged messages, inbound QoS 2 ids) as
 *     its node left it when it left the cluster gracefully, for the node its client connects to next; {@code null}
 *     if none
 */
public record OwnerRecord(String node, long epoch, boolean connected, PendingWill will, long expirySeconds,
        List<Subscription> subscriptions, byte[] parked) {

    private static final int VERSION = 2;

    public OwnerRecord {
        subscriptions = List.copyOf(subscriptions);
    }

    /** A record without a parked session. */
    public OwnerRecord(String node, long epoch, boolean connected, PendingWill will, long expirySeconds,
            List<Subscription> subscriptions) {
        this(node, epoch, connected, will, expirySeconds, subscriptions, null);
    }

    OwnerRecord withOwner(String n, long e) {
        return new OwnerRecord(n, e, true, null, expirySeconds, subscriptions);
    }

    OwnerRecord withWill(boolean isConnected, PendingWill w) {
        return new OwnerRecord(node, epoch, isConnected, w, expirySeconds, subscriptions, parked);
    }

    OwnerRecord withParked(byte[] p) {
        return new OwnerRecord(node, epoch, connected, will, expirySeconds, subscriptions, p);
    }

    OwnerRecord withSubscriptions(List<Subscription> subs, long expiry) {
        return new OwnerRecord(node, epoch, connected, will, expiry, subs);
    }

    /** The record in bytes. */
    public byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeUTF(node);
            out.writeLong(epoch);
            out.writeBoolean(connected);
            out.writeLong(expirySeconds);
            out.writeBoolean(will != null);
            if (will != null) {
                writeWill(out, will);
            }
            out.writeInt(subscriptions.size());
            for (Subscription s : subscriptions) {
                out.writeUTF(s.clientId());
                out.writeUTF(s.filter());
                out.writeByte(s.qos());
                out.writeBoolean(s.noLocal());
                out.writeBoolean(s.retainAsPublished());
                out.writeByte(s.retainHandling());
                out.writeInt(s.subscriptionId());
                out.writeBoolean(s.shareGroup() != null);
                if (s.shareGroup() != null) {
                    out.writeUTF(s.shareGroup());
                }
            }
            out.writeBoolean(parked != null);
            if (parked != null) {
                MessageBytes.writeBytes(out, parked);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** The record of {@link #encode()}; {@code null} for {@code null}. */
    public static OwnerRecord decode(byte[] b) {
        if (b == null) {
            return null;
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(b))) {
            int version = in.readUnsignedByte();
            if (version != VERSION && version != 1) {
                throw new IllegalArgumentException("ownership record of unknown version " + version);
            }
            String node = in.readUTF();
            long epoch = in.readLong();
            boolean connected = in.readBoolean();
            long expiry = in.readLong();
            PendingWill will = in.readBoolean() ? readWill(in) : null;
            int n = in.readInt();
            List<Subscription> subs = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                String clientId = in.readUTF();
                String filter = in.readUTF();
                int qos = in.readUnsignedByte();
                boolean noLocal = in.readBoolean();
                boolean rap = in.readBoolean();
                int rh = in.readUnsignedByte();
                int id = in.readInt();
                String group = in.readBoolean() ? in.readUTF() : null;
                subs.add(new Subscription(clientId, filter, qos, noLocal, rap, rh, id, group));
            }
            byte[] parked = version >= 2 && in.readBoolean() ? MessageBytes.readBytes(in) : null;
            return new OwnerRecord(node, epoch, connected, will, expiry, subs, parked);
        } catch (IOException e) {
            throw new IllegalArgumentException("ownership record cannot be read", e);
        }
    }

    private static void writeWill(DataOutputStream out, PendingWill w) throws IOException {
        Message m = w.message();
        out.writeLong(w.delaySeconds());
        out.writeUTF(m.topic());
        out.writeByte(m.qos());
        out.writeBoolean(m.retain());
        MessageBytes.writeBytes(out, m.payload());
        out.writeBoolean(m.publisherId() != null);
        if (m.publisherId() != null) {
            out.writeUTF(m.publisherId());
        }
        MessageBytes.writeProperties(out, m.properties());
    }

    private static PendingWill readWill(DataInputStream in) throws IOException {
        long delay = in.readLong();
        String topic = in.readUTF();
        int qos = in.readUnsignedByte();
        boolean retain = in.readBoolean();
        byte[] payload = MessageBytes.readBytes(in);
        String publisher = in.readBoolean() ? in.readUTF() : null;
        Properties props = MessageBytes.readProperties(in);
        Message m = Message.published(topic, qos, retain, payload, props, publisher, System.currentTimeMillis());
        return new PendingWill(m, delay);
    }
}
