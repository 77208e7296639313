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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
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
 * sessions       cid                      → u8 2, i64 expiry s, i64 disconnectedAt ms (0: connected),
 *                                           i64 generation, u8 will?, [i64 will delay s, message record]
 * subscriptions  prefix ∥ filter          → u8 1, u8 qos, u8 flags (1 no local, 2 retain as published),
 *                                           u8 retain handling, i32 subscription id
 * messages       i64 message id           → message record ({@link MessageCodec})
 * queues         prefix ∥ i64 seq         → i64 message id, u8 qos, u8 retain, i32 weight, u8 n, n × i32 sub. id
 * inflight       prefix ∥ u16 packet id   → u8 0, i64 seq, i64 message id (PUBLISH sent) | u8 1 (PUBREL sent)
 * inbound-qos2   prefix ∥ u16 packet id   → empty
 * default        "next-seq"               → i64: queue positions and message ids are allocated below it
 * prefix = u16 length ∥ client id (UTF-8) ∥ i64 generation
 * </pre>
 *
 * <h2>Generations</h2>
 *
 * Every incarnation of a session (a new session, or a Clean Start on an existing one) has a generation of its own,
 * written in its record and in the prefix of every key it owns. Only the keys of the generation that a session
 * record names belong to a session; everything else is left over from an ended generation. Ending a generation is
 * therefore one small write, whatever the session held: its record goes (or is replaced), and the old keys are
 * deleted afterwards in the background, a bounded step per batch ({@link #deletions}), each key once, never with a
 * range deletion (whose tombstones pile up in the memtable under take-over churn and make every later write and
 * scan slower). A crash at any point leaves nothing that could be taken for live state: recovery deletes the keys of
 * generations that no record names.
 *
 * <h2>Threads</h2>
 *
 * Everything that needs more than a put or delete runs as a {@link Committer.Task} on the committer thread, which
 * alone owns the allocation of positions and message ids, the message reference counts and each session's
 * counters ({@link Keys}). Positions are allocated in committer order, and a session is handed its stored
 * deliveries after they are committed and in that order, so its in-memory cursor can page the rest from disk.
 * Writes whose loss in a failed commit would not dishonour an acknowledgement (acknowledged queue entries, ended
 * generations, the record written when a connection ends) go as housekeeping ({@link Committer#housekeeping}).
 */
final class SessionStorage implements Committer.Background {

    private static final Logger LOG = LoggerFactory.getLogger(SessionStorage.class);
    private static final byte[] NEXT_SEQ_KEY = "next-seq".getBytes(StandardCharsets.UTF_8);
    private static final long SEQ_BLOCK = 1L << 20;
    private static final long DROP_LOG_INTERVAL_NS = 10_000_000_000L;
    /** Keys deleted per background step of an ended generation. */
    static final int DELETE_STEP = 1024;
    static final int RECORD_VERSION = 2;

    /** A session generation's keys and, on the committer thread, its stored-queue counters. */
    static final class Keys {
        final String clientId;
        final long generation;
        final byte[] prefix;
        final byte[] prefixEnd;
        /** Whether its subscriptions have been written (owner loop). */
        boolean subscriptionsWritten;
        /** Queue positions below it belong to an earlier generation (committer). */
        long floor;
        /** The generation ended: later writes are ignored (committer). */
        boolean ended;
        long count;
        long bytes;

        Keys(String clientId, long generation) {
            this.clientId = clientId;
            this.generation = generation;
            this.prefix = prefix(clientId, generation);
            this.prefixEnd = successor(prefix);
        }
    }

    /** An ended generation whose keys are being deleted (committer). */
    private static final class Deletion {
        final Keys keys;
        /** Index into {@link #spaces} of the key space being deleted. */
        int space;
        /** Where the next step seeks in that space; {@code null} = from the generation's prefix. */
        byte[] cursor;

        Deletion(Keys keys) {
            this.keys = keys;
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
    /** The spaces an ended generation is deleted from, the queue (which releases message references) last. */
    private final ColumnFamilyHandle[] spaces;
    private final long maxQueuedMessages;
    private final long maxQueuedBytes;
    private final long maxStoredBytesTotal;
    /** Generations are allocated on any loop; above every generation in the database. */
    private final AtomicLong generations;
    /** Bytes (message weights) in all stored queues (committer). */
    private long storedBytesTotal;
    /**
     * Message id → number of queue entries referring to it, for messages referred to by more than one (committer). A
     * message that is not in it has one reference: most messages go to one session, and then cost nothing here.
     */
    private LongIntMap refs = new LongIntMap(1024);
    /** Ended generations whose keys are still to be deleted, oldest first (committer). */
    private final ArrayDeque<Deletion> deletions = new ArrayDeque<>();
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
        this.spaces = new ColumnFamilyHandle[] {subscriptions, inflight, inbound, queues};
        this.maxQueuedMessages = maxQueuedMessages;
        this.maxQueuedBytes = maxQueuedBytes;
        this.maxStoredBytesTotal = maxStoredBytesTotal <= 0 ? Long.MAX_VALUE : maxStoredBytesTotal;
        byte[] next = db.get(meta, NEXT_SEQ_KEY);
        this.nextSeq = next == null ? 1 : ByteBuffer.wrap(next).getLong();
        this.seqLimit = nextSeq;
        // above the generations of earlier runs however the clock moved: recovery raises it past every one it finds
        this.generations = new AtomicLong(System.currentTimeMillis() << 10);
    }

    private Keys keys(Session s) {
        Object h = s.storeHandle();
        if (h == null) {
            Keys k = new Keys(s.clientId(), generations.incrementAndGet());
            s.storeHandle(k);
            return k;
        }
        return (Keys) h;
    }

    // ---------------------------------------------------------------- writes from the event loops

    /**
     * The session's record. Written when a connection attaches (the CONNACK waits for it: critical) and when it ends
     * or its Will is published ({@code disconnectedAtMillis != 0}: housekeeping, nothing waits for it).
     */
    void saveSession(Session s, long disconnectedAtMillis, PendingWill will) {
        Keys k = keys(s);
        byte[] key = k.clientId.getBytes(StandardCharsets.UTF_8);
        boolean housekeeping = disconnectedAtMillis != 0;
        if (s.expiryIntervalSeconds() == 0) {
            // it ends with its connection: nothing to recover after a restart
            if (housekeeping) {
                committer.housekeepingDelete(sessions, key);
            } else {
                committer.delete(sessions, key);
            }
            return;
        }
        byte[] willRecord = will == null ? null : MessageCodec.encode(will.message());
        ByteBuffer b = ByteBuffer.allocate(1 + 8 + 8 + 8 + 1 + (willRecord == null ? 0 : 8 + willRecord.length));
        b.put((byte) RECORD_VERSION).putLong(s.expiryIntervalSeconds()).putLong(disconnectedAtMillis)
                .putLong(k.generation);
        b.put((byte) (willRecord == null ? 0 : 1));
        if (willRecord != null) {
            b.putLong(will.delaySeconds()).put(willRecord);
        }
        byte[] record = b.array();
        if (housekeeping) {
            committer.housekeeping(batch -> batch.put(sessions, key, record));
        } else {
            committer.put(sessions, key, record);
        }
        if (!k.subscriptionsWritten) {
            k.subscriptionsWritten = true;
            for (Subscription sub : s.subscriptions().values()) {
                saveSubscription(s, sub);
            }
        }
    }

    /**
     * Ends the session's generation: its record goes at once (in the same batch), its keys are deleted afterwards in
     * the background. With {@code ended} the session is over; otherwise (Clean Start on a resumed session) it goes on
     * in a new generation, empty, whose record the caller writes next.
     */
    void deleteSession(Session s, boolean ended) {
        Keys old = keys(s);
        Keys fresh = ended ? null : new Keys(s.clientId(), generations.incrementAndGet());
        if (fresh != null) {
            s.storeHandle(fresh);
        }
        byte[] key = old.clientId.getBytes(StandardCharsets.UTF_8);
        committer.housekeeping(batch -> {
            if (old.ended) {
                return;
            }
            batch.delete(sessions, key);
            old.ended = true;
            long bytes = old.bytes;
            storedBytesTotal -= bytes;
            if (fresh != null) {
                fresh.floor = nextSeq; // positions below belong to the old generation
            }
            batch.onFailure(() -> {
                old.ended = false;
                storedBytesTotal += bytes;
            });
            batch.afterCommit(() -> deletions.add(new Deletion(old)));
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
            Keys[] counted = null;
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
                if (counted == null) {
                    counted = new Keys[targets.size()];
                }
                counted[n++] = k;
                Delivery stored = d.stored(seq, msgId);
                batch.afterCommit(() -> s.execute(() -> s.deliverStored(stored)));
            }
            if (n > 1) {
                refs.add(msgId, n);
            }
            if (n > 0) {
                // a failed commit stored none of it: the counters go back
                Keys[] undo = counted;
                int undoCount = n;
                long id = msgId;
                batch.onFailure(() -> {
                    for (int j = 0; j < undoCount; j++) {
                        undo[j].count--;
                        undo[j].bytes -= weight;
                        storedBytesTotal -= weight;
                    }
                    if (undoCount > 1) {
                        refs.remove(id);
                    }
                });
            }
        });
    }

    void ack(Session s, Delivery d) {
        Keys k = (Keys) s.storeHandle();
        if (k == null) {
            return;
        }
        committer.housekeeping(batch -> {
            if (k.ended || d.seq() < k.floor) {
                return; // its generation ended: its keys go with it
            }
            long w = d.message().weight();
            batch.singleDelete(queues, queueKey(k.prefix, d.seq()));
            k.count--;
            k.bytes -= w;
            storedBytesTotal -= w;
            boolean last = release(batch, d.msgId());
            batch.onFailure(() -> {
                // the entry is still on disk (delivered again after a restart): count it again
                k.count++;
                k.bytes += w;
                storedBytesTotal += w;
                if (!last) {
                    refs.add(d.msgId(), 1);
                }
            });
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
        committer.housekeepingDelete(inflight, pidKey(keys(s).prefix, packetId));
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
        committer.housekeeping(batch -> {
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

    @Override
    public boolean pending() {
        return !deletions.isEmpty();
    }

    /**
     * Deletes up to {@link #DELETE_STEP} keys of the oldest ended generation, space by space, releasing the message
     * references of its queue entries. The cursor moves on once the step's batch is committed; a failed batch is
     * simply tried again (its reference releases undone).
     */
    @Override
    public void step(Committer.Batch batch) throws RocksDBException {
        Deletion d = deletions.peekFirst();
        int budget = DELETE_STEP;
        int space = d.space;
        byte[] cursor = d.cursor;
        List<Long> released = null;
        while (budget > 0 && space < spaces.length) {
            ColumnFamilyHandle cf = spaces[space];
            byte[] last = null;
            try (Slice upper = new Slice(d.keys.prefixEnd);
                    ReadOptions ro = new ReadOptions().setIterateUpperBound(upper);
                    RocksIterator it = db.newIterator(cf, ro)) {
                it.seek(cursor == null ? d.keys.prefix : cursor);
                for (; it.isValid() && budget > 0; it.next()) {
                    byte[] key = it.key();
                    if (cursor != null && Arrays.equals(key, cursor)) {
                        continue; // deleted by the previous step already
                    }
                    if (cf == queues) {
                        batch.singleDelete(queues, key);
                        long msgId = ByteBuffer.wrap(it.value()).getLong();
                        if (!release(batch, msgId)) {
                            if (released == null) {
                                released = new ArrayList<>();
                            }
                            released.add(msgId);
                        }
                    } else {
                        batch.delete(cf, key);
                    }
                    last = key;
                    budget--;
                }
                it.status();
            }
            if (budget > 0) {
                space++; // this space is done
                cursor = null;
            } else {
                cursor = last;
            }
        }
        int nextSpace = space;
        byte[] nextCursor = cursor;
        batch.afterCommit(() -> {
            d.space = nextSpace;
            d.cursor = nextCursor;
            if (nextSpace >= spaces.length) {
                deletions.pollFirst();
            }
        });
        if (released != null) {
            List<Long> undo = released;
            batch.onFailure(() -> undo.forEach(id -> refs.add(id, 1)));
        }
    }

    private long allocate(Committer.Batch batch) throws RocksDBException {
        if (nextSeq >= seqLimit) {
            seqLimit = nextSeq + SEQ_BLOCK;
            batch.put(meta, NEXT_SEQ_KEY, longKey(seqLimit));
        }
        return nextSeq++;
    }

    /** Drops one reference to a message; deletes its record with the last. Returns whether that was the last. */
    private boolean release(Committer.Batch batch, long msgId) throws RocksDBException {
        int count = refs.get(msgId);
        if (count <= 1) {
            // the last reference (absent: the only one)
            refs.remove(msgId);
            batch.singleDelete(messages, longKey(msgId));
            return true;
        }
        refs.add(msgId, -1);
        return false;
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
     * references, and deletes what belongs to no session's generation (left by a crash before an ended generation
     * was deleted). Blocking; before any connection is accepted.
     */
    void recover(Consumer<StoredSession> sink) throws RocksDBException {
        long now = System.currentTimeMillis();
        Map<String, Rec> recs = new HashMap<>();
        long maxGeneration = 0;
        try (RocksIterator it = db.newIterator(sessions)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                String cid = new String(it.key(), StandardCharsets.UTF_8);
                Rec r = Rec.decode(cid, it.value(), now);
                recs.put(cid, r);
                maxGeneration = Math.max(maxGeneration, r.generation);
            }
            it.status();
        }
        long orphans = 0;
        try (WriteBatch batch = new WriteBatch(); WriteOptions wo = new WriteOptions()) {
            try (RocksIterator it = db.newIterator(subscriptions)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    byte[] key = it.key();
                    Rec r = owner(recs, key);
                    if (r == null) {
                        orphans += orphan(batch, wo, subscriptions, key);
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
                    Rec r = owner(recs, key);
                    if (r == null) {
                        orphans += orphan(batch, wo, inbound, key);
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
                    Rec r = owner(recs, key);
                    if (r == null) {
                        orphans += orphan(batch, wo, inflight, key);
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
            Set<Long> orphanedMessages = new HashSet<>();
            try (RocksIterator it = db.newIterator(queues)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    byte[] key = it.key();
                    byte[] value = it.value();
                    long seq = key.length >= 8 ? ByteBuffer.wrap(key, key.length - 8, 8).getLong() : 0;
                    long msgId = value.length >= 8 ? ByteBuffer.wrap(value).getLong() : 0;
                    maxSeq = Math.max(maxSeq, Math.max(seq, msgId));
                    Rec r = owner(recs, key);
                    if (r == null) {
                        orphans += orphan(batch, wo, queues, key);
                        if (msgId > 0) {
                            orphanedMessages.add(msgId);
                        }
                        continue;
                    }
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
                    batch.delete(inflight, pidKey(prefix(r.clientId, r.generation), pid));
                    orphans++;
                }
            }
            for (long msgId : orphanedMessages) {
                if (refs.get(msgId) == 0) {
                    // referred to only by entries of ended generations
                    orphans += orphan(batch, wo, messages, longKey(msgId));
                }
            }
            if (batch.count() > 0) {
                db.write(wo, batch);
            }
            if (orphans > 0) {
                LOG.info("deleted {} stored entries that belong to no session", orphans);
            }
            refs = refs.without(1); // singly referred messages need no entry
            if (maxSeq >= nextSeq) {
                nextSeq = maxSeq + 1; // never reuse a position, even if "next-seq" was not written
                seqLimit = nextSeq;
            }
        }
        long floor = maxGeneration + 1;
        generations.accumulateAndGet(floor, Math::max);
        for (Rec r : recs.values()) {
            Keys k = new Keys(r.clientId, r.generation);
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

    /** Queues the deletion of an orphan key, writing the batch every 64k entries; returns 1. */
    private long orphan(WriteBatch batch, WriteOptions wo, ColumnFamilyHandle cf, byte[] key) throws RocksDBException {
        batch.delete(cf, key);
        if (batch.count() >= 65_536) {
            db.write(wo, batch);
            batch.clear();
        }
        return 1;
    }

    /** The session whose current generation owns a key, or {@code null}. */
    private static Rec owner(Map<String, Rec> recs, byte[] key) {
        if (key.length < 2 || key.length < prefixLength(key)) {
            return null; // not a key of this schema (left over from a migrated database)
        }
        Rec r = recs.get(clientIdOf(key));
        return r != null && generationOf(key) == r.generation ? r : null;
    }

    /** A session record being recovered. */
    private static final class Rec {
        final String clientId;
        long expiry;
        long disconnectedAt;
        long generation;
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
            if (version != RECORD_VERSION) {
                throw new IllegalArgumentException("session record of '" + cid + "' has unknown version " + version);
            }
            r.expiry = v.getLong();
            long at = v.getLong();
            r.disconnectedAt = at == 0 ? now : at; // connected when the broker stopped: disconnected now
            r.generation = v.getLong();
            if (v.get() == 1) {
                long delay = v.getLong();
                byte[] rec = new byte[v.remaining()];
                v.get(rec);
                r.will = new PendingWill(MessageCodec.decode(rec), delay);
            }
            return r;
        }
    }

    // ---------------------------------------------------------------- schema migration

    /**
     * Rewrites a database of schema version 1 (keys prefixed by the client id alone, session records of version 1)
     * into version 2 (generation 0 of every session), one session per atomic batch: a session whose record is of
     * version 2 is done, so a migration interrupted by a crash goes on where it stopped. Keys of no session are left
     * to recovery, which deletes them. Blocking; at open, before anything else reads the sessions.
     */
    static long migrateFromVersion1(RocksDB db, Map<KeySpace, ColumnFamilyHandle> handles) throws RocksDBException {
        long rewritten = 0;
        ColumnFamilyHandle sessions = handles.get(KeySpace.SESSIONS);
        List<ColumnFamilyHandle> spaces = List.of(handles.get(KeySpace.SUBSCRIPTIONS), handles.get(KeySpace.QUEUES),
                handles.get(KeySpace.INFLIGHT), handles.get(KeySpace.INBOUND_QOS2));
        try (WriteOptions wo = new WriteOptions(); RocksIterator records = db.newIterator(sessions)) {
            for (records.seekToFirst(); records.isValid(); records.next()) {
                ByteBuffer v = ByteBuffer.wrap(records.value());
                if (v.get() != 1) {
                    continue;
                }
                String cid = new String(records.key(), StandardCharsets.UTF_8);
                byte[] oldPrefix = prefix(cid, 0);
                oldPrefix = Arrays.copyOf(oldPrefix, oldPrefix.length - 8); // u16 length ∥ client id
                try (WriteBatch batch = new WriteBatch()) {
                    for (ColumnFamilyHandle cf : spaces) {
                        try (Slice upper = new Slice(successor(oldPrefix));
                                ReadOptions ro = new ReadOptions().setIterateUpperBound(upper);
                                RocksIterator it = db.newIterator(cf, ro)) {
                            for (it.seek(oldPrefix); it.isValid(); it.next()) {
                                byte[] key = it.key();
                                byte[] moved = ByteBuffer.allocate(key.length + 8).put(oldPrefix).putLong(0L)
                                        .put(key, oldPrefix.length, key.length - oldPrefix.length).array();
                                batch.put(cf, moved, it.value());
                                batch.delete(cf, key);
                            }
                            it.status();
                        }
                    }
                    long expiry = v.getLong();
                    long at = v.getLong();
                    byte[] rest = new byte[v.remaining()];
                    v.get(rest);
                    ByteBuffer record = ByteBuffer.allocate(1 + 8 + 8 + 8 + rest.length);
                    record.put((byte) RECORD_VERSION).putLong(expiry).putLong(at).putLong(0L).put(rest);
                    batch.put(sessions, records.key(), record.array());
                    rewritten += batch.count();
                    db.write(wo, batch);
                }
            }
            records.status();
        }
        return rewritten;
    }

    // ---------------------------------------------------------------- keys

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
    private static int prefixLength(byte[] key) {
        return 2 + (((key[0] & 0xFF) << 8) | (key[1] & 0xFF)) + 8;
    }

    private static String clientIdOf(byte[] key) {
        return new String(key, 2, prefixLength(key) - 10, StandardCharsets.UTF_8);
    }

    private static long generationOf(byte[] key) {
        return ByteBuffer.wrap(key, prefixLength(key) - 8, 8).getLong();
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
