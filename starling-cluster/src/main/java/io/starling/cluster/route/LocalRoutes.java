package io.starling.cluster.route;

import com.hazelcast.replicatedmap.ReplicatedMap;
import io.starling.broker.topic.Subscription;
import io.starling.broker.topic.SubscriptionIndex;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's routes in the replicated route map: told of every subscription that enters or leaves the broker's
 * index, it counts subscriptions per filter as subscribed (a shared one with its {@code $share/{group}/} prefix: the
 * group's members on this node) and writes the count of each changed filter under {@code (node, filter)}, removing
 * the entry when it falls to 0. This node writes only its own entries. The writes are made on a thread of their own,
 * never under the index's lock nor on an event loop; a burst of changes to one filter costs one write.
 */
final class LocalRoutes implements SubscriptionIndex.ChangeListener {

    private static final Logger LOG = LoggerFactory.getLogger(LocalRoutes.class);

    private final String self;
    private final ReplicatedMap<String, Integer> map;
    private final Map<String, Integer> counts = new ConcurrentHashMap<>();
    private final Set<String> dirty = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "starling-cluster-routes");
        t.setDaemon(true);
        return t;
    });

    LocalRoutes(String self, ReplicatedMap<String, Integer> map) {
        this.self = self;
        this.map = map;
    }

    /** The key of a route: {@code node NUL filter} (neither a node name nor an MQTT filter holds a NUL). */
    static String key(String node, String filter) {
        return node + '\u0000' + filter;
    }

    /** The node of a key, {@code null} if it is not one. */
    static String node(String key) {
        int i = key.indexOf('\u0000');
        return i <= 0 ? null : key.substring(0, i);
    }

    static String filter(String key) {
        return key.substring(key.indexOf('\u0000') + 1);
    }

    /** Starts from the subscriptions indexed when the listener was installed; writes them all. */
    void start(List<Subscription> now) {
        for (Subscription s : now) {
            counts.merge(s.filter(), 1, Integer::sum);
        }
        reassert();
    }

    @Override
    public void changed(Subscription s, boolean added) {
        counts.merge(s.filter(), added ? 1 : -1, (a, b) -> a + b == 0 ? null : a + b);
        dirty.add(s.filter());
        if (scheduled.compareAndSet(false, true)) {
            writer.execute(this::flush);
        }
    }

    private void flush() {
        scheduled.set(false);
        for (Iterator<String> it = dirty.iterator(); it.hasNext();) {
            String filter = it.next();
            it.remove();
            write(filter);
        }
    }

    private void write(String filter) {
        try {
            Integer c = counts.get(filter);
            if (c == null) {
                map.remove(key(self, filter));
            } else {
                map.put(key(self, filter), c);
            }
        } catch (RuntimeException e) {
            LOG.warn("Cluster routes: could not write the route of '{}' ({}); it is written again at the next rejoin",
                    filter, e.toString());
        }
    }

    /**
     * Writes every route of this node again and removes the entries of this node that it no longer has: after a
     * (re)join or a merge, when the map may have lost or kept stale entries.
     */
    void reassert() {
        writer.execute(() -> {
            try {
                for (Map.Entry<String, Integer> e : counts.entrySet()) {
                    map.put(key(self, e.getKey()), e.getValue());
                }
                for (String k : map.keySet()) {
                    if (self.equals(node(k)) && !counts.containsKey(filter(k))) {
                        map.remove(k);
                    }
                }
            } catch (RuntimeException e) {
                LOG.warn("Cluster routes: could not write this node's routes ({})", e.toString());
            }
        });
    }

    /** Stops writing; with {@code removeOwn}, this node's entries are removed first (a node leaving). */
    void close(boolean removeOwn) {
        if (removeOwn) {
            writer.execute(() -> {
                try {
                    for (String k : map.keySet()) {
                        if (self.equals(node(k))) {
                            map.remove(k);
                        }
                    }
                } catch (RuntimeException e) {
                    LOG.debug("Cluster routes: could not remove this node's routes ({})", e.toString());
                }
            });
        }
        writer.shutdown();
        try {
            writer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Routes of this node (filters with a subscriber), for tests and the logs. */
    int size() {
        return counts.size();
    }
}
