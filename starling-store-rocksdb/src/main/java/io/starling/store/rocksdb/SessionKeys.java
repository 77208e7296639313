package io.starling.store.rocksdb;

import io.starling.broker.message.Delivery;
import io.starling.broker.topic.Subscription;
import io.starling.broker.topic.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * The keys and small values of the session key spaces (see {@link SessionStorage} for the layout): one client's keys
 * share a prefix (u16 length ∥ client id ∥ i64 generation), so that they are contiguous; integers are big-endian, so
 * that keys sort numerically.
 */
final class SessionKeys {

    private SessionKeys() {
    }

    static byte[] prefix(String clientId, long generation) {
        byte[] id = clientId.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + id.length + 8).putShort((short) id.length).put(id).putLong(generation).array();
    }

    /** The smallest key greater than every key starting with {@code prefix}. */
    static byte[] successor(byte[] prefix) {
        byte[] s = prefix.clone();
        for (int i = s.length - 1; i >= 0; i--) {
            if (s[i] != (byte) 0xFF) {
                s[i]++;
                return Arrays.copyOf(s, i + 1);
            }
        }
        throw new IllegalArgumentException("no successor of an all-0xFF prefix");
    }

    /** Length of a key's prefix: client id and generation. */
    static int prefixLength(byte[] key) {
        return 2 + (((key[0] & 0xFF) << 8) | (key[1] & 0xFF)) + 8;
    }

    /** Whether {@code key} is long enough to hold the prefix it announces (not a key of an older schema). */
    static boolean hasPrefix(byte[] key) {
        return key.length >= 2 && key.length >= prefixLength(key);
    }

    static String clientIdOf(byte[] key) {
        return new String(key, 2, prefixLength(key) - 10, StandardCharsets.UTF_8);
    }

    static long generationOf(byte[] key) {
        return ByteBuffer.wrap(key, prefixLength(key) - 8, 8).getLong();
    }

    static int pidOf(byte[] key) {
        return ((key[key.length - 2] & 0xFF) << 8) | (key[key.length - 1] & 0xFF);
    }

    /** The queue position at the end of a queue key. */
    static long seqOf(byte[] queueKey) {
        return ByteBuffer.wrap(queueKey, queueKey.length - 8, 8).getLong();
    }

    static byte[] queueKey(byte[] prefix, long seq) {
        return ByteBuffer.allocate(prefix.length + 8).put(prefix).putLong(seq).array();
    }

    static byte[] pidKey(byte[] prefix, int packetId) {
        return ByteBuffer.allocate(prefix.length + 2).put(prefix).putShort((short) packetId).array();
    }

    static byte[] subscriptionKey(byte[] prefix, String filter) {
        return concat(prefix, filter.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] longKey(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /** u8 1, u8 qos, u8 flags (1 no local, 2 retain as published), u8 retain handling, i32 subscription id. */
    static byte[] subscriptionValue(Subscription sub) {
        ByteBuffer v = ByteBuffer.allocate(8);
        v.put((byte) 1).put((byte) sub.qos())
                .put((byte) ((sub.noLocal() ? 1 : 0) | (sub.retainAsPublished() ? 2 : 0)))
                .put((byte) sub.retainHandling()).putInt(sub.subscriptionId());
        return v.array();
    }

    /** The subscription of {@code clientId} stored under {@code key} (whose prefix has been checked). */
    static Subscription subscriptionOf(String clientId, byte[] key, byte[] value) {
        int plen = prefixLength(key);
        String filter = new String(key, plen, key.length - plen, StandardCharsets.UTF_8);
        ByteBuffer v = ByteBuffer.wrap(value);
        v.get();
        int qos = v.get();
        int flags = v.get();
        int rh = v.get();
        int subId = v.getInt();
        String group = Topics.isShared(filter) ? Topics.shareName(filter) : null;
        return new Subscription(clientId, filter, qos, (flags & 1) != 0, (flags & 2) != 0, rh, subId, group);
    }

    /** i64 message id, u8 qos, u8 retain, i32 weight, u8 n, n × i32 subscription id. */
    static byte[] queueEntry(long msgId, Delivery d, long weight) {
        List<Integer> ids = d.subscriptionIds();
        int n = Math.min(ids.size(), 255);
        ByteBuffer b = ByteBuffer.allocate(8 + 1 + 1 + 4 + 1 + 4 * n);
        b.putLong(msgId).put((byte) d.qos()).put((byte) (d.retain() ? 1 : 0))
                .putInt((int) Math.min(weight, Integer.MAX_VALUE)).put((byte) n);
        for (int i = 0; i < n; i++) {
            b.putInt(ids.get(i));
        }
        return b.array();
    }

    /** The message id a queue entry refers to. */
    static long msgIdOf(byte[] entry) {
        return entry.length >= 8 ? ByteBuffer.wrap(entry).getLong() : 0;
    }

    /** The weight a queue entry was counted with. */
    static int weightOf(byte[] entry) {
        return ByteBuffer.wrap(entry, 10, 4).getInt();
    }
}
