package io.starling.cluster.retain;

import com.hazelcast.core.EntryAdapter;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.replicatedmap.ReplicatedMap;
import io.netty.channel.EventLoopGroup;
import io.starling.broker.Broker;
import io.starling.broker.message.Message;
import io.starling.cluster.session.MessageBytes;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retained messages on every node. Each client's retained message stored on a node (or removal) is written to a
 * Hazelcast {@code ReplicatedMap} ({@value #MAP}: topic → stamp, origin, message), of which every member keeps a full
 * copy; every node applies what the others write to its own retained store, which keeps it on disk with RocksDB storage,
 * so a cold restart of the whole cluster keeps them. Concurrent writes to one topic: the last writer wins, by a hybrid
 * logical clock stamp (wall-clock milliseconds, at least one above any stamp seen). Writes leave the publisher's loop
 * at once: a single thread writes them to the map in order.
 */
public final class RetainedReplication implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RetainedReplication.class);
    /** The replicated map's name. */
    public static final String MAP = "starling.retained";
    private static final int VERSION = 1;

    private final String node;
    private final Broker broker;
    private final EventLoopGroup group;
    private final ReplicatedMap<String, byte[]> map;
    private final AtomicLong clock = new AtomicLong();
    /** The stamp of the retained message of each topic as this node last applied or wrote it. */
    private final Map<String, Long> applied = new ConcurrentHashMap<>();
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "starling-retained-replication");
        t.setDaemon(true);
        return t;
    });
    private final java.util.UUID listener;

    public RetainedReplication(String node, HazelcastInstance hz, Broker broker, EventLoopGroup group) {
        this.node = node;
        this.broker = broker;
        this.group = group;
        this.map = hz.getReplicatedMap(MAP);
        this.listener = map.addEntryListener(new EntryAdapter<String, byte[]>() {
            @Override
            public void onEntryEvent(EntryEvent<String, byte[]> event) {
                if (event.getValue() != null) {
                    apply(event.getKey(), event.getValue());
                }
            }
        });
        // what the cluster retained before this node joined (or while it was away)
        int n = 0;
        for (Map.Entry<String, byte[]> e : map.entrySet()) {
            apply(e.getKey(), e.getValue());
            n++;
        }
        broker.retainedReplication(this::retainedHere);
        LOG.info("Cluster: retained messages replicated ({} known to the cluster now)", n);
    }

    /** On the publisher's loop: a client's retained message was stored here. */
    private void retainedHere(Message m) {
        long stamp = clock.updateAndGet(c -> Math.max(c + 1, System.currentTimeMillis()));
        applied.put(m.topic(), stamp);
        byte[] value = encode(stamp, node, m);
        writer.execute(() -> {
            try {
                map.put(m.topic(), value);
            } catch (RuntimeException e) {
                LOG.warn("Cluster: the retained message of '{}' could not be replicated", m.topic(), e);
            }
        });
    }

    private void apply(String topic, byte[] value) {
        Decoded d;
        try {
            d = decode(value);
        } catch (RuntimeException e) {
            LOG.warn("Cluster: a retained message of '{}' from the cluster cannot be read", topic, e);
            return;
        }
        clock.updateAndGet(c -> Math.max(c, d.stamp));
        if (d.origin.equals(node)) {
            return; // written here: the local store has it
        }
        Long[] newer = new Long[1];
        applied.compute(topic, (t, current) -> {
            if (current == null || current < d.stamp) {
                newer[0] = d.stamp;
                return d.stamp;
            }
            return current;
        });
        if (newer[0] != null) {
            group.next().execute(() -> broker.retained().update(d.message));
        }
    }

    @Override
    public void close() {
        broker.retainedReplication(null);
        try {
            map.removeEntryListener(listener);
        } catch (RuntimeException e) {
            // shutting down
        }
        writer.shutdown();
        try {
            writer.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private record Decoded(long stamp, String origin, Message message) {
    }

    static byte[] encode(long stamp, String origin, Message m) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + m.payload().length);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeLong(stamp);
            out.writeUTF(origin);
            MessageBytes.write(out, m);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static Decoded decode(byte[] b) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(b))) {
            if (in.readUnsignedByte() != VERSION) {
                throw new IllegalArgumentException("retained record of unknown version");
            }
            long stamp = in.readLong();
            String origin = in.readUTF();
            return new Decoded(stamp, origin, MessageBytes.read(in));
        } catch (IOException e) {
            throw new IllegalArgumentException("retained record cannot be read", e);
        }
    }
}
