package io.starling.store.rocksdb;

import static io.starling.store.rocksdb.SessionKeys.clientIdOf;
import static io.starling.store.rocksdb.SessionKeys.generationOf;
import static io.starling.store.rocksdb.SessionKeys.hasPrefix;
import static io.starling.store.rocksdb.SessionKeys.longKey;
import static io.starling.store.rocksdb.SessionKeys.msgIdOf;
import static io.starling.store.rocksdb.SessionKeys.pidKey;
import static io.starling.store.rocksdb.SessionKeys.pidOf;
import static io.starling.store.rocksdb.SessionKeys.prefix;
import static io.starling.store.rocksdb.SessionKeys.seqOf;
import static io.starling.store.rocksdb.SessionKeys.subscriptionOf;
import static io.starling.store.rocksdb.SessionKeys.weightOf;

import io.starling.broker.message.Delivery;
import io.starling.broker.message.PendingWill;
import io.starling.broker.store.SessionRecord;
import io.starling.broker.store.SessionStore;
import io.starling.broker.store.StoredInflight;
import io.starling.broker.store.StoredSession;
import io.starling.broker.topic.Subscription;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sessions in the store: records, subscriptions, in-flight and inbound QoS 2 state, by generation ({@link Generation},
 * the handle each stored session holds); their queues are {@link StoredQueues}'.
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
 * prefix = u16 length ∥ client id (UTF-8) ∥ i64 generation        ({@link SessionKeys})
 * </pre>
 *
 * <h2>Generations</h2>
 *
 * Every incarnation of a session (a new session, or a Clean Start on an existing one) has a generation of its own,
 * written in its record and in the prefix of every key it owns. Only the keys of the generation that a session
 * record names belong to a session; everything else is left over from an ended generation. Ending a generation is
 * therefore one small write, whatever the session held: its record goes (or is replaced), and the old keys are
 * deleted afterwards in the background ({@link GenerationDeleter}). A crash at any point leaves nothing that could be
 * taken for live state: recovery deletes the keys of generations that no record names.
 *
 * <h2>Threads</h2>
 *
 * Generations are allocated on any loop. Everything that needs more than a put or delete runs as a
 * {@link Committer.Task} on the committer thread, which alone owns the queue counters ({@link StoredQueues},
 * {@link Generation}).
 */
final class SessionStorage implements SessionStore {

    private static final Logger LOG = LoggerFactory.getLogger(SessionStorage.class);

    private final Path dataDir;
    private final RocksDB db;
    final Committer committer;
    final ColumnFamilyHandle sessions;
    final ColumnFamilyHandle subscriptions;
    final ColumnFamilyHandle inflight;
    final ColumnFamilyHandle inbound;
    final StoredQueues queues;
    final GenerationDeleter deleter;
    /** Generations are allocated on any loop; above every generation in the database. */
    private final AtomicLong generations;

    SessionStorage(Path dataDir, RocksDB db, Committer committer, Map<KeySpace, ColumnFamilyHandle> handles,
            StoredQueues queues) {
        this.dataDir = dataDir;
        this.db = db;
        this.committer = committer;
        this.sessions = handles.get(KeySpace.SESSIONS);
        this.subscriptions = handles.get(KeySpace.SUBSCRIPTIONS);
        this.inflight = handles.get(KeySpace.INFLIGHT);
        this.inbound = handles.get(KeySpace.INBOUND_QOS2);
        this.queues = queues;
        this.deleter = new GenerationDeleter(queues, subscriptions, inflight, inbound);
        // above the generations of earlier runs however the clock moved: recovery raises it past every one it finds
        this.generations = new AtomicLong(System.currentTimeMillis() << 10);
    }

    @Override
    public SessionRecord create(String clientId) {
        return newGeneration(clientId);
    }

    Generation newGeneration(String clientId) {
        return new Generation(this, clientId, generations.incrementAndGet());
    }

    // ---------------------------------------------------------------- recovery

    /**
     * Reads every stored session with its subscriptions and in-flight state, counts the queue entries and message
     * references, and deletes what belongs to no session's generation (left by a crash before an ended generation
     * was deleted). Blocking; before any connection is accepted.
     *
     * @throws StoreException if a record cannot be read
     */
    @Override
    public void recover(Consumer<StoredSession> sink) {
        try {
            recoverSessions(sink);
        } catch (RocksDBException | IllegalArgumentException | java.nio.BufferUnderflowException e) {
            throw RocksDbStore.corrupt(dataDir, "reading the stored sessions failed: " + e.getMessage(), e);
        }
    }

    private void recoverSessions(Consumer<StoredSession> sink) throws RocksDBException {
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
                    r.subscriptions.add(subscriptionOf(r.clientId, key, it.value()));
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
            try (RocksIterator it = db.newIterator(queues.queues)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    byte[] key = it.key();
                    byte[] value = it.value();
                    long seq = key.length >= 8 ? seqOf(key) : 0;
                    long msgId = msgIdOf(value);
                    maxSeq = Math.max(maxSeq, Math.max(seq, msgId));
                    Rec r = owner(recs, key);
                    if (r == null) {
                        orphans += orphan(batch, wo, queues.queues, key);
                        if (msgId > 0) {
                            orphanedMessages.add(msgId);
                        }
                        continue;
                    }
                    queues.recoveredReference(msgId);
                    r.count++;
                    r.bytes += weightOf(value);
                    r.lastSeq = Math.max(r.lastSeq, seq);
                    Map<Long, Integer> pending = inflightSeqs.get(r.clientId);
                    Integer pid = pending == null ? null : pending.get(seq);
                    if (pid != null) {
                        Delivery d = queues.readEntry(seq, value);
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
                if (!queues.isReferenced(msgId)) {
                    // referred to only by entries of ended generations
                    orphans += orphan(batch, wo, queues.messages, longKey(msgId));
                }
            }
            if (batch.count() > 0) {
                db.write(wo, batch);
            }
            if (orphans > 0) {
                LOG.info("deleted {} stored entries that belong to no session", orphans);
            }
            long bytes = 0;
            for (Rec r : recs.values()) {
                bytes += r.bytes;
            }
            queues.recovered(maxSeq, bytes);
        }
        long floor = maxGeneration + 1;
        generations.accumulateAndGet(floor, Math::max);
        for (Rec r : recs.values()) {
            Generation g = Generation.recovered(this, r.clientId, r.generation, r.count, r.bytes);
            List<StoredInflight> inflightList = new ArrayList<>();
            r.inflight.entrySet().stream().sorted(Map.Entry.comparingByKey())
                    .forEach(e -> inflightList.add(new StoredInflight(e.getKey(), e.getValue())));
            sink.accept(new StoredSession(r.clientId, r.expiry, r.disconnectedAt, r.will, r.subscriptions,
                    inflightList, r.inbound, r.lastSeq, r.count, g));
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
        if (!hasPrefix(key)) {
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
            if (version != Generation.RECORD_VERSION) {
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

}
