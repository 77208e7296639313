package io.starling.store.rocksdb;

import io.starling.broker.retain.RetainedPersistence;
import io.starling.broker.retain.RetainedStore;
import io.starling.broker.message.Message;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retained messages on disk, for the broker's {@link RetainedStore} (which holds the index in the heap): two column
 * families written together, {@link KeySpace#RETAINED} (topic → {@link MessageCodec} record, payload included) and
 * {@link KeySpace#RETAINED_INDEX} (topic → the index entry, below), so that start-up reads the small index entries
 * and never a payload.
 *
 * <pre>
 * index entry, version 1:
 *   u8   version (1)
 *   i32  size counted against max-retained-bytes (payload bytes + topic length)
 *   i64  expiresAtMillis (Long.MAX_VALUE: never)
 * </pre>
 *
 * <p>Writes are committer tasks, queued on the event loop under the lock of the topic's index entry (so updates of
 * one topic reach the disk in the order the index saw them); once committed, the index drops the payload from the
 * heap. Payloads are read back a page at a time by one reader thread with a multi-get: a read never runs on an event
 * loop, and never on the committer, whose commits it would delay.
 */
final class RocksDbRetainedStore implements RetainedPersistence, AutoCloseable {

    static final int INDEX_VERSION = 1;
    private static final int INDEX_ENTRY_BYTES = 1 + 4 + 8;

    private static final Logger LOG = LoggerFactory.getLogger(RocksDbRetainedStore.class);

    private final RocksDB db;
    private final Committer committer;
    private final ColumnFamilyHandle records;
    private final ColumnFamilyHandle index;
    private final ExecutorService reader;
    private final AtomicBoolean warnedReadFailure = new AtomicBoolean();

    RocksDbRetainedStore(RocksDB db, Committer committer, ColumnFamilyHandle records, ColumnFamilyHandle index) {
        this.db = db;
        this.committer = committer;
        this.records = records;
        this.index = index;
        this.reader = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "starling-store-retained-reader");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void write(String topic, Message message, Runnable onDurable, Runnable onFailed) {
        byte[] key = topic.getBytes(StandardCharsets.UTF_8);
        byte[] record = MessageCodec.encode(message);
        byte[] entry = indexEntry(RetainedStore.sizeOf(message), message.expiresAtMillis());
        committer.task(batch -> {
            batch.put(records, key, record);
            batch.put(index, key, entry);
            batch.afterCommit(onDurable);
            batch.onFailure(onFailed);
        });
    }

    @Override
    public void delete(String topic, Runnable onFailed) {
        byte[] key = topic.getBytes(StandardCharsets.UTF_8);
        committer.task(batch -> {
            batch.delete(records, key);
            batch.delete(index, key);
            batch.onFailure(onFailed);
        });
    }

    @Override
    public void read(List<String> topics, Consumer<List<Message>> onRead) {
        try {
            reader.execute(() -> {
                List<Message> messages = readNow(topics);
                try {
                    onRead.accept(messages);
                } catch (RejectedExecutionException e) {
                    // the event loops are stopping: nobody waits for these any more
                } catch (RuntimeException e) {
                    LOG.warn("handing over retained messages read from the store failed", e);
                }
            });
        } catch (RejectedExecutionException e) {
            // the store is closing: the broker is stopping, nobody waits for these
        }
    }

    /** Reads committed records (blocking; on the reader thread, or at start-up and in tests). */
    List<Message> readNow(List<String> topics) {
        List<byte[]> keys = new ArrayList<>(topics.size());
        for (String t : topics) {
            keys.add(t.getBytes(StandardCharsets.UTF_8));
        }
        List<Message> out = new ArrayList<>(topics.size());
        List<byte[]> values;
        try {
            values = db.multiGetAsList(Collections.nCopies(keys.size(), records), keys);
        } catch (RocksDBException e) {
            warnReadFailure("reading retained messages failed: " + e.getMessage(), e);
            return Collections.nCopies(topics.size(), null);
        }
        for (int i = 0; i < values.size(); i++) {
            byte[] v = values.get(i);
            Message m = null;
            if (v != null) {
                try {
                    m = MessageCodec.decode(v);
                } catch (IllegalArgumentException e) {
                    warnReadFailure("the retained message of topic \"" + topics.get(i) + "\" cannot be read: "
                            + e.getMessage(), e);
                }
            }
            out.add(m);
        }
        return out;
    }

    private void warnReadFailure(String message, Exception e) {
        if (warnedReadFailure.compareAndSet(false, true)) {
            LOG.error("{}; such messages are not delivered (logged once)", message, e);
        }
    }

    /** Stops the reader thread and waits for a read in progress (before the database closes). */
    @Override
    public void close() {
        reader.shutdownNow();
        boolean interrupted = false;
        while (true) {
            try {
                if (reader.awaitTermination(10, TimeUnit.SECONDS)) {
                    break;
                }
                LOG.warn("still waiting for a retained message read to finish before closing the store");
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    static byte[] indexEntry(int size, long expiresAtMillis) {
        return ByteBuffer.allocate(INDEX_ENTRY_BYTES).put((byte) INDEX_VERSION).putInt(size).putLong(expiresAtMillis)
                .array();
    }

    /** The size and expiry of an index entry, as {@code long[2]}. */
    static long[] decodeIndexEntry(byte[] entry) {
        ByteBuffer in = ByteBuffer.wrap(entry);
        try {
            int version = in.get() & 0xFF;
            if (version != INDEX_VERSION) {
                throw new IllegalArgumentException("retained index entry of unknown version " + version);
            }
            int size = in.getInt();
            long expiresAt = in.getLong();
            if (size < 0 || in.hasRemaining()) {
                throw new IllegalArgumentException("retained index entry malformed (" + entry.length + " bytes)");
            }
            return new long[] {size, expiresAt};
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("retained index entry truncated (" + entry.length + " bytes)", e);
        }
    }
}
