package io.starling.store.rocksdb;

import io.starling.broker.routing.Message;
import io.starling.broker.session.Delivery;
import io.starling.broker.session.PendingWill;
import io.starling.broker.session.Session;
import io.starling.broker.store.StoredInflight;
import io.starling.broker.store.StoredSession;
import io.starling.broker.topic.Subscription;
import io.starling.broker.topic.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sessions in the store: records, subscriptions, queues of message references, in-flight and inbound QoS 2 state.
 *
 * <h2>Keys and records</h2>
 *
 * <pre>
 * sessions       cid                      → u8 1, i64 expiry s, i64 disconnectedAt ms (0: connected),
 *                                           u8 will?, [i64 will delay s, message record]
 * subscriptions  prefix ∥ filter          → u8 1, u8 qos, u8 flags (1 no local, 2 retain as published),
 *                                           u8 retain handling, i32 subscription id
 * messages       i64 message id           → message record ({@link MessageCodec})
 * queues         prefix ∥ i64 seq         → i64 message id, u8 qos, u8 retain, i32 weight, u8 n, n × i32 sub. id
 * inflight       prefix ∥ u16 packet id   → u8 0, i64 seq, i64 message id (PUBLISH sent) | u8 1 (PUBREL sent)
 * inbound-qos2   prefix ∥ u16 packet id   → empty
 * default        "next-seq"               → i64: queue positions and message ids are allocated below it
 * prefix = u16 length ∥ client id (UTF-8)
 * </pre>
 *
 * <h2>Threads</h2>
 *
 * Everything that needs more than a put or delete runs as a {@link Committer.Task} on the committer thread, which
 * alone owns the allocation of positions and message ids, the message reference counts and each session's
 * counters ({@link Keys}). Positions are allocated in committer order, and a session is handed its stored
 * deliveries after they are committed and in that order, so its in-memory cursor can page the rest from disk.
 */
final class SessionStorage {

    private static final Logger LOG = LoggerFactory.getLogger(SessionStorage.class);
    private static final byte[] NEXT_SEQ_KEY = "next-seq".getBytes(StandardCharsets.UTF_8);
    private static final long SEQ_BLOCK = 1L << 20;
    private static final long DROP_LOG_INTERVAL_NS = 10_000_000_000L;

    /** A session's keys and, on the committer thread, its stored-queue counters. */
    static final class Keys {
        final String clientId;
        final byte[] prefix;
        final byte[] prefixEnd;
        /** Whether its subscriptions have been written (owner loop). */
        boolean subscriptionsWritten;
        /** Queue positions below it were deleted with the session's state (committer). */
        long deletedBelow;
        /** The session ended: later writes are ignored (committer). */
        boolean ended;
        long count;
        long bytes;

        Keys(String clientId) {
            this.clientId = clientId;
            this.prefix = prefix(clientId);
            this.prefixEnd = successor(prefix);
        }
    }

    private final RocksDB db;
    private final Committer committer;
    private final ColumnFamilyHandle meta;
    private final ColumnFamilyHandle sessions;
    private final ColumnFamilyHandle subscriptions;
    private final ColumnFamilyHandle messages;
    private final ColumnFamilyHandle queues;
    private final ColumnFamilyHandle inflight;
    private final ColumnFamilyHandle inbound;
    private final long maxQueuedMessages;
    private final long maxQueuedBytes;
    private final long maxStoredBytesTotal;
    /** Bytes (message weights) in all stored queues (committer). */
    private long storedBytesTotal;
    /**
     * Message id → number of queue entries referring to it, for messages referred to by more than one (committer). A
     * message that is not in it has one reference: most messages go to one session, and then cost nothing here.
     */
    private LongIntMap refs = new LongIntMap(1024);
    /** Deliveries refused because a stored queue was full, for the log (committer). */
    private long droppedFull;
    private long nextSeq;
    private long seqLimit;
    private long lastDropLogNs;

