package io.starling.store.rocksdb;

import io.starling.broker.retain.RetainedStore;
import io.starling.broker.routing.Message;
import io.starling.broker.topic.Topics;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.rocksdb.ColumnFamilyHandle;

/**
 * Retained messages, persisted in the {@link KeySpace#RETAINED} column family (topic → {@link MessageCodec}
 * record) and mirrored in a concurrent map, which is what {@link #match} reads: the map is loaded when the store
 * opens and never misses a disk read afterwards. Updates change the map at once and queue the write to the
 * committer; the caller's {@link RocksDbStore#whenDurable} then waits for it. The map change and the queueing
 * happen under the map's lock for the topic, so concurrent updates of one topic reach the disk in the order the
 * map saw them. Thread-safe.
 *
 * <p>An expired message is dropped from the map when next matched, as in memory; its record stays on disk until
 * the topic is next written or the store is next opened, which deletes expired records.
 */
public final class RocksDbRetainedStore implements RetainedStore {

    private final Map<String, Message> byTopic;
    private final Committer committer;
    private final ColumnFamilyHandle cf;

    RocksDbRetainedStore(Map<String, Message> loaded, Committer committer, ColumnFamilyHandle cf) {
        this.byTopic = new ConcurrentHashMap<>(loaded);
        this.committer = committer;
        this.cf = cf;
    }

    @Override
    public void update(Message m) {
        byte[] key = m.topic().getBytes(StandardCharsets.UTF_8);
        if (m.payload().length == 0) {
            byTopic.compute(m.topic(), (topic, old) -> {
                committer.delete(cf, key);
                return null;
            });
        } else {
            byte[] record = MessageCodec.encode(m);
            byTopic.compute(m.topic(), (topic, old) -> {
                committer.put(cf, key, record);
                return m;
            });
        }
    }

    @Override
    public void match(String filter, Consumer<Message> sink) {
        long now = System.currentTimeMillis();
        if (!Topics.hasWildcard(filter)) {
            Message m = byTopic.get(filter);
            if (m != null) {
                deliverUnlessExpired(m, now, sink);
            }
            return;
        }
        for (Message m : byTopic.values()) {
            if (Topics.matches(filter, m.topic())) {
                deliverUnlessExpired(m, now, sink);
            }
        }
    }

    private void deliverUnlessExpired(Message m, long now, Consumer<Message> sink) {
        if (m.isExpired(now)) {
            byTopic.remove(m.topic(), m);
        } else {
            sink.accept(m);
        }
    }

    @Override
    public int size() {
        // expired messages still count until they are next matched
        return byTopic.size();
    }
}
