package io.starling.store.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.broker.message.Message;
import io.starling.broker.store.StoredSession;
import io.starling.codec.Properties;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;

/**
 * A database written by schema version 1 (session keys prefixed by the client id alone, session records of version
 * 1) is migrated at open: every session comes back in its generation 0 with its subscriptions, queue and QoS 2
 * state; keys that belonged to no session are deleted by recovery; a second open finds nothing left to migrate.
 */
class SessionMigrationTest {

    @TempDir
    Path dir;

    private static byte[] v1Prefix(String cid) {
        byte[] id = cid.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + id.length).putShort((short) id.length).put(id).array();
    }

    private static byte[] cat(byte[] a, byte[] b) {
        return ByteBuffer.allocate(a.length + b.length).put(a).put(b).array();
    }

    private static byte[] v1Record(long expiry) {
        return ByteBuffer.allocate(1 + 8 + 8 + 1).put((byte) 1).putLong(expiry).putLong(1_000L).put((byte) 0).array();
    }

    private static byte[] queueEntry(long msgId) {
        return ByteBuffer.allocate(8 + 1 + 1 + 4 + 1).putLong(msgId).put((byte) 1).put((byte) 0).putInt(100)
                .put((byte) 0).array();
    }

    private void writeVersion1Database() throws Exception {
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        for (KeySpace space : List.of(KeySpace.META, KeySpace.RETAINED, KeySpace.SESSIONS, KeySpace.SUBSCRIPTIONS,
                KeySpace.MESSAGES, KeySpace.QUEUES, KeySpace.INFLIGHT, KeySpace.INBOUND_QOS2)) {
            descriptors.add(new ColumnFamilyDescriptor(space.columnFamilyBytes()));
        }
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        java.nio.file.Files.createDirectories(dir.resolve("db"));
        try (DBOptions options = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
                RocksDB db = RocksDB.open(options, dir.resolve("db").toString(), descriptors, handles)) {
            try {
                ColumnFamilyHandle meta = handles.get(0);
                ColumnFamilyHandle sessions = handles.get(2);
                ColumnFamilyHandle subscriptions = handles.get(3);
                ColumnFamilyHandle messages = handles.get(4);
                ColumnFamilyHandle queues = handles.get(5);
                ColumnFamilyHandle inbound = handles.get(7);
                db.put(meta, RocksDbStore.SCHEMA_VERSION_KEY, ByteBuffer.allocate(4).putInt(1).array());
                db.put(sessions, "alice".getBytes(StandardCharsets.UTF_8), v1Record(3600));
                // "a" is a prefix of "alice" as a string, not as a length-prefixed key: its keys stay its own
                db.put(sessions, "a".getBytes(StandardCharsets.UTF_8), v1Record(60));
                byte[] sub = {1, 1, 0, 0, 0, 0, 0, 7};
                db.put(subscriptions, cat(v1Prefix("alice"), "home/#".getBytes(StandardCharsets.UTF_8)), sub);
                db.put(subscriptions, cat(v1Prefix("a"), "a/#".getBytes(StandardCharsets.UTF_8)), sub);
                Message m = new Message("home/x", 1, false, "hi".getBytes(StandardCharsets.UTF_8), Properties.EMPTY,
                        "pub", Message.NEVER);
                db.put(messages, SessionKeys.longKey(5), MessageCodec.encode(m));
                db.put(queues, cat(v1Prefix("alice"), SessionKeys.longKey(10)), queueEntry(5));
                db.put(queues, cat(v1Prefix("alice"), SessionKeys.longKey(11)), queueEntry(5));
                db.put(inbound, cat(v1Prefix("alice"), new byte[] {0, 9}), new byte[0]);
                // left over from a session that ended: no record
                db.put(subscriptions, cat(v1Prefix("gone"), "g/#".getBytes(StandardCharsets.UTF_8)), sub);
                db.put(queues, cat(v1Prefix("gone"), SessionKeys.longKey(12)), queueEntry(5));
            } finally {
                handles.forEach(ColumnFamilyHandle::close);
            }
        }
    }

    private Map<String, StoredSession> recover(RocksDbStore store) {
        Map<String, StoredSession> out = new java.util.TreeMap<>();
        store.sessions().recover(s -> out.put(s.clientId(), s));
        return out;
    }

    @Test
    void aVersion1DatabaseIsMigratedAndRecovered() throws Exception {
        writeVersion1Database();
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            Map<String, StoredSession> sessions = recover(store);
            assertThat(sessions).containsOnlyKeys("a", "alice");
            StoredSession alice = sessions.get("alice");
            assertThat(alice.expirySeconds()).isEqualTo(3600);
            assertThat(alice.subscriptions()).extracting(s -> s.filter() + " " + s.qos() + " " + s.subscriptionId())
                    .containsExactly("home/# 1 7");
            assertThat(alice.queued()).isEqualTo(2);
            assertThat(alice.lastSeq()).isEqualTo(11);
            assertThat(alice.inboundQos2()).containsExactly(9);
            assertThat(sessions.get("a").subscriptions()).extracting(s -> s.filter()).containsExactly("a/#");
            assertThat(sessions.get("a").queued()).isZero();
            int[] gone = {0};
            store.forEach(KeySpace.SUBSCRIPTIONS, (k, v) -> gone[0] += new String(k, StandardCharsets.UTF_8)
                    .contains("g/#") ? 1 : 0);
            assertThat(gone[0]).as("a subscription of no session, deleted by recovery").isZero();
            assertThat(store.get(KeySpace.META, RocksDbStore.SCHEMA_VERSION_KEY))
                    .isEqualTo(ByteBuffer.allocate(4).putInt(RocksDbStore.SCHEMA_VERSION).array());
        }
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            Map<String, StoredSession> sessions = recover(store);
            assertThat(sessions.get("alice").queued()).as("the same after a second open").isEqualTo(2);
            assertThat(sessions.get("alice").subscriptions()).hasSize(1);
        }
    }
}