    SessionStorage(RocksDB db, Committer committer, Map<KeySpace, ColumnFamilyHandle> handles, long maxQueuedMessages,
            long maxQueuedBytes, long maxStoredBytesTotal) throws RocksDBException {
        this.db = db;
        this.committer = committer;
        this.meta = handles.get(KeySpace.META);
        this.sessions = handles.get(KeySpace.SESSIONS);
        this.subscriptions = handles.get(KeySpace.SUBSCRIPTIONS);
        this.messages = handles.get(KeySpace.MESSAGES);
        this.queues = handles.get(KeySpace.QUEUES);
        this.inflight = handles.get(KeySpace.INFLIGHT);
        this.inbound = handles.get(KeySpace.INBOUND_QOS2);
        this.maxQueuedMessages = maxQueuedMessages;
        this.maxQueuedBytes = maxQueuedBytes;
        this.maxStoredBytesTotal = maxStoredBytesTotal <= 0 ? Long.MAX_VALUE : maxStoredBytesTotal;
        byte[] next = db.get(meta, NEXT_SEQ_KEY);
        this.nextSeq = next == null ? 1 : ByteBuffer.wrap(next).getLong();
        this.seqLimit = nextSeq;
    }

    private Keys keys(Session s) {
        Object h = s.storeHandle();
        if (h == null) {
            Keys k = new Keys(s.clientId());
            s.storeHandle(k);
            return k;
        }
        return (Keys) h;
    }

    // ---------------------------------------------------------------- writes from the event loops

    void saveSession(Session s, long disconnectedAtMillis, PendingWill will) {
        Keys k = keys(s);
        byte[] key = k.clientId.getBytes(StandardCharsets.UTF_8);
        if (s.expiryIntervalSeconds() == 0) {
            // it ends with its connection: nothing to recover after a restart
            committer.delete(sessions, key);
            return;
        }
        byte[] willRecord = will == null ? null : MessageCodec.encode(will.message());
        ByteBuffer b = ByteBuffer.allocate(1 + 8 + 8 + 1 + (willRecord == null ? 0 : 8 + willRecord.length));
        b.put((byte) 1).putLong(s.expiryIntervalSeconds()).putLong(disconnectedAtMillis);
        b.put((byte) (willRecord == null ? 0 : 1));
        if (willRecord != null) {
            b.putLong(will.delaySeconds()).put(willRecord);
        }
        committer.put(sessions, key, b.array());
        if (!k.subscriptionsWritten) {
            k.subscriptionsWritten = true;
            for (Subscription sub : s.subscriptions().values()) {
                saveSubscription(s, sub);
            }
        }
    }

    void deleteSession(Session s, boolean ended) {
        Keys k = keys(s);
        k.subscriptionsWritten = false;
        committer.task(batch -> {
            batch.commitNow(); // the scan below must see this session's entries still in the batch
            try (Slice upper = new Slice(k.prefixEnd);
                    ReadOptions ro = new ReadOptions().setIterateUpperBound(upper);
                    RocksIterator it = db.newIterator(queues, ro)) {
                for (it.seek(k.prefix); it.isValid(); it.next()) {
                    release(batch, ByteBuffer.wrap(it.value()).getLong());
                }
                it.status();
            }
            batch.deleteRange(queues, k.prefix, k.prefixEnd);
            batch.deleteRange(inflight, k.prefix, k.prefixEnd);
            batch.deleteRange(inbound, k.prefix, k.prefixEnd);
            batch.deleteRange(subscriptions, k.prefix, k.prefixEnd);
            batch.delete(sessions, k.clientId.getBytes(StandardCharsets.UTF_8));
            k.deletedBelow = nextSeq;
            storedBytesTotal -= k.bytes;
            k.count = 0;
            k.bytes = 0;
            k.ended |= ended;
        });
    }

    void saveSubscription(Session s, Subscription sub) {
        Keys k = keys(s);
        ByteBuffer v = ByteBuffer.allocate(8);
        v.put((byte) 1).put((byte) sub.qos())
                .put((byte) ((sub.noLocal() ? 1 : 0) | (sub.retainAsPublished() ? 2 : 0)))
                .put((byte) sub.retainHandling()).putInt(sub.subscriptionId());
        committer.put(subscriptions, concat(k.prefix, sub.filter().getBytes(StandardCharsets.UTF_8)), v.array());
    }

    void deleteSubscription(Session s, String filter) {
        committer.delete(subscriptions, concat(keys(s).prefix, filter.getBytes(StandardCharsets.UTF_8)));
    }

