package io.starling.store.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.starling.broker.message.Message;
import io.starling.codec.Properties;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksIterator;

/**
 * A database written in schema version 1 (retained messages as records only, no {@code retained-index}) is migrated
 * when it is opened: the index is built from the records, the schema version becomes 2, and everything in it is
 * still there.
 */
class SchemaMigrationTest {

    /** The column families of a schema version 1 database, as that version created them. */
    private static final List<String> V1_FAMILIES = List.of("default", "retained", "sessions", "subscriptions", "messages",
            "queues", "inflight", "inbound-qos2");

    @TempDir
    Path dir;

    /** Writes a schema version 1 database with these retained records and one entry in the sessions family. */
    private void writeVersion1(List<Message> retained, byte[]... rawRecords) throws Exception {
        Path db = dir.resolve("db");
        Files.createDirectories(db);
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        for (String name : V1_FAMILIES) {
            descriptors.add(new ColumnFamilyDescriptor(name.getBytes(StandardCharsets.UTF_8)));
        }
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try (DBOptions options = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
                RocksDB raw = RocksDB.open(options, db.toString(), descriptors, handles)) {
            try {
                raw.put(handles.get(0), RocksDbStore.SCHEMA_VERSION_KEY, ByteBuffer.allocate(4).putInt(1).array());
                for (Message m : retained) {
                    raw.put(handles.get(1), m.topic().getBytes(StandardCharsets.UTF_8), MessageCodec.encode(m));
                }
                for (int i = 0; i + 1 < rawRecords.length; i += 2) {
                    raw.put(handles.get(1), rawRecords[i], rawRecords[i + 1]);
                }
            } finally {
                handles.forEach(ColumnFamilyHandle::close);
            }
        }
    }

    private static int schemaVersion(RocksDbStore store) {
        return ByteBuffer.wrap(store.get(KeySpace.META, RocksDbStore.SCHEMA_VERSION_KEY)).getInt();
    }

    @Test
    void version1RetainedMessagesAreIndexedAndKept() throws Exception {
        long now = System.currentTimeMillis();
        Message plain = new Message("old/plain", 0, true, "p".getBytes(StandardCharsets.UTF_8), Properties.EMPTY, null,
                Message.NEVER);
        Message full = new Message("old/full/ü", 2, true, new byte[5000], Properties.builder().contentType("x/y")
                .messageExpiryInterval(3600L).addUserProperty("k", "v").build(), "publisher", now + 3_600_000L);
        Message expired = new Message("old/expired", 1, true, new byte[] {1}, Properties.builder().messageExpiryInterval(1L)
                .build(), "publisher", now - 1000);
        writeVersion1(List.of(plain, full, expired));

        try (RocksDbStore store = RocksDbStore.open(dir)) {
            assertThat(schemaVersion(store)).isEqualTo(2);
            assertThat(store.retained().size()).as("the expired one is dropped at the first start").isEqualTo(2);
            assertThat(store.retained().heldPayloadBytes()).isZero();
            List<Message> got = Retained.match(store.retained(), "#");
            assertThat(got).extracting(Message::topic).containsExactly("old/full/ü", "old/plain");
            assertThat(got.get(0).payload()).hasSize(5000);
            assertThat(got.get(0).properties()).isEqualTo(full.properties());
            assertThat(got.get(0).expiresAtMillis()).isEqualTo(full.expiresAtMillis());
            assertThat(got.get(0).publisherId()).isEqualTo("publisher");
            assertThat(store.get(KeySpace.RETAINED, "old/expired".getBytes(StandardCharsets.UTF_8))).isNull();
            List<String> indexed = new ArrayList<>();
            store.forEach(KeySpace.RETAINED_INDEX, (k, v) -> indexed.add(new String(k, StandardCharsets.UTF_8)));
            assertThat(indexed).containsExactly("old/full/ü", "old/plain");
        }
        // opened again: nothing to migrate, the same messages
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            assertThat(schemaVersion(store)).isEqualTo(2);
            assertThat(Retained.match(store.retained(), "old/+")).extracting(Message::topic).containsExactly("old/plain");
            assertThat(Retained.match(store.retained(), "old/#")).hasSize(2);
        }
    }

    @Test
    void aDamagedVersion1RecordStopsTheMigrationAndLeavesTheDatabaseAtVersion1() throws Exception {
        Message ok = new Message("ok", 0, true, "p".getBytes(StandardCharsets.UTF_8), Properties.EMPTY, null, Message.NEVER);
        writeVersion1(List.of(ok), "bad/topic".getBytes(StandardCharsets.UTF_8), new byte[] {7, 7});
        assertThatThrownBy(() -> RocksDbStore.open(dir))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.CORRUPT))
                .hasMessageContaining("bad/topic")
                .hasMessageContaining("unknown version 7");
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        for (KeySpace space : KeySpace.values()) {
            descriptors.add(new ColumnFamilyDescriptor(space.columnFamilyBytes()));
        }
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try (DBOptions options = new DBOptions();
                RocksDB raw = RocksDB.open(options, dir.resolve("db").toString(), descriptors, handles)) {
            try {
                assertThat(ByteBuffer.wrap(raw.get(handles.get(0), RocksDbStore.SCHEMA_VERSION_KEY)).getInt()).isEqualTo(1);
                try (RocksIterator it = raw.newIterator(handles.get(KeySpace.RETAINED.ordinal()))) {
                    it.seekToFirst();
                    assertThat(it.isValid()).as("the records are untouched").isTrue();
                }
            } finally {
                handles.forEach(ColumnFamilyHandle::close);
            }
        }
    }
}
