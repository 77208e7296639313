package io.starling.store.rocksdb;

import static io.starling.store.rocksdb.SessionKeys.pidKey;
import static io.starling.store.rocksdb.SessionKeys.queueKey;
import static io.starling.store.rocksdb.SessionKeys.seqOf;
import static io.starling.store.rocksdb.SessionKeys.subscriptionKey;
import static io.starling.store.rocksdb.SessionKeys.subscriptionValue;

import io.starling.broker.message.Delivery;
import io.starling.broker.message.PendingWill;
import io.starling.broker.store.QueueOwner;
import io.starling.broker.store.SessionRecord;
import io.starling.broker.store.StoredQueue;
import io.starling.broker.topic.Subscription;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;

/**
 * One generation of a stored session: its keys (all under one prefix, see {@link SessionKeys}) and, on the committer
 * thread, its queue counters. The broker's session holds it as its {@link SessionRecord} and {@link StoredQueue}.
 * Writes are queued to the committer; those whose loss in a failed commit would not dishonour an acknowledgement
 * (acknowledged queue entries, ended generations, the record written when a connection ends) go as housekeeping
 * ({@link Committer#housekeeping}).
 */
final class Generation implements SessionRecord, StoredQueue {

    static final int RECORD_VERSION = 2;

    private final SessionStorage storage;
    final String clientId;
    final long generation;
    final byte[] prefix;
    final byte[] prefixEnd;
    /** Whether its subscriptions have been written (owner loop). */
    private boolean subscriptionsWritten;
    /** Queue positions below it belong to an earlier generation (committer). */
    long floor;
    /** The generation ended: later writes are ignored (committer). */
    boolean ended;
    /** Entries and bytes (message weights) in its queue (committer). */
    long count;
    long bytes;

    Generation(SessionStorage storage, String clientId, long generation) {
        this.storage = storage;
        this.clientId = clientId;
        this.generation = generation;
        this.prefix = SessionKeys.prefix(clientId, generation);
        this.prefixEnd = SessionKeys.successor(prefix);
    }

    /** A generation read from the store at start-up, with its subscriptions and queue counted. */
    static Generation recovered(SessionStorage storage, String clientId, long generation, long count, long bytes) {
        Generation g = new Generation(storage, clientId, generation);
        g.subscriptionsWritten = true;
        g.count = count;
        g.bytes = bytes;
        return g;
    }

    // ---------------------------------------------------------------- record

    /**
     * {@code u8 2, i64 expiry s, i64 disconnectedAt ms (0: connected), i64 generation, u8 will?, [i64 will delay s,
     * message record]}. Critical when a connection attaches (the CONNACK waits for it), housekeeping otherwise.
     */
    @Override
    public void save(long expirySeconds, long disconnectedAtMillis, PendingWill will,
            Collection<Subscription> subscriptions) {
        Committer committer = storage.committer;
        byte[] key = clientId.getBytes(StandardCharsets.UTF_8);
        boolean housekeeping = disconnectedAtMillis != 0;
        if (expirySeconds == 0) {
            // it ends with its connection: nothing to recover after a restart
            if (housekeeping) {
                committer.housekeepingDelete(storage.sessions, key);
            } else {
                committer.delete(storage.sessions, key);
            }
            return;
        }
        byte[] willRecord = will == null ? null : MessageCodec.encode(will.message());
        ByteBuffer b = ByteBuffer.allocate(1 + 8 + 8 + 8 + 1 + (willRecord == null ? 0 : 8 + willRecord.length));
        b.put((byte) RECORD_VERSION).putLong(expirySeconds).putLong(disconnectedAtMillis).putLong(generation);
        b.put((byte) (willRecord == null ? 0 : 1));
        if (willRecord != null) {
            b.putLong(will.delaySeconds()).put(willRecord);
        }
        byte[] record = b.array();
        if (housekeeping) {
            committer.housekeeping(batch -> batch.put(storage.sessions, key, record));
        } else {
            committer.put(storage.sessions, key, record);
        }
        if (!subscriptionsWritten) {
            subscriptionsWritten = true;
            for (Subscription sub : subscriptions) {
                saveSubscription(sub);
            }
        }
    }

    @Override
    public SessionRecord restart() {
        Generation fresh = storage.newGeneration(clientId);
        endInto(fresh);
        return fresh;
    }