    void append(Message m, List<Session> targets, List<Delivery> deliveries) {
        committer.task(batch -> {
            long msgId = 0;
            int n = 0;
            long weight = m.weight();
            for (int i = 0; i < targets.size(); i++) {
                Session s = targets.get(i);
                Keys k = (Keys) s.storeHandle();
                if (k == null || k.ended) {
                    continue;
                }
                if (k.count >= maxQueuedMessages || k.bytes + weight > maxQueuedBytes
                        || storedBytesTotal + weight > maxStoredBytesTotal) {
                    // a stored queue never drops what it accepted: the newest message is refused
                    droppedFull++;
                    logDrop(k);
                    s.execute(s::onStoredQueueFull);
                    continue;
                }
                if (msgId == 0) {
                    msgId = allocate(batch);
                    batch.put(messages, longKey(msgId), MessageCodec.encode(m));
                }
                long seq = allocate(batch);
                Delivery d = deliveries.get(i);
                batch.put(queues, queueKey(k.prefix, seq), queueEntry(msgId, d, weight));
                k.count++;
                k.bytes += weight;
                storedBytesTotal += weight;
                n++;
                Delivery stored = d.stored(seq, msgId);
                batch.afterCommit(() -> s.execute(() -> s.deliverStored(stored)));
            }
            if (n > 1) {
                refs.add(msgId, n);
            }
        });
    }

    void ack(Session s, Delivery d) {
        Keys k = (Keys) s.storeHandle();
        if (k == null) {
            return;
        }
        committer.task(batch -> {
            if (d.seq() < k.deletedBelow) {
                return; // deleted with the session's state already
            }
            batch.singleDelete(queues, queueKey(k.prefix, d.seq()));
            k.count--;
            k.bytes -= d.message().weight();
            storedBytesTotal -= d.message().weight();
            release(batch, d.msgId());
        });
    }

    void inflightSent(Session s, int packetId, Delivery d) {
        ByteBuffer v = ByteBuffer.allocate(17).put((byte) 0).putLong(d.seq()).putLong(d.msgId());
        committer.put(inflight, pidKey(keys(s).prefix, packetId), v.array());
    }

    void inflightReleased(Session s, int packetId) {
        committer.put(inflight, pidKey(keys(s).prefix, packetId), new byte[] {1});
    }

    void inflightDone(Session s, int packetId) {
        committer.delete(inflight, pidKey(keys(s).prefix, packetId));
    }

    void inboundQos2(Session s, int packetId, boolean awaiting) {
        byte[] key = pidKey(keys(s).prefix, packetId);
        if (awaiting) {
            committer.put(inbound, key, new byte[0]);
        } else {
            committer.delete(inbound, key);
        }
    }

    void readQueue(Session s, long afterSeq, int limit, Consumer<List<Delivery>> onOwner) {
        Keys k = keys(s);
        committer.task(batch -> {
            batch.commitNow(); // every entry handed to the session before it asked is committed
            List<Delivery> page = new ArrayList<>(Math.min(limit, 64));
            try (Slice upper = new Slice(k.prefixEnd);
                    ReadOptions ro = new ReadOptions().setIterateUpperBound(upper);
                    RocksIterator it = db.newIterator(queues, ro)) {
                for (it.seek(queueKey(k.prefix, afterSeq + 1)); it.isValid() && page.size() < limit; it.next()) {
                    byte[] key = it.key();
                    long seq = ByteBuffer.wrap(key, key.length - 8, 8).getLong();
                    Delivery d = readEntry(seq, it.value());
                    if (d != null) {
                        page.add(d);
                    }
                }
                it.status();
            }
            s.execute(() -> onOwner.accept(page));
        });
    }

    // ---------------------------------------------------------------- committer thread

    private long allocate(Committer.Batch batch) throws RocksDBException {
        if (nextSeq >= seqLimit) {
            seqLimit = nextSeq + SEQ_BLOCK;
            batch.put(meta, NEXT_SEQ_KEY, longKey(seqLimit));
        }
        return nextSeq++;
    }

    private void release(Committer.Batch batch, long msgId) throws RocksDBException {
        int count = refs.get(msgId);
        if (count <= 1) {
            // the last reference (absent: the only one)
            refs.remove(msgId);
            batch.singleDelete(messages, longKey(msgId));
        } else {
            refs.add(msgId, -1);
        }
    }

    private void logDrop(Keys k) {
        long now = System.nanoTime();
        if (lastDropLogNs == 0 || now - lastDropLogNs > DROP_LOG_INTERVAL_NS) {
            lastDropLogNs = now;
            LOG.warn("Stored queue of client '{}' full ({} messages, {} bytes; {} bytes in all stored queues): refusing new"
                    + " messages ({} so far)", k.clientId, k.count, k.bytes, storedBytesTotal, droppedFull);
        }
    }

