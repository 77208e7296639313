package io.starling.store.rocksdb;

import io.starling.broker.config.BrokerConfig.Fsync;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Settings of a {@link RocksDbStore}.
 *
 * @param dataDir the data directory; the database lives in {@code <dataDir>/db}
 * @param fsync when a commit counts as durable
 * @param blockCacheBytes capacity of the shared LRU block cache (data, index and filter blocks)
 * @param writeBufferBytes bound of all memtables together (a {@code WriteBufferManager}); memtable memory is
 *     charged to the block cache, which is sized {@code blockCacheBytes + writeBufferBytes}, so the two together
 *     bound RocksDB's native memory apart from small fixed overheads
 * @param maxBatchOps most write operations in one group commit (bounds the size of one WriteBatch)
 * @param maxQueuedMessages most messages stored in one session's queue (the broker's {@code max-queued-messages})
 * @param maxQueuedBytes most bytes (message weights) stored in one session's queue ({@code max-queued-bytes})
 * @param maxStoredBytesTotal most bytes (message weights) stored in all queues together
 *     ({@code max-stored-bytes-total}); 0 = no bound beyond the per-session one
 */
public record RocksDbConfig(Path dataDir, Fsync fsync, long blockCacheBytes, long writeBufferBytes, int maxBatchOps,
        long maxQueuedMessages, long maxQueuedBytes, long maxStoredBytesTotal) {

    public static final long DEFAULT_BLOCK_CACHE_BYTES = 64L << 20;
    public static final long DEFAULT_WRITE_BUFFER_BYTES = 32L << 20;
    public static final int DEFAULT_MAX_BATCH_OPS = 16_384;
    public static final long DEFAULT_MAX_QUEUED_MESSAGES = 1000;
    public static final long DEFAULT_MAX_QUEUED_BYTES = 64L << 20;
    public static final long DEFAULT_MAX_STORED_BYTES_TOTAL = 8L << 30;

    public RocksDbConfig {
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(fsync, "fsync");
        if (blockCacheBytes < (1L << 20)) {
            throw new IllegalArgumentException("block cache must be at least 1 MiB, not " + blockCacheBytes + " bytes");
        }
        if (writeBufferBytes < (4L << 20)) {
            throw new IllegalArgumentException("write buffers must be at least 4 MiB, not " + writeBufferBytes + " bytes");
        }
        if (maxBatchOps < 1) {
            throw new IllegalArgumentException("maxBatchOps must be positive, not " + maxBatchOps);
        }
    }

    /** Defaults: {@code fsync: always}, 64 MiB block cache, 32 MiB of write buffers. */
    public static RocksDbConfig defaults(Path dataDir) {
        return new RocksDbConfig(dataDir, Fsync.ALWAYS, DEFAULT_BLOCK_CACHE_BYTES, DEFAULT_WRITE_BUFFER_BYTES,
                DEFAULT_MAX_BATCH_OPS, DEFAULT_MAX_QUEUED_MESSAGES, DEFAULT_MAX_QUEUED_BYTES,
                DEFAULT_MAX_STORED_BYTES_TOTAL);
    }

    public RocksDbConfig withFsync(Fsync mode) {
        return new RocksDbConfig(dataDir, mode, blockCacheBytes, writeBufferBytes, maxBatchOps, maxQueuedMessages,
                maxQueuedBytes, maxStoredBytesTotal);
    }

    public RocksDbConfig withBlockCacheBytes(long bytes) {
        return new RocksDbConfig(dataDir, fsync, bytes, writeBufferBytes, maxBatchOps, maxQueuedMessages,
                maxQueuedBytes, maxStoredBytesTotal);
    }

    public RocksDbConfig withWriteBufferBytes(long bytes) {
        return new RocksDbConfig(dataDir, fsync, blockCacheBytes, bytes, maxBatchOps, maxQueuedMessages,
                maxQueuedBytes, maxStoredBytesTotal);
    }

    public RocksDbConfig withMaxBatchOps(int ops) {
        return new RocksDbConfig(dataDir, fsync, blockCacheBytes, writeBufferBytes, ops, maxQueuedMessages,
                maxQueuedBytes, maxStoredBytesTotal);
    }

    /** With these per-session limits of stored queues. */
    public RocksDbConfig withQueueLimits(long messages, long bytes) {
        return new RocksDbConfig(dataDir, fsync, blockCacheBytes, writeBufferBytes, maxBatchOps, messages, bytes,
                maxStoredBytesTotal);
    }

    /** With this bound of all stored queues together (0 = none beyond the per-session limits). */
    public RocksDbConfig withMaxStoredBytesTotal(long bytes) {
        return new RocksDbConfig(dataDir, fsync, blockCacheBytes, writeBufferBytes, maxBatchOps, maxQueuedMessages,
                maxQueuedBytes, bytes);
    }
}
