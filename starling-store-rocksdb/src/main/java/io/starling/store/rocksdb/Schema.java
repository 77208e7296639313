package io.starling.store.rocksdb;

import io.starling.broker.message.Message;
import io.starling.broker.retain.RetainedStore;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
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
 * The schema version of a database ({@link RocksDbStore#SCHEMA_VERSION}): checked when it is opened, written into a
 * new one, and brought up to date in an older one. Blocking; at open, before anything else reads the database.
 */
final class Schema {

    private static final Logger LOG = LoggerFactory.getLogger(Schema.class);

    private Schema() {
    }

    /** Checks the schema version, writing the current one into a new database; returns the version found. */
    static int check(Path dataDir, RocksDB db, ColumnFamilyHandle meta, List<ColumnFamilyHandle> all,
            boolean existed, List<String> unknownFamilies) {
        try {
            byte[] version = db.get(meta, RocksDbStore.SCHEMA_VERSION_KEY);
            if (version == null) {
                if (existed && !isEmpty(db, all)) {
                    throw new StoreException(StoreException.Reason.FOREIGN, "data directory " + dataDir + " holds a database"
                            + " that was not written by Starling (it has no schema version); move it away, or start with"
                            + " another --data-dir");
                }
                writeSchemaVersion(db, meta);
                return RocksDbStore.SCHEMA_VERSION;
            }
            if (version.length != 4) {
                throw RocksDbStore.corrupt(dataDir, "its schema version is " + version.length + " bytes long, not 4", null);
            }
            int v = ByteBuffer.wrap(version).getInt();
            if (v > RocksDbStore.SCHEMA_VERSION) {
                throw new StoreException(StoreException.Reason.INCOMPATIBLE, "data directory " + dataDir + " was written by"
                        + " a newer version of Starling (schema version " + v + "; this version reads up to " + RocksDbStore.SCHEMA_VERSION
                        + "); run that newer version, or start with another --data-dir");
            }
            if (v < 1) {
                throw RocksDbStore.corrupt(dataDir, "its schema version is " + v, null);
            }
            if (!unknownFamilies.isEmpty()) {
                LOG.warn("data directory {} has column families this version does not know: {}", dataDir, unknownFamilies);
            }
            return v;
        } catch (RocksDBException e) {
            throw RocksDbStore.corrupt(dataDir, "cannot read its schema version: " + e.getMessage(), e);
        }
    }

    private static void writeSchemaVersion(RocksDB db, ColumnFamilyHandle meta) throws RocksDBException {
        try (WriteOptions sync = new WriteOptions().setSync(true)) {
            db.put(meta, sync, RocksDbStore.SCHEMA_VERSION_KEY, ByteBuffer.allocate(4).putInt(RocksDbStore.SCHEMA_VERSION).array());
        }
    }

    /**
     * Brings a database of an older schema version to this one, then records the new version (synced). A crash in
     * the middle leaves the old version recorded, and the migration runs again: each step is idempotent. From version
     * 1: session keys get their generation (0) and session records their new format, one session per atomic batch
     * ({@link #fromVersion1}); the {@code retained-index} that start-up reads instead of the
     * retained records is built from them (which reads every payload once).
     */
    static void migrate(Path dataDir, RocksDB db, Map<KeySpace, ColumnFamilyHandle> handles, int from) {
        long t0 = System.nanoTime();
        try {
            long rewritten = 0;
            long retained = 0;
            if (from < 2) {
                rewritten += fromVersion1(db, handles);
                retained = buildRetainedIndex(dataDir, db, handles);
            }
            db.syncWal();
            writeSchemaVersion(db, handles.get(KeySpace.META));
            LOG.info("data directory {} migrated from schema version {} to {} ({} session records rewritten, index of {}"
                    + " retained message(s) built) in {} ms", dataDir, from, RocksDbStore.SCHEMA_VERSION, rewritten, retained,
                    (System.nanoTime() - t0) / 1_000_000);
        } catch (RocksDBException e) {
            throw new StoreException(StoreException.Reason.IO, "migrating data directory " + dataDir + " from schema version "
                    + from + " to " + RocksDbStore.SCHEMA_VERSION + " failed (" + e.getMessage() + "); check that it is writable and"
                    + " the disk is not full, then start again (the migration starts over)", e);
        }
    }

    private static boolean isEmpty(RocksDB db, List<ColumnFamilyHandle> all) {
        for (ColumnFamilyHandle h : all) {
            try (RocksIterator it = db.newIterator(h)) {
                it.seekToFirst();
                if (it.isValid()) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Builds the {@code retained-index} from the retained records (schema version 1 had none); returns their number. */
    private static long buildRetainedIndex(Path dataDir, RocksDB db, Map<KeySpace, ColumnFamilyHandle> handles)
            throws RocksDBException {
        ColumnFamilyHandle records = handles.get(KeySpace.RETAINED);
        ColumnFamilyHandle index = handles.get(KeySpace.RETAINED_INDEX);
        long n = 0;
        try (RocksIterator it = db.newIterator(records); WriteBatch batch = new WriteBatch();
                WriteOptions plain = new WriteOptions()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                byte[] key = it.key();
                Message m;
                try {
                    m = MessageCodec.decode(it.value());
                } catch (IllegalArgumentException e) {
                    throw RocksDbStore.corrupt(dataDir, "the retained message of topic \"" + new String(key, StandardCharsets.UTF_8)
                            + "\" cannot be read: " + e.getMessage(), e);
                }
                batch.put(index, key, RocksDbRetainedStore.indexEntry(RetainedStore.sizeOf(m), m.expiresAtMillis()));
                n++;
                if (batch.count() >= 10_000) {
                    db.write(plain, batch);
                    batch.clear();
                }
            }
            it.status();
            db.write(plain, batch);
        }
        return n;
    }

    /**
     * Rewrites a database of schema version 1 (keys prefixed by the client id alone, session records of version 1)
     * into version 2 (generation 0 of every session), one session per atomic batch: a session whose record is of
     * version 2 is done, so a migration interrupted by a crash goes on where it stopped. Keys of no session are left
     * to recovery, which deletes them. Blocking; at open, before anything else reads the sessions.
     */
    private static long fromVersion1(RocksDB db, Map<KeySpace, ColumnFamilyHandle> handles) throws RocksDBException {
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
                byte[] oldPrefix = SessionKeys.prefix(cid, 0);
                oldPrefix = Arrays.copyOf(oldPrefix, oldPrefix.length - 8); // u16 length ∥ client id
                try (WriteBatch batch = new WriteBatch()) {
                    for (ColumnFamilyHandle cf : spaces) {
                        try (Slice upper = new Slice(SessionKeys.successor(oldPrefix));
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
                    record.put((byte) Generation.RECORD_VERSION).putLong(expiry).putLong(at).putLong(0L).put(rest);
                    batch.put(sessions, records.key(), record.array());
                    rewritten += batch.count();
                    db.write(wo, batch);
                }
            }
            records.status();
        }
        return rewritten;
    }
}