    /** A queue entry as a delivery, with its message read from the messages column family; null if it is gone. */
    private Delivery readEntry(long seq, byte[] entry) throws RocksDBException {
        ByteBuffer e = ByteBuffer.wrap(entry);
        long msgId = e.getLong();
        int qos = e.get();
        boolean retain = e.get() != 0;
        e.getInt(); // weight
        int n = e.get() & 0xFF;
        List<Integer> ids = n == 0 ? List.of() : new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ids.add(e.getInt());
        }
        byte[] record = db.get(messages, longKey(msgId));
        if (record == null) {
            LOG.warn("queue entry {} refers to message {}, which is not stored; skipped", seq, msgId);
            return null;
        }
        return new Delivery(MessageCodec.decode(record), qos, retain, n == 0 ? ids : List.copyOf(ids), null, seq,
                msgId);
    }

    // ---------------------------------------------------------------- recovery

    /**
     * Reads every stored session with its subscriptions and in-flight state, counts the queue entries and message
     * references, and deletes what belongs to no session (left by a crash between a session's end and its
     * deletion). Blocking; before any connection is accepted.
     */
    void recover(Consumer<StoredSession> sink) throws RocksDBException {
        long now = System.currentTimeMillis();
        Map<String, Rec> recs = new HashMap<>();
        try (RocksIterator it = db.newIterator(sessions)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                String cid = new String(it.key(), StandardCharsets.UTF_8);
                recs.put(cid, Rec.decode(cid, it.value(), now));
            }
            it.status();
        }
        try (WriteBatch orphans = new WriteBatch(); WriteOptions wo = new WriteOptions()) {
            try (RocksIterator it = db.newIterator(subscriptions)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    byte[] key = it.key();
                    Rec r = recs.get(clientIdOf(key));
                    if (r == null) {
                        orphans.delete(subscriptions, key);
                        continue;
                    }
                    int plen = prefixLength(key);
                    String filter = new String(key, plen, key.length - plen, StandardCharsets.UTF_8);
                    ByteBuffer v = ByteBuffer.wrap(it.value());
                    v.get();
                    int qos = v.get();
                    int flags = v.get();
                    int rh = v.get();
                    int subId = v.getInt();
                    String group = Topics.isShared(filter) ? Topics.shareName(filter) : null;
                    r.subscriptions.add(new Subscription(r.clientId, filter, qos, (flags & 1) != 0, (flags & 2) != 0,
                            rh, subId, group));
                }
                it.status();
            }
            try (RocksIterator it = db.newIterator(inbound)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    byte[] key = it.key();
                    Rec r = recs.get(clientIdOf(key));
                    if (r == null) {
                        orphans.delete(inbound, key);
                    } else {
                        r.inbound.add(pidOf(key));
                    }
                }
                it.status();
            }
            Map<String, Map<Long, Integer>> inflightSeqs = new HashMap<>();
            try (RocksIterator it = db.newIterator(inflight)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    byte[] key = it.key();
                    Rec r = recs.get(clientIdOf(key));
                    if (r == null) {
                        orphans.delete(inflight, key);
                        continue;
                    }
                    ByteBuffer v = ByteBuffer.wrap(it.value());
                    if (v.get() == 1) {
                        r.inflight.put(pidOf(key), null);
                    } else {
                        long seq = v.getLong();
                        inflightSeqs.computeIfAbsent(r.clientId, c -> new HashMap<>()).put(seq, pidOf(key));
                        r.inflight.put(pidOf(key), null);
                        r.pendingPublish.add(pidOf(key));
                    }
                }
                it.status();
            }
            long maxSeq = 0;
            try (RocksIterator it = db.newIterator(queues)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    byte[] key = it.key();
                    long seq = ByteBuffer.wrap(key, key.length - 8, 8).getLong();
                    maxSeq = Math.max(maxSeq, seq);
                    Rec r = recs.get(clientIdOf(key));
                    byte[] value = it.value();
                    if (r == null) {
                        orphans.delete(queues, key);
                        continue;
                    }
                    ByteBuffer v = ByteBuffer.wrap(value);
                    long msgId = v.getLong();
                    maxSeq = Math.max(maxSeq, msgId);
                    refs.add(msgId, 1);
                    r.count++;
                    r.bytes += ByteBuffer.wrap(value, 10, 4).getInt();
                    r.lastSeq = Math.max(r.lastSeq, seq);
                    Map<Long, Integer> pending = inflightSeqs.get(r.clientId);
                    Integer pid = pending == null ? null : pending.get(seq);
                    if (pid != null) {
                        Delivery d = readEntry(seq, value);
                        if (d != null) {
                            r.inflight.put(pid, d);
                            r.pendingPublish.remove(pid);
                        }
                    }
                }
                it.status();
            }
            for (Rec r : recs.values()) {
                for (Integer pid : r.pendingPublish) {
                    // its queue entry is gone (completed before the crash): nothing to re-send for it
                    r.inflight.remove(pid);
                    orphans.delete(inflight, pidKey(prefix(r.clientId), pid));
                }
            }
            if (orphans.count() > 0) {
                LOG.info("deleting {} stored entries that belong to no session", orphans.count());
                db.write(wo, orphans);
            }
            refs = refs.without(1); // singly referred messages need no entry
            if (maxSeq >= nextSeq) {
                nextSeq = maxSeq + 1; // never reuse a position, even if "next-seq" was not written
                seqLimit = nextSeq;
            }
        }
        for (Rec r : recs.values()) {
            Keys k = new Keys(r.clientId);
            k.subscriptionsWritten = true;
            k.count = r.count;
            k.bytes = r.bytes;
            storedBytesTotal += r.bytes;
            List<StoredInflight> inflightList = new ArrayList<>();
            r.inflight.entrySet().stream().sorted(Map.Entry.comparingByKey())
                    .forEach(e -> inflightList.add(new StoredInflight(e.getKey(), e.getValue())));
            sink.accept(new StoredSession(r.clientId, r.expiry, r.disconnectedAt, r.will, r.subscriptions,
                    inflightList, r.inbound, r.lastSeq, r.count, k));
        }
    }

    /** A session record being recovered. */
    private static final class Rec {
        final String clientId;
        long expiry;
        long disconnectedAt;
        PendingWill will;
        final List<Subscription> subscriptions = new ArrayList<>();
        final List<Integer> inbound = new ArrayList<>();
        final Map<Integer, Delivery> inflight = new HashMap<>();
        final Set<Integer> pendingPublish = new HashSet<>();
        long count;
        long bytes;
        long lastSeq;

        Rec(String clientId) {
            this.clientId = clientId;
        }

        static Rec decode(String cid, byte[] value, long now) {
            Rec r = new Rec(cid);
            ByteBuffer v = ByteBuffer.wrap(value);
            int version = v.get();
            if (version != 1) {
                throw new IllegalArgumentException("session record of '" + cid + "' has unknown version " + version);
            }
            r.expiry = v.getLong();
            long at = v.getLong();
            r.disconnectedAt = at == 0 ? now : at; // connected when the broker stopped: disconnected now
            if (v.get() == 1) {
                long delay = v.getLong();
                byte[] rec = new byte[v.remaining()];
                v.get(rec);
                r.will = new PendingWill(MessageCodec.decode(rec), delay);
            }
            return r;
        }
    }

    // ---------------------------------------------------------------- keys

    static byte[] prefix(String clientId) {
        byte[] id = clientId.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + id.length).putShort((short) id.length).put(id).array();
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

    private static int prefixLength(byte[] key) {
        return 2 + (((key[0] & 0xFF) << 8) | (key[1] & 0xFF));
    }

    private static String clientIdOf(byte[] key) {
        return new String(key, 2, prefixLength(key) - 2, StandardCharsets.UTF_8);
    }

    private static int pidOf(byte[] key) {
        return ((key[key.length - 2] & 0xFF) << 8) | (key[key.length - 1] & 0xFF);
    }

    static byte[] queueKey(byte[] prefix, long seq) {
        return ByteBuffer.allocate(prefix.length + 8).put(prefix).putLong(seq).array();
    }

    private static byte[] pidKey(byte[] prefix, int packetId) {
        return ByteBuffer.allocate(prefix.length + 2).put(prefix).putShort((short) packetId).array();
    }

    static byte[] longKey(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static byte[] queueEntry(long msgId, Delivery d, long weight) {
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
}
