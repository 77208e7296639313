package io.starling.broker.topic;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The subscription index: a trie of topic levels whose nodes hold the subscriptions of the filter ending there,
 * and the shared subscription groups of that filter. Ordinary filters without wildcards are also kept in a hash
 * map by exact topic, so the common case costs one lookup.
 *
 * <p>Thread-safety: {@link #match} runs on any event loop without locks (concurrent maps, immutable
 * subscriptions, copy-on-write group members); {@link #add} and {@link #remove} are serialised by a lock, since
 * they also create and prune nodes. A match running during a change sees the subscription either before or
 * after it.
 */
public final class SubscriptionIndex {

    /** Receives the matches of one topic. */
    public interface MatchSink {
        /** An ordinary subscription matches. */
        void onSubscription(Subscription s);

        /** A shared subscription group matches: one of its members is to get the message. */
        void onSharedGroup(SharedGroup g);
    }

    /**
     * Told of each subscription that enters or leaves the index (a replacement of a client's subscription to the same
     * filter is neither): the cluster uses it to publish this node's routes. Called under the index's write lock, on
     * the thread that changes the index: it must be quick and must not call back into the index.
     */
    public interface ChangeListener {
        /** {@code s} was added ({@code added}) or removed. */
        void changed(Subscription s, boolean added);
    }

    private final Node root = new Node(null, null);
    private final Map<String, Map<String, Subscription>> exact = new ConcurrentHashMap<>();
    private final Object writeLock = new Object();
    /** Subscriptions indexed (a client's subscription to a filter counts once); written under {@link #writeLock}. */
    private volatile long size;
    /** Of {@link #size}: the shared subscriptions (each member counts); written under {@link #writeLock}. */
    private volatile long shared;
    /** Of {@link #size}: the ordinary subscriptions whose filter has a wildcard; written under {@link #writeLock}. */
    private volatile long wildcard;
    /** Told of every subscription added or removed; {@code null} without a cluster. Written under the lock. */
    private ChangeListener listener;

    /**
     * Installs the one listener told of subscriptions entering and leaving the index (the cluster's routes), and
     * returns, under the same lock, every subscription indexed now, so that the listener misses none and sees none
     * twice. {@code null} removes it.
     */
    public java.util.List<Subscription> listen(ChangeListener l) {
        synchronized (writeLock) {
            listener = l;
            java.util.List<Subscription> now = new java.util.ArrayList<>();
            forEach(now::add);
            return now;
        }
    }

    /** Adds or replaces the subscription of {@code s.clientId()} to {@code s.filter()}; returns the old one. */
    public Subscription add(Subscription s) {
        synchronized (writeLock) {
            Subscription old = addLocked(s);
            if (old == null) {
                count(s, 1);
                if (listener != null) {
                    listener.changed(s, true);
                }
            }
            return old;
        }
    }

    /**
     * Calls {@code sink} with every subscription indexed, ordinary and shared (each member of a group), in no
     * particular order; for operators (the admin API). From any thread, without locks: a subscription added or removed
     * during the walk may or may not be seen.
     */
    public void forEach(Consumer<Subscription> sink) {
        for (Map<String, Subscription> subs : exact.values()) {
            subs.values().forEach(sink);
        }
        java.util.ArrayDeque<Node> todo = new java.util.ArrayDeque<>();
        todo.push(root);
        while (!todo.isEmpty()) {
            Node n = todo.pop();
            n.subscriptions.values().forEach(sink);
            for (SharedGroup g : n.groups.values()) {
                g.members().forEach(sink);
            }
            n.children.values().forEach(todo::push);
        }
    }

    /** Subscriptions indexed now, ordinary and shared (each member of a group counts); from any thread. */
    public long size() {
        return size;
    }

    /** Shared subscriptions indexed now (each member of a group counts); from any thread. */
    public long sharedCount() {
        return shared;
    }

    /** Ordinary (not shared) subscriptions indexed now whose filter has a wildcard; from any thread. */
    public long wildcardCount() {
        return wildcard;
    }

    /** Counts {@code s} in or out ({@code delta} 1 or -1); under {@link #writeLock}. */
    private void count(Subscription s, int delta) {
        size += delta;
        if (s.isShared()) {
            shared += delta;
        } else if (Topics.hasWildcard(s.topicFilter())) {
            wildcard += delta;
        }
    }

    private Subscription addLocked(Subscription s) {
        String filter = s.topicFilter();
        if (!s.isShared() && !Topics.hasWildcard(filter)) {
            return exact.computeIfAbsent(filter, k -> new ConcurrentHashMap<>()).put(s.clientId(), s);
        }
        Node node = root;
        for (String level : levels(filter)) {
            Node parent = node;
            node = parent.children.computeIfAbsent(level, l -> new Node(parent, l));
        }
        if (s.isShared()) {
            return node.groups.computeIfAbsent(s.shareGroup(), g -> new SharedGroup(g, filter)).put(s);
        }
        return node.subscriptions.put(s.clientId(), s);
    }

    /** Removes the subscription of a client to a filter as subscribed; returns it, or {@code null} if none. */
    public Subscription remove(String clientId, String filter) {
        synchronized (writeLock) {
            Subscription old = removeLocked(clientId, filter);
            if (old != null) {
                count(old, -1);
                if (listener != null) {
                    listener.changed(old, false);
                }
            }
            return old;
        }
    }

    private Subscription removeLocked(String clientId, String filter) {
        String group = Topics.isShared(filter) ? Topics.shareName(filter) : null;
        String topicFilter = group == null ? filter : filter.substring(Topics.SHARE_PREFIX.length() + group.length() + 1);
        if (group == null && !Topics.hasWildcard(topicFilter)) {
            Map<String, Subscription> subs = exact.get(topicFilter);
            if (subs == null) {
                return null;
            }
            Subscription old = subs.remove(clientId);
            if (subs.isEmpty()) {
                exact.remove(topicFilter);
            }
            return old;
        }
        Node node = root;
        for (String level : levels(topicFilter)) {
            node = node.children.get(level);
            if (node == null) {
                return null;
            }
        }
        Subscription old;
        if (group == null) {
            old = node.subscriptions.remove(clientId);
        } else {
            SharedGroup g = node.groups.get(group);
            old = g == null ? null : g.remove(clientId);
            if (g != null && g.isEmpty()) {
                node.groups.remove(group);
            }
        }
        prune(node);
        return old;
    }

    /** Calls {@code sink} with every ordinary subscription whose filter matches the topic name (groups skipped). */
    public void match(String topic, Consumer<Subscription> sink) {
        match(topic, new MatchSink() {
            @Override
            public void onSubscription(Subscription s) {
                sink.accept(s);
            }

            @Override
            public void onSharedGroup(SharedGroup g) {
            }
        });
    }

    /** Reports every ordinary subscription and every shared group whose filter matches the topic name. */
    public void match(String topic, MatchSink sink) {
        Map<String, Subscription> subs = exact.get(topic);
        if (subs != null) {
            for (Subscription s : subs.values()) {
                sink.onSubscription(s);
            }
        }
        if (root.children.isEmpty()) {
            return;
        }
        // [MQTT-4.7.2-1] a wildcard at the first level does not match a topic starting with '$'
        boolean dollar = topic.startsWith("$");
        matchLevel(root, new Level(topic), 0, dollar, sink);
    }

    /** Number of distinct filters indexed (for metrics and tests). */
    public int filterCount() {
        return exact.size() + countNodes(root);
    }

    /**
     * Matches the level of the topic name starting at {@code start} (0: the first level; {@link #END}: past the last
     * one) below {@code node}; the levels are looked up in place, without splitting the name.
     */
    private static void matchLevel(Node node, Level topic, int start, boolean dollarAtRoot, MatchSink sink) {
        boolean wildcardsAllowed = !(dollarAtRoot && start == 0);
        if (wildcardsAllowed) {
            Node hash = node.children.get("#");
            if (hash != null) {
                report(hash, sink);
            }
        }
        if (start == END) {
            report(node, sink);
            return;
        }
        String name = topic.name;
        int end = name.indexOf('/', start);
        if (end < 0) {
            end = name.length();
        }
        int next = end == name.length() ? END : end + 1;
        Node child = node.children.get(topic.at(start, end));
        if (child != null) {
            matchLevel(child, topic, next, dollarAtRoot, sink);
        }
        if (wildcardsAllowed) {
            Node plus = node.children.get("+");
            if (plus != null) {
                matchLevel(plus, topic, next, dollarAtRoot, sink);
            }
        }
    }

    private static void report(Node node, MatchSink sink) {
        for (Subscription s : node.subscriptions.values()) {
            sink.onSubscription(s);
        }
        if (!node.groups.isEmpty()) {
            for (SharedGroup g : node.groups.values()) {
                sink.onSharedGroup(g);
            }
        }
    }

    private void prune(Node node) {
        while (node.parent != null && node.subscriptions.isEmpty() && node.groups.isEmpty()
                && node.children.isEmpty()) {
            node.parent.children.remove(node.level, node);
            node = node.parent;
        }
    }

    private static int countNodes(Node n) {
        int c = (n.subscriptions.isEmpty() ? 0 : 1) + n.groups.size();
        for (Node child : n.children.values()) {
            c += countNodes(child);
        }
        return c;
    }

    static String[] levels(String topic) {
        return topic.split("/", -1);
    }

    /** {@link #matchLevel}'s start past the topic name's last level. */
    private static final int END = -1;

    /**
     * One level of a topic name ({@code name} from {@code start} to {@code end}), as a key of a map whose keys are
     * strings: equal to the string of the same characters and with its hash code, so a match looks its levels up
     * without a substring each. One per match, moved from level to level ({@link #at}); a lookup uses it at once.
     * {@link java.util.Map#get} compares with the key it is given ({@code key.equals(k)}), which is what makes this
     * work; the index's maps are only ever read with it, never written.
     */
    private static final class Level {
        final String name;
        private int start;
        private int length;
        private int hash;

        Level(String name) {
            this.name = name;
        }

        /** This key, now the level {@code [start, end)} of the name. */
        Level at(int start, int end) {
            this.start = start;
            this.length = end - start;
            int h = 0;
            for (int i = start; i < end; i++) {
                h = 31 * h + name.charAt(i); // String.hashCode's definition
            }
            this.hash = h;
            return this;
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof String s && s.length() == length && name.regionMatches(start, s, 0, length);
        }

        @Override
        public String toString() {
            return name.substring(start, start + length);
        }
    }

    private static final class Node {
        final Node parent;
        final String level;
        final Map<String, Node> children = new ConcurrentHashMap<>();
        final Map<String, Subscription> subscriptions = new ConcurrentHashMap<>();
        final Map<String, SharedGroup> groups = new ConcurrentHashMap<>(1);

        Node(Node parent, String level) {
            this.parent = parent;
            this.level = level;
        }
    }
}
