package io.starling.broker.topic;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The subscription index: a trie of topic levels whose nodes hold the subscriptions of the filter ending there.
 * Filters without wildcards are also kept in a hash map by exact topic, so the common case costs one lookup.
 *
 * <p>Thread-safety: {@link #match} runs on any event loop without locks (concurrent maps, immutable
 * subscriptions); {@link #add} and {@link #remove} are serialised by a lock, since they also create and prune
 * nodes. A match running during a change sees the subscription either before or after it.
 */
public final class SubscriptionIndex {

    private final Node root = new Node(null, null);
    private final Map<String, Map<String, Subscription>> exact = new ConcurrentHashMap<>();
    private final Object writeLock = new Object();

    /** Adds or replaces the subscription of {@code s.clientId()} to {@code s.filter()}; returns the old one. */
    public Subscription add(Subscription s) {
        synchronized (writeLock) {
            if (!Topics.hasWildcard(s.filter())) {
                return exact.computeIfAbsent(s.filter(), k -> new ConcurrentHashMap<>()).put(s.clientId(), s);
            }
            Node node = root;
            for (String level : levels(s.filter())) {
                Node parent = node;
                node = parent.children.computeIfAbsent(level, l -> new Node(parent, l));
            }
            return node.subscriptions.put(s.clientId(), s);
        }
    }

    /** Removes the subscription of a client to a filter; returns it, or {@code null} if there was none. */
    public Subscription remove(String clientId, String filter) {
        synchronized (writeLock) {
            if (!Topics.hasWildcard(filter)) {
                Map<String, Subscription> subs = exact.get(filter);
                if (subs == null) {
                    return null;
                }
                Subscription old = subs.remove(clientId);
                if (subs.isEmpty()) {
                    exact.remove(filter);
                }
                return old;
            }
            Node node = root;
            for (String level : levels(filter)) {
                node = node.children.get(level);
                if (node == null) {
                    return null;
                }
            }
            Subscription old = node.subscriptions.remove(clientId);
            prune(node);
            return old;
        }
    }

    /** Calls {@code sink} with every subscription whose filter matches the topic name. */
    public void match(String topic, Consumer<Subscription> sink) {
        Map<String, Subscription> subs = exact.get(topic);
        if (subs != null) {
            subs.values().forEach(sink);
        }
        if (root.children.isEmpty()) {
            return;
        }
        String[] levels = levels(topic);
        // [MQTT-4.7.2-1] a wildcard at the first level does not match a topic starting with '$'
        boolean dollar = topic.startsWith("$");
        matchLevel(root, levels, 0, dollar, sink);
    }

    /** Number of distinct filters indexed (for metrics and tests). */
    public int filterCount() {
        return exact.size() + countNodes(root);
    }

    private static void matchLevel(Node node, String[] levels, int i, boolean dollarAtRoot, Consumer<Subscription> sink) {
        boolean wildcardsAllowed = !(dollarAtRoot && i == 0);
        if (wildcardsAllowed) {
            Node hash = node.children.get("#");
            if (hash != null) {
                hash.subscriptions.values().forEach(sink);
            }
        }
        if (i == levels.length) {
            node.subscriptions.values().forEach(sink);
            return;
        }
        Node child = node.children.get(levels[i]);
        if (child != null) {
            matchLevel(child, levels, i + 1, dollarAtRoot, sink);
        }
        if (wildcardsAllowed) {
            Node plus = node.children.get("+");
            if (plus != null) {
                matchLevel(plus, levels, i + 1, dollarAtRoot, sink);
            }
        }
    }

    private void prune(Node node) {
        while (node.parent != null && node.subscriptions.isEmpty() && node.children.isEmpty()) {
            node.parent.children.remove(node.level, node);
            node = node.parent;
        }
    }

    private static int countNodes(Node n) {
        int c = n.subscriptions.isEmpty() ? 0 : 1;
        for (Node child : n.children.values()) {
            c += countNodes(child);
        }
        return c;
    }

    static String[] levels(String topic) {
        return topic.split("/", -1);
    }

    private static final class Node {
        final Node parent;
        final String level;
        final Map<String, Node> children = new ConcurrentHashMap<>();
        final Map<String, Subscription> subscriptions = new ConcurrentHashMap<>();

        Node(Node parent, String level) {
            this.parent = parent;
            this.level = level;
        }
    }
}
