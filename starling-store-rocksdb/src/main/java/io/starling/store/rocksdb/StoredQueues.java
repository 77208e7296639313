package io.starling.store.rocksdb;

import static io.starling.store.rocksdb.SessionKeys.longKey;
import static io.starling.store.rocksdb.SessionKeys.queueEntry;
import static io.starling.store.rocksdb.SessionKeys.queueKey;

import io.starling.broker.log.RateLimitedLog;
import io.starling.broker.message.Delivery;
import io.starling.broker.message.Message;
import io.starling.broker.store.QueueOwner;
import io.starling.broker.store.QueueStore;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The stored queues of all sessions: messages stored once however many queues refer to them ({@code messages}), and
 * one entry per delivery in its session generation's queue ({@code queues}). Owns, on the committer thread, the
 * allocation of queue positions and message ids, the message reference counts and the bytes of all stored queues;
 * each generation's own counters are in its {@link Generation}. Positions are allocated in committer order, and a
 * session is handed its stored deliveries after they are committed and in that order, so its in-memory cursor can
 * page the rest from disk.
 */
final class StoredQueues implements QueueStore {

    private static final Logger LOG = LoggerFactory.getLogger(StoredQueues.class);
    private static final byte[] NEXT_SEQ_KEY = "next-seq".getBytes(StandardCharsets.UTF_8);
    private static final long SEQ_BLOCK = 1L << 20;

    private final RocksDB db;
    private final Committer committer;
    private final ColumnFamilyHandle meta;
    final ColumnFamilyHandle messages;
    final ColumnFamilyHandle queues;
    private final long maxQueuedMessages;
    private final long maxQueuedBytes;
    private final long maxStoredBytesTotal;
    /** Bytes (message weights) in all stored queues: written by the committer only, read by the metrics. */
    volatile long storedBytesTotal;
    /**
     * Message id → number of queue entries referring to it, for messages referred to by more than one (committer). A
     * message that is not in it has one reference: most messages go to one session, and then cost nothing here.
     */
    private LongIntMap refs = new LongIntMap(1024);
    /** Deliveries refused because a stored queue was full, for the log (committer). */
    private long droppedFull;
    private long nextSeq;
    private long seqLimit;
    /** Refused deliveries: at most one line every 10 s, the rest counted (committer). */
    private final RateLimitedLog dropLog = new RateLimitedLog(LOG, Level.WARN, Duration.ofSeconds(10));

    StoredQueues(RocksDB db, Committer committer, Map<KeySpace, ColumnFamilyHandle> handles, long maxQueuedMessages,
            long maxQueuedBytes, long maxStoredBytesTotal) throws RocksDBException {
        this.db = db;
        this.committer = committer;
        this.meta = handles.get(KeySpace.META);
        this.messages = handles.get(KeySpace.MESSAGES);
        this.queues = handles.get(KeySpace.QUEUES);
        this.maxQueuedMessages = maxQueuedMessages;
        this.maxQueuedBytes = maxQueuedBytes;
        this.maxStoredBytesTotal = maxStoredBytesTotal <= 0 ? Long.MAX_VALUE : maxStoredBytesTotal;
        byte[] next = db.get(meta, NEXT_SEQ_KEY);
        this.nextSeq = next == null ? 1 : ByteBuffer.wrap(next).getLong();
        this.seqLimit = nextSeq;
    }

    /**
     * Stores the message once and one queue entry per owner whose current generation takes it (read on the committer
     * thread, when the write is made); an owner whose queue is at its limits (the owner's own, else the store's; or all
     * stored queues at theirs) is told its queue is full: a stored queue never drops what it accepted, the newest
     * message is refused.
     */
    @Override
    public void append(Message m, List<? extends QueueOwner> owners, List<Delivery> deliveries) {
        committer.task(batch -> {
            long msgId = 0;
            int n = 0;
            long weight = m.weight();
            Generation[] counted = null;
            for (int i = 0; i < owners.size(); i++) {
                QueueOwner owner = owners.get(i);
                if (!(owner.storedQueue() instanceof Generation g) || g.ended) {
                    continue;
                }
                long maxMessages = owner.maxStoredMessages();
                long maxBytes = owner.maxStoredBytes();
                if (g.count >= (maxMessages < 0 ? maxQueuedMessages : maxMessages)
                        || g.bytes + weight > (maxBytes < 0 ? maxQueuedBytes : maxBytes)
                        || storedBytesTotal + weight > maxStoredBytesTotal) {
                    droppedFull++;
                    logDrop(g);
                    owner.execute(owner::storedQueueFull);
                    continue;
                }
                if (msgId == 0) {
                    msgId = allocate(batch);
                    batch.put(messages, longKey(msgId), MessageCodec.encode(m));
                }
                long seq = allocate(batch);
                Delivery d = deliveries.get(i);
                batch.put(queues, queueKey(g.prefix, seq), queueEntry(msgId, d, weight));
                g.count++;
                g.bytes += weight;
                storedBytesTotal += weight;
                if (counted == null) {
                    counted = new Generation[owners.size()];
                }
                counted[n++] = g;
                Delivery stored = d.stored(seq, msgId);
                batch.afterCommit(() -> owner.execute(() -> owner.deliverStored(stored)));
            }
            if (n > 1) {
                refs.add(msgId, n);
            }
            if (n > 0) {
                // a failed commit stored none of it: the counters go back
                Generation[] undo = counted;
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

    /** The first position a generation started now may use: those below belong to earlier ones (committer). */
    long nextSeq() {
        return nextSeq;
    }

    private long allocate(Committer.Batch batch) throws RocksDBException {
        if (nextSeq >= seqLimit) {
            seqLimit = nextSeq + SEQ_BLOCK;
            batch.put(meta, NEXT_SEQ_KEY, longKey(seqLimit));
        }
        return nextSeq++;
    }

    /** Drops one reference to a message; deletes its record with the last. Returns whether that was the last. */
    boolean release(Committer.Batch batch, long msgId) throws RocksDBException {
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

    /** Gives back a reference that {@link #release} took, in a batch that failed (it was not the last). */
    void unrelease(long msgId) {
        refs.add(msgId, 1);
    }

    private void logDrop(Generation g) {
        dropLog.log("Stored queue of client '{}' full ({} messages, {} bytes; {} bytes in all stored queues): refusing new"
                + " messages ({} so far)", g.clientId, g.count, g.bytes, storedBytesTotal, droppedFull);
    }

    /** A queue entry as a delivery, with its message read from the messages column family; null if it is gone. */
    Delivery readEntry(long seq, byte[] entry) throws RocksDBException {
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

    // ---------------------------------------------------------------- recovery (before the committer starts)

    /** Counts a recovered queue entry's reference to its message. */
    void recoveredReference(long msgId) {
        refs.add(msgId, 1);
    }

    /** Whether a recovered message is referred to by a live queue entry. */
    boolean isReferenced(long msgId) {
        return refs.get(msgId) != 0;
    }

    /**
     * Ends recovery: singly referred messages need no entry, positions continue above the highest one found (even if
     * "next-seq" was not written), and the recovered queues' bytes count in the total.
     */
    void recovered(long maxSeq, long bytes) {
        refs = refs.without(1);
        if (maxSeq >= nextSeq) {
            nextSeq = maxSeq + 1; // never reuse a position
            seqLimit = nextSeq;
        }
        storedBytesTotal += bytes;
    }
}
