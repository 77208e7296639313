package io.starling.store.rocksdb;

import io.netty.util.concurrent.EventExecutor;
import io.starling.broker.config.BrokerConfig.Fsync;
import io.starling.broker.retain.RetainedStore;
import io.starling.broker.store.QueueStore;
import io.starling.broker.store.SessionStore;
import io.starling.broker.store.Store;
import io.starling.broker.store.StoreStats;
import io.starling.broker.store.StoreStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.stream.Stream;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.Cache;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompactionPriority;
import org.rocksdb.CompactionStyle;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.Env;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.SstFileManager;
import org.rocksdb.Status;
import org.rocksdb.TablePropertiesCollectorFactory;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteBufferManager;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable {@link Store} ({@code storage: rocksdb}): one embedded RocksDB under {@code <dataDir>/db}, written
 * by a single committer thread with natural group commit ({@link Committer}). This class opens and tunes the
 * database and closes it; the stores it opens are their own classes: the retained messages
 * ({@link RocksDbRetainedStore}), the sessions ({@link SessionStorage}, one {@link Generation} per session
 * generation) and their queues ({@link StoredQueues}).
 *
 * <h2>Layout</h2>
 *
 * <pre>
 * &lt;dataDir&gt;/db                one RocksDB: one write-ahead log, batches atomic across column families
 *  ├─ default (META)          "schema-version" → i32 (2)
 *  ├─ retained                topic (UTF-8) → message record ({@link MessageCodec})
 *  ├─ retained-index          topic (UTF-8) → size, expiry ({@link RocksDbRetainedStore}); read at start-up
 *  ├─ sessions                client id → session record (expiry, disconnection time, generation, Will)
 *  ├─ subscriptions           prefix ∥ filter (UTF-8) → subscription options
 *  ├─ messages                message id (i64) → message record, stored once however many queues hold it
 *  ├─ queues                  prefix ∥ seq (i64) → message id and delivery options; SingleDeleted when done
 *  ├─ inflight                prefix ∥ packet id (u16) → outbound QoS 2 state (PUBLISH sent / PUBREL pending)
 *  └─ inbound-qos2            prefix ∥ packet id (u16) → empty: QoS 2 ids awaiting PUBREL
 * prefix = u16 length ∥ client id (UTF-8) ∥ i64 generation, so one session generation's keys are contiguous;
 * integers big-endian, so keys sort numerically. The session spaces are described in {@link SessionStorage}.
 * </pre>
 *
 * <p>Column families rather than key prefixes, so that each key space has its own compaction and filter
 * settings and its own memtable, and one space's tombstones never slow down another's scans. {@link KeySpace}
 * lists them; {@link #SCHEMA_VERSION} changes when a record or key format changes incompatibly. A database with
 * a higher schema version, without one, or that RocksDB reports corrupt or locked is refused with a
 * {@link StoreException} that names the directory and what to do. A database of an older schema version is
 * migrated when it is opened: version 1 had no {@code retained-index}, which is then built from the retained records
 * (the only time they are all read).
 *
 * <h2>Memory</h2>
 *
 * One LRU cache of {@code blockCacheBytes + writeBufferBytes} is shared by every column family for data,
 * index and filter blocks; a {@code WriteBufferManager} limits all memtables together to
 * {@code writeBufferBytes} and charges them to the same cache. RocksDB's native memory is thus bounded by the
 * cache capacity plus small fixed overheads (table readers' metadata, the WAL buffer).
 *
 * <h2>Compaction</h2>
 *
 * The queue-like spaces (messages, queues, inflight, inbound-qos2) see keys that are written once, read once
 * and deleted soon after. Most such keys are deleted while still in the memtable; a flush then drops the value
 * and its SingleDelete together and nothing reaches disk. Those that outlive a memtable leave tombstones in SST
 * files, which would make every scan of a queue's head step over them: a compact-on-deletion collector marks any
 * file in which a sliding window of keys is mostly deletions, and RocksDB compacts it away early instead of
 * waiting for its level to fill. Level compaction with dynamic level sizes keeps space amplification around
 * 1.1 for these fast-changing spaces; they have no Bloom filters (they are scanned, not probed). The other spaces
 * (sessions, subscriptions, retained) are point-read and rarely changed: Bloom filters, default compaction.
 * LZ4 everywhere: cheap enough not to matter next to an fsync.
 *
 * <h2>Durability</h2>
 *
 * {@link #whenDurable(Runnable, Runnable)} runs its action once the calling thread's writes are committed:
 * {@link Fsync#ALWAYS} fsyncs the WAL with every group commit, {@link Fsync#OS} only writes it to the
 * page cache. Thread-safe; no method blocks an event loop (only {@link #open} and {@link #close} do I/O).
 *
 * <h2>Failures</h2>
 *
 * A commit that fails (disk full, I/O error) loses its writes; the acknowledgements that depend on them get their
 * failure action instead, and the store goes on trying (see {@link Committer}). RocksDB resumes by itself from a
 * full disk once there is room (the {@link SstFileManager} watches the free space); {@link #status()} and the log
 * say what state the store is in. A data directory removed or replaced while the broker runs is detected after
 * every commit ({@link StoreHealth}) and stops all acknowledgements that need the store until a restart.
 */
public final class RocksDbStore implements Store {

    /** The schema version this code writes and reads. */
    public static final int SCHEMA_VERSION = 2;

    static final byte[] SCHEMA_VERSION_KEY = "schema-version".getBytes(StandardCharsets.UTF_8);
    /** Written once a second while the store is failed, to find out when it writes again. */
    static final byte[] PROBE_KEY = "write-probe".getBytes(StandardCharsets.UTF_8);
    /** How long a shutdown goes on committing what is queued. */
    static final long CLOSE_DEADLINE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);

    private static final Logger LOG = LoggerFactory.getLogger(RocksDbStore.class);

    private final RocksDbConfig config;
    private final Path dbDir;
    private final RocksDB db;
    private final Map<KeySpace, ColumnFamilyHandle> handles;
    private final Deque<AutoCloseable> resources;
    private final Committer committer;
    private final StoreHealth health;
    private final RocksDbRetainedStore retainedDisk;
    private final RetainedStore retained;
    private final SessionStorage sessions;
    private boolean closed;

    private RocksDbStore(RocksDbConfig config, Path dbDir, RocksDB db, Map<KeySpace, ColumnFamilyHandle> handles,
            Deque<AutoCloseable> resources, Committer committer, StoreHealth health, RocksDbRetainedStore retainedDisk,
            RetainedStore retained, SessionStorage sessions) {
        this.config = config;
        this.dbDir = dbDir;
        this.db = db;
        this.handles = handles;
        this.resources = resources;
        this.committer = committer;
        this.health = health;
        this.retainedDisk = retainedDisk;
        this.retained = retained;
        this.sessions = sessions;
    }

    /** Opens (or creates) the store in {@code dataDir} with the default settings. */
    public static RocksDbStore open(Path dataDir) {
        return open(RocksDbConfig.defaults(dataDir));
    }

    /**
     * Opens the store, creating the directory and the database if they do not exist (migrating one of an older
     * schema version), loads the index of the retained messages (deleting expired ones; no payload is read) and
     * starts the committer.
     *
     * @throws StoreException if the directory is locked, corrupt, from a newer version or not Starling's
     */
    public static RocksDbStore open(RocksDbConfig config) {
        Path dataDir = config.dataDir().toAbsolutePath().normalize();
        Path dbDir = dataDir.resolve("db");
        RocksDB.loadLibrary();
        boolean exists = prepareDirectory(dataDir, dbDir);
        Deque<AutoCloseable> resources = new ArrayDeque<>();
        RocksDB db = null;
        try {
            Cache cache = track(resources, new LRUCache(config.blockCacheBytes() + config.writeBufferBytes()));
            DBOptions dbOptions = dbOptions(config, dbDir, cache, resources);
            Map<KeySpace, ColumnFamilyOptions> options = new EnumMap<>(KeySpace.class);
            for (KeySpace space : KeySpace.values()) {
                options.put(space, track(resources, columnFamilyOptions(space, config, cache, resources)));
            }
            // an existing database is opened with the column families it has, and only given the missing ones of
            // this version once its schema version has been checked: a foreign or newer database is not changed
            List<String> unknown = new ArrayList<>();
            List<ColumnFamilyDescriptor> descriptors = exists
                    ? existingFamilies(dataDir, dbDir, options, unknown, resources) : newFamilies(options);
            List<ColumnFamilyHandle> handleList = new ArrayList<>();
            try {
                db = RocksDB.open(dbOptions, dbDir.toString(), descriptors, handleList);
            } catch (RocksDBException e) {
                throw openFailure(dataDir, dbDir, e);
            }
            Map<KeySpace, ColumnFamilyHandle> handles = new EnumMap<>(KeySpace.class);
            for (int i = 0; i < handleList.size(); i++) {
                track(resources, handleList.get(i));
                KeySpace space = KeySpace.ofColumnFamily(descriptors.get(i).getName());
                if (space != null) {
                    handles.put(space, handleList.get(i));
                }
            }
            int schema = Schema.check(dataDir, db, handles.get(KeySpace.META), handleList, exists, unknown);
            createMissingFamilies(dbDir, db, handles, options, resources);
            if (schema < SCHEMA_VERSION) {
                Schema.migrate(dataDir, db, handles, schema);
            }
            return start(config, dataDir, dbDir, db, handles, resources);
        } catch (RuntimeException | Error e) {
            closeAll(resources, db);
            throw e;
        }
    }

    /** Creates the database directory if needed; returns whether a database exists in it. */
    private static boolean prepareDirectory(Path dataDir, Path dbDir) {
        try {
            Files.createDirectories(dbDir);
        } catch (IOException e) {
            throw new StoreException(StoreException.Reason.IO, "cannot create the data directory " + dbDir + " (" + e
                    + "); check the path and its permissions, or start with another --data-dir", e);
        }
        boolean exists = Files.exists(dbDir.resolve("CURRENT"));
        if (!exists) {
            checkNoStrayFiles(dataDir, dbDir);
        }
        return exists;
    }

    /** Database-wide options: memory bounded by the cache ({@link WriteBufferManager}), WAL and log sizes. */
    private static DBOptions dbOptions(RocksDbConfig config, Path dbDir, Cache cache, Deque<AutoCloseable> resources) {
        WriteBufferManager wbm = track(resources, new WriteBufferManager(config.writeBufferBytes(), cache));
        // with an SstFileManager, RocksDB resumes by itself from a full disk once there is room again
        SstFileManager files;
        try {
            files = track(resources, new SstFileManager(Env.getDefault()));
        } catch (RocksDBException e) {
            throw new StoreException(StoreException.Reason.IO, "cannot start RocksDB's file manager for " + dbDir + " ("
                    + e.getMessage() + ")", e);
        }
        return track(resources, new DBOptions()
                .setCreateIfMissing(true)
                .setCreateMissingColumnFamilies(true)
                .setWriteBufferManager(wbm)
                .setSstFileManager(files)
                // a rarely written column family must not keep old WAL files alive: flush it past this size
                .setMaxTotalWalSize(Math.max(64L << 20, 4 * config.writeBufferBytes()))
                .setMaxBackgroundJobs(2)
                .setBytesPerSync(1L << 20)
                .setInfoLogLevel(InfoLogLevel.WARN_LEVEL)
                .setKeepLogFileNum(5)
                .setMaxLogFileSize(8L << 20));
    }

    /** The column families of a new database: every key space of this version. */
    private static List<ColumnFamilyDescriptor> newFamilies(Map<KeySpace, ColumnFamilyOptions> options) {
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        for (KeySpace space : KeySpace.values()) {
            descriptors.add(new ColumnFamilyDescriptor(space.columnFamilyBytes(), options.get(space)));
        }
        return descriptors;
    }

    /**
     * The column families an existing database has (RocksDB opens a database only with all of them); those this
     * version does not know are added to {@code unknown}.
     */
    private static List<ColumnFamilyDescriptor> existingFamilies(Path dataDir, Path dbDir,
            Map<KeySpace, ColumnFamilyOptions> options, List<String> unknown, Deque<AutoCloseable> resources) {
        List<byte[]> names = new ArrayList<>(listColumnFamilies(dataDir, dbDir));
        if (names.stream().noneMatch(n -> KeySpace.ofColumnFamily(n) == KeySpace.META)) {
            // a broken CURRENT lists nothing: let RocksDB.open say what is wrong
            names.add(0, KeySpace.META.columnFamilyBytes());
        }
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        for (byte[] name : names) {
            KeySpace space = KeySpace.ofColumnFamily(name);
            if (space == null) {
                // a newer version's column family
                unknown.add(new String(name, StandardCharsets.UTF_8));
            }
            descriptors.add(new ColumnFamilyDescriptor(name,
                    space != null ? options.get(space) : track(resources, new ColumnFamilyOptions())));
        }
        return descriptors;
    }

    /** Creates the column families of this version that an older database lacks (after its schema was checked). */
    private static void createMissingFamilies(Path dbDir, RocksDB db, Map<KeySpace, ColumnFamilyHandle> handles,
            Map<KeySpace, ColumnFamilyOptions> options, Deque<AutoCloseable> resources) {
        for (KeySpace space : KeySpace.values()) {
            if (!handles.containsKey(space)) {
                try {
                    handles.put(space, track(resources, db.createColumnFamily(
                            new ColumnFamilyDescriptor(space.columnFamilyBytes(), options.get(space)))));
                } catch (RocksDBException e) {
                    throw new StoreException(StoreException.Reason.IO, "cannot create the column family "
                            + space.columnFamily() + " in " + dbDir + " (" + e.getMessage() + "); check that the"
                            + " directory is writable and the disk is not full", e);
                }
            }
        }
    }

    /**
     * Starts the stores on an open database: the committer, the retained messages (their index loaded), the sessions
     * and their queues.
     */
    private static RocksDbStore start(RocksDbConfig config, Path dataDir, Path dbDir, RocksDB db,
            Map<KeySpace, ColumnFamilyHandle> handles, Deque<AutoCloseable> resources) {
        WriteOptions writeOptions = track(resources, new WriteOptions().setSync(config.fsync() == Fsync.ALWAYS));
        StoreHealth health = new StoreHealth(dbDir);
        Committer committer = new Committer(db, writeOptions, config.maxBatchOps(), CLOSE_DEADLINE_NANOS, health,
                "starling-store-committer");
        committer.probe(handles.get(KeySpace.META), PROBE_KEY);
        // closed before the database in close(); at a failed open nothing has read yet
        RocksDbRetainedStore retainedDisk = track(resources, new RocksDbRetainedStore(db, committer,
                handles.get(KeySpace.RETAINED), handles.get(KeySpace.RETAINED_INDEX)));
        RetainedStore retained = new RetainedStore(retainedDisk);
        long t0 = System.nanoTime();
        loadRetained(dataDir, db, handles, retained);
        long loadMs = (System.nanoTime() - t0) / 1_000_000;
        StoredQueues queues;
        try {
            queues = new StoredQueues(db, committer, handles, config.maxQueuedMessages(), config.maxQueuedBytes(),
                    config.maxStoredBytesTotal());
        } catch (RocksDBException e) {
            throw corrupt(dataDir, "cannot read the queue position counter: " + e.getMessage(), e);
        }
        SessionStorage sessions = new SessionStorage(dataDir, db, committer, handles, queues);
        committer.background(sessions.deleter);
        RocksDbStore store = new RocksDbStore(config, dbDir, db, handles, resources, committer, health, retainedDisk,
                retained, sessions);
        committer.start();
        LOG.info("store opened in {} ({} retained messages, their index read in {} ms; fsync: {})", dbDir,
                retained.size(), loadMs, config.fsync().configValue());
        return store;
    }

    private static ColumnFamilyOptions columnFamilyOptions(KeySpace space, RocksDbConfig config, Cache cache,
            Deque<AutoCloseable> resources) {
        BlockBasedTableConfig table = new BlockBasedTableConfig()
                .setBlockCache(cache)
                .setCacheIndexAndFilterBlocks(true)
                .setCacheIndexAndFilterBlocksWithHighPriority(true)
                .setPinL0FilterAndIndexBlocksInCache(true)
                .setBlockSize(16L << 10);
        if (!space.queueLike()) {
            table.setFilterPolicy(track(resources, new BloomFilter(10)));
        }
        long memtable = Math.min(space.queueLike() ? 16L << 20 : 4L << 20, config.writeBufferBytes() / 2);
        if (space.queueLike()) {
            // the collector factory can only be set on Options; copy the column-family part of it
            try (Options options = new Options()) {
                // a file is marked for compaction when 2,048 of any 4,096 consecutive keys are deletions
                options.setTablePropertiesCollectorFactory(List.of(track(resources,
                        TablePropertiesCollectorFactory.NewCompactOnDeletionCollectorFactory(4096, 2048, 0.5))));
                return configure(new ColumnFamilyOptions(options), table, memtable);
            }
        }
        return configure(new ColumnFamilyOptions(), table, memtable);
    }

    private static ColumnFamilyOptions configure(ColumnFamilyOptions cf, BlockBasedTableConfig table, long memtable) {
        return cf.setTableFormatConfig(table)
                .setWriteBufferSize(memtable)
                .setMaxWriteBufferNumber(3)
                .setCompactionStyle(CompactionStyle.LEVEL)
                .setLevelCompactionDynamicLevelBytes(true)
                .setCompactionPriority(CompactionPriority.MinOverlappingRatio)
                .setCompressionType(CompressionType.LZ4_COMPRESSION);
    }

    /** A directory without a database may hold RocksDB's LOCK and LOG files of an interrupted creation, nothing else. */
    private static void checkNoStrayFiles(Path dataDir, Path dbDir) {
        List<String> stray;
        try (Stream<Path> files = Files.list(dbDir)) {
            stray = files.map(p -> p.getFileName().toString())
                    .filter(n -> !n.equals("LOCK") && !n.startsWith("LOG"))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new StoreException(StoreException.Reason.IO, "cannot read the data directory " + dbDir + " (" + e
                    + "); check its permissions, or start with another --data-dir", e);
        }
        if (!stray.isEmpty()) {
            throw new StoreException(StoreException.Reason.FOREIGN, "data directory " + dataDir + " holds files that are not a"
                    + " Starling database (" + dbDir + " has " + String.join(", ", stray.subList(0, Math.min(5, stray.size())))
                    + (stray.size() > 5 ? ", ..." : "") + " but no CURRENT file); move them away, or start with another --data-dir");
        }
    }

    private static List<byte[]> listColumnFamilies(Path dataDir, Path dbDir) {
        try (Options options = new Options()) {
            return RocksDB.listColumnFamilies(options, dbDir.toString());
        } catch (RocksDBException e) {
            throw openFailure(dataDir, dbDir, e);
        }
    }

    /** Turns a RocksDB error at open into a message for the operator. */
    static StoreException openFailure(Path dataDir, Path dbDir, RocksDBException e) {
        Status status = e.getStatus();
        Status.Code code = status == null ? null : status.getCode();
        String detail = e.getMessage();
        String lower = detail == null ? "" : detail.toLowerCase(Locale.ROOT);
        // "While lock file: <dir>/LOCK: Resource temporarily unavailable" (another process),
        // "lock hold by current process ... <dir>/LOCK: No locks available" (this one); not "block checksum mismatch"
        if (code != Status.Code.Corruption && (detail != null && detail.contains("/LOCK") || lower.contains("lock hold")
                || lower.contains("lock file"))) {
            return new StoreException(StoreException.Reason.LOCKED, "data directory " + dataDir + " is in use by another"
                    + " Starling process (lock held on " + dbDir.resolve("LOCK") + "); stop that process, or start this one"
                    + " with another --data-dir", e);
        }
        if (code == Status.Code.Corruption || lower.contains("corrupt") || lower.contains("current")
                || lower.contains("manifest") || lower.contains("no such file")) {
            return corrupt(dataDir, detail, e);
        }
        return new StoreException(StoreException.Reason.IO, "cannot open data directory " + dataDir + " (" + detail
                + "); check that it is readable and writable and the disk is not full", e);
    }

    static StoreException corrupt(Path dataDir, String detail, Throwable cause) {
        return new StoreException(StoreException.Reason.CORRUPT, "data directory " + dataDir + " is corrupt (" + detail
                + "); restore it from a backup, or move it away to start with an empty one (the sessions, queued and"
                + " retained messages in it are then lost)", cause);
    }

    /**
     * Loads the index of the retained messages into {@code retained}, reading only the {@code retained-index} entries,
     * never a payload; deletes the expired messages.
     */
    private static void loadRetained(Path dataDir, RocksDB db, Map<KeySpace, ColumnFamilyHandle> handles,
            RetainedStore retained) {
        ColumnFamilyHandle records = handles.get(KeySpace.RETAINED);
        ColumnFamilyHandle index = handles.get(KeySpace.RETAINED_INDEX);
        long now = System.currentTimeMillis();
        try (ReadOptions scan = new ReadOptions().setFillCache(false); RocksIterator it = db.newIterator(index, scan);
                WriteBatch expired = new WriteBatch(); WriteOptions options = new WriteOptions()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                byte[] key = it.key();
                String topic = new String(key, StandardCharsets.UTF_8);
                long[] entry;
                try {
                    entry = RocksDbRetainedStore.decodeIndexEntry(it.value());
                } catch (IllegalArgumentException e) {
                    throw corrupt(dataDir, "the retained message index of topic \"" + topic + "\" cannot be read: "
                            + e.getMessage(), e);
                }
                if (entry[1] <= now) {
                    expired.delete(records, key);
                    expired.delete(index, key);
                } else {
                    retained.load(topic, (int) entry[0], entry[1]);
                }
            }
            it.status();
            if (expired.count() > 0) {
                db.write(options, expired);
            }
        } catch (RocksDBException e) {
            throw corrupt(dataDir, "reading the retained message index failed: " + e.getMessage(), e);
        }
    }

    private static <T extends AutoCloseable> T track(Deque<AutoCloseable> resources, T resource) {
        resources.push(resource);
        return resource;
    }

    /** Closes column family handles, then the database, then options, cache and write buffer manager. */
    private static void closeAll(Deque<AutoCloseable> resources, RocksDB db) {
        Deque<AutoCloseable> rest = new ArrayDeque<>();
        while (!resources.isEmpty()) {
            AutoCloseable r = resources.pop();
            if (r instanceof ColumnFamilyHandle h) {
                h.close();
            } else {
                rest.addLast(r);
            }
        }
        if (db != null) {
            db.close();
        }
        for (AutoCloseable r : rest) {
            try {
                r.close();
            } catch (Exception e) {
                LOG.warn("closing a RocksDB resource failed", e);
            }
        }
    }

    @Override
    public RetainedStore retained() {
        return retained;
    }

    @Override
    public SessionStore sessions() {
        return sessions;
    }

    @Override
    public QueueStore queues() {
        return sessions.queues;
    }

    @Override
    public void atomically(Runnable writes) {
        committer.beginGroup();
        try {
            writes.run();
        } finally {
            committer.endGroup();
        }
    }

    /**
     * Runs {@code action} once every write that the calling thread queued before this call is committed (with
     * fsync in {@link Fsync#ALWAYS}): on the calling thread's Netty event loop (found with Netty's
     * {@code ThreadExecutorMap}), or on the committer thread when called from a thread that is not an event loop.
     * If the calling thread has nothing pending and no earlier action of it is still to run, it runs at once, inline.
     * Actions of one thread run in the order they were passed. If a critical write the calling thread queued since its
     * previous call was lost in a failed commit, {@code onFailure} runs instead, in the same place and order (see
     * {@link Committer}).
     *
     * <p>Cost when nothing is pending (QoS 0, clean sessions): one {@code FastThreadLocal} read (an array index on
     * Netty's threads) and a few field reads, no allocation. Otherwise: one small object and one queue offer here,
     * one task posted to the loop by the committer.
     */
    @Override
    public void whenDurable(Runnable action, Runnable onFailure) {
        committer.whenDurable(action, onFailure);
    }

    /** As {@link #whenDurable(Runnable, Runnable)} with nothing to do on failure; for tests and tools. */
    public void whenDurable(Runnable action) {
        committer.whenDurable(action, () -> { });
    }

    /**
     * As {@link #whenDurable(Runnable, Runnable)}, running on {@code loop}; inline only if nothing is pending and the
     * calling thread is {@code loop}'s thread.
     */
    public void whenDurable(EventExecutor loop, Runnable action, Runnable onFailure) {
        committer.whenDurable(loop, action, onFailure);
    }

    /** As {@link #whenDurable(EventExecutor, Runnable, Runnable)} with nothing to do on failure; for tests and tools. */
    public void whenDurable(EventExecutor loop, Runnable action) {
        committer.whenDurable(loop, action, () -> { });
    }

    /** Queues a put into {@code space}; returns at once. Durable once a later {@link #whenDurable} action runs. */
    public void put(KeySpace space, byte[] key, byte[] value) {
        committer.put(handles.get(space), key, value);
    }

    /** Queues a delete from {@code space}; returns at once. */
    public void delete(KeySpace space, byte[] key) {
        committer.delete(handles.get(space), key);
    }

    /**
     * Queues a SingleDelete from {@code space}: cheaper than {@link #delete} and gone with its put at the next
     * flush or compaction, but only correct for a key put once since it was last deleted (queue entries).
     */
    public void singleDelete(KeySpace space, byte[] key) {
        committer.singleDelete(handles.get(space), key);
    }

    /**
     * Reads a key as committed (not what is still queued). Blocks on disk I/O: for recovery and tests, not for an
     * event loop.
     */
    public byte[] get(KeySpace space, byte[] key) {
        try {
            return db.get(handles.get(space), key);
        } catch (RocksDBException e) {
            throw new StoreException(StoreException.Reason.IO, "reading " + space.columnFamily() + " in " + dbDir + " failed: "
                    + e.getMessage(), e);
        }
    }

    /** Calls {@code sink} with every committed entry of {@code space}, in key order. Blocks: for recovery and tests. */
    public void forEach(KeySpace space, BiConsumer<byte[], byte[]> sink) {
        try (RocksIterator it = db.newIterator(handles.get(space))) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                sink.accept(it.key(), it.value());
            }
            it.status();
        } catch (RocksDBException e) {
            throw new StoreException(StoreException.Reason.IO, "reading " + space.columnFamily() + " in " + dbDir + " failed: "
                    + e.getMessage(), e);
        }
    }

    @Override
    public StoreStatus status() {
        return health.status();
    }

    @Override
    public StoreStats stats() {
        return stats;
    }

    /** The figures of {@link #stats()}: the committer's counters, the size of the files in {@code db}. */
    private final StoreStats stats = new StoreStats() {
        @Override
        public long commits() {
            return committer.batches();
        }

        @Override
        public long bytesWritten() {
            return committer.bytesWritten();
        }

        @Override
        public long diskUsedBytes() {
            return directorySize(dbDir);
        }

        @Override
        public long queuedBytes() {
            StoredQueues q = sessions.queues;
            return q == null ? 0 : q.storedBytesTotal;
        }

        @Override
        public void observeCommits(CommitObserver observer) {
            committer.observer(observer);
        }
    };

    /** The bytes of the regular files directly in {@code dir} (RocksDB keeps all its files there); 0 if unreadable. */
    static long directorySize(Path dir) {
        long total = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                try {
                    if (Files.isRegularFile(f)) {
                        total += Files.size(f);
                    }
                } catch (IOException e) {
                    // deleted meanwhile (a finished compaction, an old log): not there any more
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return total;
    }

    /** The column family of a key space, for tests that queue tasks of their own. */
    ColumnFamilyHandle handle(KeySpace space) {
        return handles.get(space);
    }

    /** The committer, for tests that need to hold it back. */
    Committer committer() {
        return committer;
    }

    /** The configuration it was opened with. */
    public RocksDbConfig config() {
        return config;
    }

    /** The database directory, {@code <dataDir>/db}. */
    public Path dbDir() {
        return dbDir;
    }

    /** Group commits so far (one {@code RocksDB.write}, and one fsync in {@link Fsync#ALWAYS}, each). */
    public long commitCount() {
        return committer.batches();
    }

    /** Write operations committed so far. */
    public long committedWrites() {
        return committer.writes();
    }

    /**
     * Commits what is queued, stops the committer, syncs the WAL (so that a clean shutdown is durable in
     * {@link Fsync#OS} too) and closes the database. Later writes are dropped. Blocks: call it once the event
     * loops have stopped.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        committer.close();
        retainedDisk.close(); // no read may run on a closed database
        try {
            if (!health.isFailed()) {
                db.syncWal();
            }
        } catch (RocksDBException e) {
            LOG.warn("syncing the WAL of {} at close failed", dbDir, e);
        }
        closeAll(resources, db);
        LOG.info("store closed: {}", dbDir);
    }
}