    @Override
    public void end() {
        endInto(null);
    }

    /**
     * Ends this generation: its record goes at once (in the same batch), its keys are deleted afterwards in the
     * background ({@link GenerationDeleter}). {@code next}, if any, goes on in a new generation, empty, whose record
     * the caller writes next.
     */
    private void endInto(Generation next) {
        byte[] key = clientId.getBytes(StandardCharsets.UTF_8);
        StoredQueues queues = storage.queues;
        storage.committer.housekeeping(batch -> {
            if (ended) {
                return;
            }
            batch.delete(storage.sessions, key);
            ended = true;
            long b = bytes;
            queues.storedBytesTotal -= b;
            if (next != null) {
                next.floor = queues.nextSeq(); // positions below belong to the old generation
            }
            batch.onFailure(() -> {
                ended = false;
                queues.storedBytesTotal += b;
            });
            batch.afterCommit(() -> storage.deleter.add(this));
        });
    }

    @Override
    public void saveSubscription(Subscription subscription) {
        storage.committer.put(storage.subscriptions, subscriptionKey(prefix, subscription.filter()),
                subscriptionValue(subscription));
    }

    @Override
    public void deleteSubscription(String filter) {
        storage.committer.delete(storage.subscriptions, subscriptionKey(prefix, filter));
    }

    // ---------------------------------------------------------------- in-flight and inbound QoS 2

    /** {@code u8 0, i64 seq, i64 message id}: PUBLISH sent. */
    @Override
    public void inflightSent(int packetId, Delivery d) {
        ByteBuffer v = ByteBuffer.allocate(17).put((byte) 0).putLong(d.seq()).putLong(d.msgId());
        storage.committer.put(storage.inflight, pidKey(prefix, packetId), v.array());
    }

    /** {@code u8 1}: PUBREL sent. */
    @Override
    public void inflightReleased(int packetId) {
        storage.committer.put(storage.inflight, pidKey(prefix, packetId), new byte[] {1});
    }

    @Override
    public void inflightDone(int packetId) {
        storage.committer.housekeepingDelete(storage.inflight, pidKey(prefix, packetId));
    }

    @Override
    public void inboundQos2(int packetId, boolean awaiting) {
        byte[] key = pidKey(prefix, packetId);
        if (awaiting) {
            storage.committer.put(storage.inbound, key, new byte[0]);
        } else {
            storage.committer.delete(storage.inbound, key);
        }
    }

    // ---------------------------------------------------------------- queue

    @Override
    public StoredQueue queue() {
        return this;
    }

    @Override
    public void ack(Delivery d) {
        StoredQueues queues = storage.queues;
        storage.committer.housekeeping(batch -> {
            if (ended || d.seq() < floor) {
                return; // its generation ended: its keys go with it
            }
            long w = d.message().weight();
            batch.singleDelete(queues.queues, queueKey(prefix, d.seq()));
            count--;
            bytes -= w;
            queues.storedBytesTotal -= w;
            boolean last = queues.release(batch, d.msgId());
            batch.onFailure(() -> {
                // the entry is still on disk (delivered again after a restart): count it again
                count++;
                bytes += w;
                queues.storedBytesTotal += w;
                if (!last) {
                    queues.unrelease(d.msgId());
                }
            });
        });
    }

    @Override
    public void read(long afterSeq, int limit, QueueOwner owner, Consumer<List<Delivery>> onOwner) {
        StoredQueues queues = storage.queues;
        storage.committer.housekeeping(batch -> {
            batch.commitNow(); // every entry handed to the session before it asked is committed
            List<Delivery> page = new ArrayList<>(Math.min(limit, 64));
            try (Slice upper = new Slice(prefixEnd);
                    ReadOptions ro = new ReadOptions().setIterateUpperBound(upper);
                    RocksIterator it = batch.db().newIterator(queues.queues, ro)) {
                for (it.seek(queueKey(prefix, afterSeq + 1)); it.isValid() && page.size() < limit; it.next()) {
                    Delivery d = queues.readEntry(seqOf(it.key()), it.value());
                    if (d != null) {
                        page.add(d);
                    }
                }
                it.status();
            }
            owner.execute(() -> onOwner.accept(page));
        });
    }
}
