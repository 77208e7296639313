package io.starling.store.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;

/** A data directory that cannot be used gives a StoreException naming the directory and what to do. */
class RocksDbStoreErrorsTest {

    @TempDir
    Path dir;

    @Test
    void lockedDirectory() {
        try (RocksDbStore first = RocksDbStore.open(dir)) {
            assertThatThrownBy(() -> RocksDbStore.open(dir))
                    .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.LOCKED))
                    .hasMessageContaining("data directory " + dir.toAbsolutePath())
                    .hasMessageContaining("in use by another Starling process")
                    .hasMessageContaining("--data-dir");
            // the first store is unaffected
            first.put(KeySpace.META, "k".getBytes(StandardCharsets.UTF_8), new byte[] {1});
        }
        // and once it is closed the directory opens again
        RocksDbStore.open(dir).close();
    }

    @Test
    void lockedByAnotherProcess() throws Exception {
        Path acked = dir.resolve("acked");
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-cp", System.getProperty("java.class.path"), CrashChild.class.getName(),
                dir.resolve("data").toString(), "os", acked.toString(), "0")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("child.log").toFile())
                .start();
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                    .until(() -> !child.isAlive() || (Files.exists(acked) && Files.size(acked) > 0));
            assertThat(child.isAlive()).isTrue();
            assertThatThrownBy(() -> RocksDbStore.open(dir.resolve("data")))
                    .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.LOCKED))
                    .hasMessageContaining("data directory " + dir.resolve("data").toAbsolutePath())
                    .hasMessageContaining("in use by another Starling process");
        } finally {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void corruptCurrentFile() throws Exception {
        RocksDbStore.open(dir).close();
        Files.write(dir.resolve("db").resolve("CURRENT"), new byte[] {(byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef});
        assertThatThrownBy(() -> RocksDbStore.open(dir))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.CORRUPT))
                .hasMessageContaining("data directory " + dir.toAbsolutePath() + " is corrupt")
                .hasMessageContaining("restore it from a backup");
    }

    @Test
    void currentFileNamingAMissingManifest() throws Exception {
        RocksDbStore.open(dir).close();
        Files.writeString(dir.resolve("db").resolve("CURRENT"), "MANIFEST-999999\n");
        assertThatThrownBy(() -> RocksDbStore.open(dir))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.CORRUPT))
                .hasMessageContaining("data directory " + dir.toAbsolutePath() + " is corrupt");
    }

    @Test
    void newerSchemaVersion() throws Exception {
        RocksDbStore.open(dir).close();
        withRawDb(dir.resolve("db"), (db, handles) ->
                db.put(handles.get(0), RocksDbStore.SCHEMA_VERSION_KEY, ByteBuffer.allocate(4).putInt(999).array()));
        assertThatThrownBy(() -> RocksDbStore.open(dir))
                .isInstanceOfSatisfying(StoreException.class,
                        e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.INCOMPATIBLE))
                .hasMessageContaining("data directory " + dir.toAbsolutePath())
                .hasMessageContaining("newer version of Starling (schema version 999; this version reads up to "
                        + RocksDbStore.SCHEMA_VERSION + ")");
    }

    @Test
    void newerVersionWithAColumnFamilyThisVersionDoesNotKnow() throws Exception {
        RocksDbStore.open(dir).close();
        withRawDb(dir.resolve("db"), (db, handles) -> {
            db.put(handles.get(0), RocksDbStore.SCHEMA_VERSION_KEY,
                    ByteBuffer.allocate(4).putInt(RocksDbStore.SCHEMA_VERSION + 1).array());
            db.createColumnFamily(new ColumnFamilyDescriptor("from-the-future".getBytes(StandardCharsets.UTF_8))).close();
        });
        assertThatThrownBy(() -> RocksDbStore.open(dir))
                .isInstanceOfSatisfying(StoreException.class,
                        e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.INCOMPATIBLE))
                .hasMessageContaining("schema version " + (RocksDbStore.SCHEMA_VERSION + 1));
    }

    @Test
    void foreignRocksDb() throws Exception {
        Path db = dir.resolve("db");
        Files.createDirectories(db);
        try (Options options = new Options().setCreateIfMissing(true); RocksDB raw = RocksDB.open(options, db.toString())) {
            raw.put("someone".getBytes(StandardCharsets.UTF_8), "else's".getBytes(StandardCharsets.UTF_8));
        }
        assertThatThrownBy(() -> RocksDbStore.open(dir))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.FOREIGN))
                .hasMessageContaining("data directory " + dir.toAbsolutePath())
                .hasMessageContaining("not written by Starling");
        // and it was not given Starling's column families
        try (Options options = new Options()) {
            assertThat(RocksDB.listColumnFamilies(options, db.toString())).hasSize(1);
        }
    }

    @Test
    void databaseCreatedByAnEarlierVersionWithFewerColumnFamiliesGetsTheMissingOnes() throws Exception {
        Path db = dir.resolve("db");
        Files.createDirectories(db);
        try (Options options = new Options().setCreateIfMissing(true); RocksDB raw = RocksDB.open(options, db.toString())) {
            raw.put(RocksDbStore.SCHEMA_VERSION_KEY, ByteBuffer.allocate(4).putInt(1).array());
        }
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            store.put(KeySpace.QUEUES, "k".getBytes(StandardCharsets.UTF_8), new byte[] {1});
        }
        try (Options options = new Options()) {
            assertThat(RocksDB.listColumnFamilies(options, db.toString())).hasSize(KeySpace.values().length);
        }
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            assertThat(store.get(KeySpace.QUEUES, "k".getBytes(StandardCharsets.UTF_8))).containsExactly(1);
        }
    }

    @Test
    void strayFilesWithoutADatabase() throws Exception {
        Path db = dir.resolve("db");
        Files.createDirectories(db);
        Files.writeString(db.resolve("notes.txt"), "not a database");
        assertThatThrownBy(() -> RocksDbStore.open(dir))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.FOREIGN))
                .hasMessageContaining("notes.txt")
                .hasMessageContaining("no CURRENT file");
    }

    @Test
    void undecodableRetainedIndexEntry() throws Exception {
        // start-up reads the index of the retained messages (a damaged record is found when it is read, see
        // RocksDbRetainedStoreTest; a damaged record of a schema 1 database when it is migrated, see SchemaMigrationTest)
        RocksDbStore.open(dir).close();
        withRawDb(dir.resolve("db"), (db, handles) -> db.put(handles.get(KeySpace.RETAINED_INDEX.ordinal()),
                "bad/topic".getBytes(StandardCharsets.UTF_8), new byte[] {7, 7}));
        assertThatThrownBy(() -> RocksDbStore.open(dir))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.CORRUPT))
                .hasMessageContaining("bad/topic")
                .hasMessageContaining("unknown version 7");
        // a failed open releases the lock: a later open fails the same way, not with "in use"
        assertThatThrownBy(() -> RocksDbStore.open(dir))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.CORRUPT));
    }

    private interface RawDbAction {
        void run(RocksDB db, List<ColumnFamilyHandle> handles) throws Exception;
    }

    /** Opens a database with plain RocksDB, every column family in the order of {@link KeySpace}. */
    private static void withRawDb(Path path, RawDbAction action) throws Exception {
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        for (KeySpace space : KeySpace.values()) {
            descriptors.add(new ColumnFamilyDescriptor(space.columnFamilyBytes()));
        }
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try (DBOptions options = new DBOptions(); RocksDB db = RocksDB.open(options, path.toString(), descriptors, handles)) {
            try {
                action.run(db, handles);
            } finally {
                handles.forEach(ColumnFamilyHandle::close);
            }
        }
    }
}
