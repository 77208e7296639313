package io.starling.broker.retain;

import io.starling.broker.message.Message;
import io.starling.broker.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.concurrent.atomic.LongAdder;

/**
 * Retained messages by topic: a retained PUBLISH replaces the topic's message [MQTT-3.3.1-5], one with an empty
 * payload removes it [MQTT-3.3.1-10] [MQTT-3.3.1-11]. One implementation for every store; a durable store plugs in
 * a {@link RetainedPersistence}.
 *
 * <h2>Index</h2>
 *
 * A trie of topic levels. The node of a topic holds its entry: the message's size and expiry, and the message itself
 * while it is in the heap. Matching a filter walks the trie: an exact level follows one child, {@code +}
 * every child, {@code #} the node itself and its whole subtree ([MQTT-4.7.1-2] [MQTT-4.7.1-3] in 3.1.1's numbering);
 * a wildcard at the first level does not match a topic that starts with {@code $} [MQTT-4.7.2-1]. The walk is a {@link Cursor} that
 * resumes where the last page ended, so a filter matching a million topics is read a page at a time
 * ({@link #next}), and a filter matching nothing stops after {@link #MAX_VISITS} nodes per page.
 *
 * <h2>Payloads</h2>
 *
 * Without persistence ({@code storage: memory}) the entry keeps its message, and the limits bound the heap it takes.
 * With persistence the entry keeps the message only until its write is committed ({@link RetainedPersistence#write}'s
 * {@code onDurable}), which makes a subscriber see an update that is still queued for the disk (read-your-writes);
 * afterwards {@link #read} gets the payload back from the store. At start-up a durable store {@link #load loads} the
 * index only, without a payload, so start-up time and heap do not grow with the payload bytes.
 *
 * <h2>Limits</h2>
 *
 * {@link #limits max messages and bytes} (size = payload bytes + topic length): an update that would add a topic or
 * make the total larger beyond them is refused ({@link #update} returns false, nothing changes); replacing a message
 * with one no larger, and removing one, always work. Expired entries are removed before an update is refused.
 *
 * <h2>Expiry</h2>
 *
 * An entry whose 5.0 Message Expiry Interval has passed is never returned by {@link #next}, and is removed when a
 * walk finds it or when the limits are reached ({@link #purgeExpired}); a durable store deletes the expired ones it
 * finds at start-up.
 *
 * <h2>Threads</h2>
 *
 * Every method may be called from any event loop. Lookups and walks take no lock (concurrent maps, volatile entries;
 * a walk running during a change sees an entry before or after it). A walk returns only entries written before it
 * began, on nodes created before it began: whatever is written later is routed to the new subscription live (its
 * subscription is in the index before its walk starts), so the walk must not return it as well, possibly after
 * older live messages of the topic; and a topic removed and added again during a walk is returned at most once.
 * An update takes the lock of its topic's node, so
 * that the entry, the counters and the write queued to the store change together, in one order per topic. Adding a
 * node (a topic never seen, or seen and removed) and removing empty nodes take one lock for the whole trie; replacing
 * the message of an existing topic does not.
 */
public final class RetainedStore {

    /** Most trie nodes one call of {@link #next} looks at, so that a page never holds a loop for long. */
    static final int MAX_VISITS = 4096;
    /** Expired entries removed by one {@link #purgeExpired} call. */
    static final int MAX_PURGE = 1024;

    private static final AtomicReferenceFieldUpdater<Slot, Message> MESSAGE =
            AtomicReferenceFieldUpdater.newUpdater(Slot.class, Message.class, "message");
    private static final Comparator<ExpiringSlot> BY_EXPIRY =
            Comparator.comparingLong((ExpiringSlot s) -> s.expiresAt).thenComparingLong(s -> s.seq);

    private final RetainedPersistence persistence;
    private final Node root = new Node(null, "", 0);
    /** Birth number of the newest node; written under {@link #structure}, read by walks as they begin. */
    private volatile long nodesBorn;
    /** Serialises adding and removing nodes. */
    private final Object structure = new Object();
    private final AtomicLong count = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final LongAdder heldBytes = new LongAdder();
    private final ConcurrentSkipListSet<ExpiringSlot> expiring = new ConcurrentSkipListSet<>(BY_EXPIRY);
    /** Counts entries written (every update that stores a message); orders expiring entries and bounds walks. */
    private final AtomicLong written = new AtomicLong();
    private volatile long maxMessages;
    private volatile Clock clock = Clock.SYSTEM;
    private volatile long maxBytes;

    /**
     * @param persistence where a durable store keeps the messages; {@code null} keeps them in the heap only
     */
    public RetainedStore(RetainedPersistence persistence) {
        this.persistence = persistence;
    }

    /** Retained messages in the heap only ({@code storage: memory}). */
    public static RetainedStore inMemory() {
        return new RetainedStore(null);
    }

    /** Sets the clock that message expiry is checked against (the broker's; the system clock until then). */
    public void clock(Clock c) {
        clock = c;
    }

    /**
     * Sets the limits ({@code max-retained-messages}, {@code max-retained-bytes}); 0 = no limit. Entries beyond
     * them (loaded from a store, or stored before the limits were lowered) stay; only growth is refused.
     */
    public void limits(long maxMessages, long maxBytes) {
        if (maxMessages < 0 || maxBytes < 0) {
            throw new IllegalArgumentException("retained limits must not be negative");
        }
        this.maxMessages = maxMessages;
        this.maxBytes = maxBytes;
    }

    public long maxMessages() {
        return maxMessages;
    }

    public long maxBytes() {
        return maxBytes;
    }

    /** Whether a store keeps the payloads (on disk), rather than the heap. */
    public boolean payloadsOnDisk() {
        return persistence != null;
    }

    /** What a retained message counts against {@code max-retained-bytes}: payload bytes plus the topic's length. */
    public static int sizeOf(Message m) {
        return m.payload().length + m.topic().length();
    }

    // ---------------------------------------------------------------- updates

    /**
     * Stores, replaces or (empty payload) removes the retained message of the message's topic. Returns false when
     * the limits refuse it: it would add a topic or grow the total beyond them. Then nothing has changed.
     */
    public boolean update(Message m) {
        String topic = m.topic();
        String[] levels = levels(topic);
        if (m.payload().length == 0) {
            remove(levels, topic);
            return true;
        }
        int size = sizeOf(m);
        boolean purged = false;
        while (true) {
            Node node = find(levels);
            if (node == null && wouldRefuseNew(size)) {
                // full: do not even create the nodes, unless expired entries make room
                if (!purged && purgeExpired() > 0) {
                    purged = true;
                    continue;
                }
                return false;
            }
            if (node == null) {
                node = create(levels);
            }
            int r = put(node, topic, m, size);
            if (r == PUT) {
                return true;
            }
            if (r == REFUSED) {
                prune(node); // nodes created for a refused topic go again
                if (!purged && purgeExpired() > 0) {
                    purged = true;
                    continue;
                }
                return false;
            }
            // DETACHED: the node was removed from the trie meanwhile; find or create the topic's node again
        }
    }

    private static final int PUT = 0;
    private static final int REFUSED = 1;
    private static final int DETACHED = 2;

    private int put(Node node, String topic, Message m, int size) {
        synchronized (node) {
            if (node.detached) {
                return DETACHED;
            }
            Slot old = node.slot;
            if (!admit(old, size)) {
                return REFUSED;
            }
            Slot s = newSlot(node, size, m.expiresAtMillis());
            s.message = m;
            heldBytes.add(m.payload().length);
            node.slot = s;
            if (old != null) {
                forget(old);
            }
            if (s instanceof ExpiringSlot e) {
                expiring.add(e);
            }
            if (persistence != null) {
                persistence.write(topic, m, () -> release(s), () -> revert(node, s, old));
            }
            return PUT;
        }
    }

    private boolean wouldRefuseNew(int size) {
        long maxN = maxMessages;
        long maxB = maxBytes;
        return (maxN > 0 && count.get() >= maxN) || (maxB > 0 && bytes.get() + size > maxB);
    }

    /** Counts an update against the limits; false (and nothing counted) when they refuse it. */
    private boolean admit(Slot old, int size) {
        long maxN = maxMessages;
        long maxB = maxBytes;
        if (old == null) {
            long n = count.incrementAndGet();
            if (maxN > 0 && n > maxN) {
                count.decrementAndGet();
                return false;
            }
            long b = bytes.addAndGet(size);
            if (maxB > 0 && b > maxB) {
                bytes.addAndGet(-size);
                count.decrementAndGet();
                return false;
            }
            return true;
        }
        long delta = size - old.size;
        if (delta == 0) {
            return true;
        }
        long b = bytes.addAndGet(delta);
        if (delta > 0 && maxB > 0 && b > maxB) {
            bytes.addAndGet(-delta);
            return false;
        }
        return true;
    }

    private Slot newSlot(Node node, int size, long expiresAt) {
        long seq = written.incrementAndGet();
        return expiresAt == Message.NEVER
                ? new Slot(size, expiresAt, seq)
                : new ExpiringSlot(size, expiresAt, seq, node);
    }

    /** A replaced or removed entry: it no longer counts, holds no payload and is not waiting to expire. */
    private void forget(Slot old) {
        if (old instanceof ExpiringSlot e) {
            expiring.remove(e);
        }
        Message m = MESSAGE.getAndSet(old, null);
        if (m != null) {
            heldBytes.add(-m.payload().length);
        }
    }

    /**
     * The store could not write the entry {@code s} (the publisher's acknowledgement is refused): the topic goes back
     * to {@code previous}, which is what the store still holds (its payload is read from there), unless a later update
     * changed the topic meanwhile. On the store's thread.
     */
    private void revert(Node node, Slot s, Slot previous) {
        synchronized (node) {
            if (node.detached || node.slot != s) {
                return;
            }
            node.slot = previous;
            if (previous == null) {
                count.decrementAndGet();
                bytes.addAndGet(-s.size);
            } else {
                bytes.addAndGet(previous.size - s.size);
                if (previous instanceof ExpiringSlot e) {
                    expiring.add(e);
                }
            }
            forget(s);
        }
        if (previous == null) {
            prune(node);
        }
    }

    /**
     * The store could not delete the topic's entry: it is put back, as the store still has it, unless the topic has
     * an entry again meanwhile. On the store's thread.
     */
    private void restore(String[] levels, Slot old) {
        while (true) {
            Node node = find(levels);
            if (node == null) {
                node = create(levels);
            }
            synchronized (node) {
                if (node.detached) {
                    continue;
                }
                if (node.slot == null) {
                    node.slot = old;
                    count.incrementAndGet();
                    bytes.addAndGet(old.size);
                    if (old instanceof ExpiringSlot e) {
                        expiring.add(e);
                    }
                }
                return;
            }
        }
    }

    /** The entry's write is committed: the heap need not hold its payload any more. */
    private void release(Slot s) {
        Message m = MESSAGE.getAndSet(s, null);
        if (m != null) {
            heldBytes.add(-m.payload().length);
        }
    }

    private void remove(String[] levels, String topic) {
        while (true) {
            Node node = find(levels);
            if (node == null) {
                return;
            }
            synchronized (node) {
                if (node.detached) {
                    continue;
                }
                Slot old = node.slot;
                if (old == null) {
                    return;
                }
                node.slot = null;
                count.decrementAndGet();
                bytes.addAndGet(-old.size);
                forget(old);
                if (persistence != null) {
                    persistence.delete(topic, () -> restore(levels, old));
                }
            }
            prune(node);
            return;
        }
    }

    /** Removes the node's entry if it is still {@code s} (found expired); true if it was. */
    private boolean removeIfCurrent(Node node, Slot s) {
        synchronized (node) {
            if (node.slot != s) {
                return false;
            }
            node.slot = null;
            count.decrementAndGet();
            bytes.addAndGet(-s.size);
            forget(s);
            if (persistence != null) {
                persistence.delete(topicOf(node), () -> { }); // expired: nothing to put back if it stays on disk
            }
        }
        prune(node);
        return true;
    }

    /**
     * Removes up to {@value #MAX_PURGE} expired entries, oldest expiry first; returns how many. Called before the
     * limits refuse an update, so that messages nobody will ever receive do not keep new ones out.
     */
    public int purgeExpired() {
        if (expiring.isEmpty()) {
            return 0;
        }
        long now = clock.millis();
        int removed = 0;
        Iterator<ExpiringSlot> it = expiring.iterator();
        while (removed < MAX_PURGE && it.hasNext()) {
            ExpiringSlot e = it.next();
            if (e.expiresAt > now) {
                break;
            }
            if (removeIfCurrent(e.node, e)) {
                removed++;
            } else {
                expiring.remove(e);
            }
        }
        return removed;
    }

    /**
     * Adds an entry read from a durable store at start-up, without its payload (read back with {@link #read} when
     * needed). Not subject to the limits: what is stored stays.
     */
    public void load(String topic, int size, long expiresAtMillis) {
        String[] levels = levels(topic);
        while (true) {
            Node node = create(levels);
            synchronized (node) {
                if (node.detached) {
                    continue;
                }
                Slot old = node.slot;
                Slot s = newSlot(node, size, expiresAtMillis);
                node.slot = s;
                if (old == null) {
                    count.incrementAndGet();
                    bytes.addAndGet(size);
                } else {
                    bytes.addAndGet(size - old.size);
                    forget(old);
                }
                if (s instanceof ExpiringSlot e) {
                    expiring.add(e);
                }
                return;
            }
        }
    }

    // ---------------------------------------------------------------- trie

    private Node find(String[] levels) {
        Node n = root;
        for (String level : levels) {
            Map<String, Node> children = n.children;
            if (children == null) {
                return null;
            }
            n = children.get(level);
            if (n == null) {
                return null;
            }
        }
        return n;
    }

    /** The topic's node, created with its missing ancestors; attached to the trie when returned. */
    private Node create(String[] levels) {
        synchronized (structure) {
            Node n = root;
            for (String level : levels) {
                ConcurrentHashMap<String, Node> children = n.children;
                if (children == null) {
                    children = new ConcurrentHashMap<>(2);
                    n.children = children;
                }
                Node child = children.get(level);
                if (child == null) {
                    child = new Node(n, level, nodesBorn + 1);
                    nodesBorn = child.born;
                    children.put(level, child);
                }
                n = child;
            }
            return n;
        }
    }

    /** Removes the node, and then its ancestors, while they have neither an entry nor children. */
    private void prune(Node node) {
        synchronized (structure) {
            while (node.parent != null) {
                synchronized (node) {
                    Map<String, Node> children = node.children;
                    if (node.detached || node.slot != null || (children != null && !children.isEmpty())) {
                        return;
                    }
                    node.detached = true;
                }
                node.parent.children.remove(node.level, node);
                node = node.parent;
            }
        }
    }

    private static String[] levels(String topic) {
        return topic.split("/", -1);
    }

    private static String topicOf(Node node) {
        int depth = 0;
        for (Node n = node; n.parent != null; n = n.parent) {
            depth++;
        }
        String[] parts = new String[depth];
        for (Node n = node; n.parent != null; n = n.parent) {
            parts[--depth] = n.level;
        }
        return String.join("/", parts);
    }

    // ---------------------------------------------------------------- reading

    /** A walk over the entries matching one filter, resumed page by page by {@link #next}. Confined to one thread. */
    public static final class Cursor {
        private final String[] filter;
        private final ArrayDeque<Frame> stack = new ArrayDeque<>();
        /** Nodes born later than this are skipped: their topics were created during the walk. */
        private final long bornBefore;
        /** Entries written later than this are skipped: they were routed to the new subscription live. */
        private final long writtenBefore;

        private Cursor(String filter, Node root, long newestNode, long newestEntry) {
            this.filter = levels(filter);
            this.bornBefore = newestNode;
            this.writtenBefore = newestEntry;
            stack.push(new Frame(root, 0, false));
        }

        /** Whether the walk is over: {@link #next} returns nothing more. */
        public boolean exhausted() {
            return stack.isEmpty();
        }
    }

    /** One node on the walk's path: the filter levels it matched, and its children still to visit. */
    private static final class Frame {
        final Node node;
        /** Filter levels matched by the path to this node. */
        final int matched;
        /** Inside a {@code #}: this node and everything below it match. */
        final boolean inHash;
        Iterator<Node> children;
        int childMatched;
        boolean childInHash;

        Frame(Node node, int matched, boolean inHash) {
            this.node = node;
            this.matched = matched;
            this.inHash = inHash;
        }
    }

    /**
     * A retained message found by a walk: the entry as it was then and its message, which {@link #read} fills in
     * when it was not in the heap. It is still to be delivered while {@link #isCurrent}: once the topic is updated
     * again, the newer message is routed to the subscriber live and this one would only be older news.
     */
    public static final class Hit {
        private final Node node;
        private final Slot slot;
        private Message message;

        private Hit(Node node, Slot slot, Message message) {
            this.node = node;
            this.slot = slot;
            this.message = message;
        }

        /** The message, {@code null} until read from the store (or when the store no longer has it). */
        public Message message() {
            return message;
        }

        /** The topic of the entry. */
        public String topic() {
            return message != null ? message.topic() : topicOf(node);
        }

        /** Bytes the entry counts for (payload + topic length). */
        public int size() {
            return slot.size;
        }
    }

    /** Starts a walk over the retained messages matching a valid Topic Filter (not a shared one). */
    public Cursor cursor(String filter) {
        return new Cursor(filter, root, nodesBorn, written.get());
    }

    /**
     * The next matching entries of the walk: at most {@code maxCount}, at most about {@code maxBytes} (at least one
     * entry), after at most {@value #MAX_VISITS} nodes; possibly none while the walk is not
     * {@link Cursor#exhausted() exhausted}. Expired entries are left out and removed. A hit whose payload is not in
     * the heap has no message yet: {@link #read} gets it.
     */
    public List<Hit> next(Cursor c, int maxCount, long maxBytes) {
        List<Hit> page = new ArrayList<>(Math.min(Math.max(1, maxCount), 64));
        long pageBytes = 0;
        long now = clock.millis();
        int visits = 0;
        String[] f = c.filter;
        ArrayDeque<Frame> stack = c.stack;
        while (!stack.isEmpty() && page.size() < maxCount && pageBytes < maxBytes && visits < MAX_VISITS) {
            Frame fr = stack.peek();
            visits++;
            if (fr.children == null) {
                int i = fr.matched;
                boolean hash = fr.inHash || (i < f.length && f[i].equals("#"));
                if ((hash || i == f.length) && fr.node != root) {
                    // the whole filter matched, or a '#' that also matches its parent level ("a/#" matches "a")
                    Hit h = hit(fr.node, now, c.writtenBefore);
                    if (h != null) {
                        page.add(h);
                        pageBytes += h.slot.size;
                    }
                }
                Map<String, Node> children = fr.node.children;
                if (children == null || children.isEmpty() || (!hash && i == f.length)) {
                    stack.pop();
                    continue;
                }
                if (hash) {
                    fr.children = children.values().iterator();
                    fr.childMatched = i;
                    fr.childInHash = true;
                } else if (f[i].equals("+")) {
                    fr.children = children.values().iterator();
                    fr.childMatched = i + 1;
                } else {
                    stack.pop();
                    Node child = children.get(f[i]);
                    if (child != null && child.born <= c.bornBefore) {
                        stack.push(new Frame(child, i + 1, false));
                    }
                    continue;
                }
            }
            if (!fr.children.hasNext()) {
                stack.pop();
                continue;
            }
            Node child = fr.children.next();
            if (child.born > c.bornBefore) {
                continue; // created during the walk (perhaps in place of one already visited): delivered live
            }
            if (fr.node == root && child.level.startsWith("$")) {
                // [MQTT-4.7.2-1] a filter starting with a wildcard does not match topics starting with '$' (only a
                // wildcard at the first level iterates the root's children)
                continue;
            }
            stack.push(new Frame(child, fr.childMatched, fr.childInHash));
        }
        return page;
    }

    private Hit hit(Node node, long now, long writtenBefore) {
        Slot s = node.slot;
        if (s == null || s.seq > writtenBefore) {
            return null; // none, or written since the walk began: that update went to the subscription live
        }
        if (s.expiresAt <= now) {
            removeIfCurrent(node, s); // 5.0 3.3.2.3.3: never delivered once expired, and gone
            return null;
        }
        Message m = s.message;
        if (m == null && persistence == null) {
            return null; // replaced just now: the newer entry is the current one
        }
        return new Hit(node, s, m);
    }

    /** Whether every hit of the page has its message (nothing to read from the store). */
    public static boolean inHeap(List<Hit> page) {
        for (Hit h : page) {
            if (h.message == null) {
                return false;
            }
        }
        return true;
    }

    /**
     * Reads the messages of the page's hits that are not in the heap from the store, off the calling thread, then
     * runs {@code then} (on the store's reading thread). A hit whose topic the store no longer has keeps a
     * {@code null} message.
     */
    public void read(List<Hit> page, Runnable then) {
        List<Hit> missing = new ArrayList<>();
        List<String> topics = new ArrayList<>();
        for (Hit h : page) {
            if (h.message == null) {
                missing.add(h);
                topics.add(topicOf(h.node));
            }
        }
        if (missing.isEmpty() || persistence == null) {
            then.run();
            return;
        }
        persistence.read(topics, messages -> {
            for (int i = 0; i < missing.size(); i++) {
                Hit h = missing.get(i);
                Message m = messages.get(i);
                // the store may already hold a newer message of the topic: the hit is then stale, see isCurrent
                h.message = m;
            }
            then.run();
        });
    }

    /** Whether the hit's entry is still the topic's current one (not replaced, removed or expired since). */
    public boolean isCurrent(Hit h) {
        return h.node.slot == h.slot;
    }

    // ---------------------------------------------------------------- figures

    /** Number of retained messages (expired ones count until they are removed). */
    public int size() {
        return (int) Math.min(Integer.MAX_VALUE, count.get());
    }

    /** Bytes counted against {@code max-retained-bytes}. */
    public long bytes() {
        return bytes.get();
    }

    /**
     * Payload bytes the heap holds: all of them without persistence; with it, only those of updates whose write is
     * not committed yet.
     */
    public long heldPayloadBytes() {
        return heldBytes.sum();
    }

    // ---------------------------------------------------------------- nodes

    /** A level of the trie; the node of a topic carries its entry. */
    private static final class Node {
        final Node parent;
        final String level;
        /** Created on the first child, under {@link #structure}. */
        volatile ConcurrentHashMap<String, Node> children;
        /** The topic's entry, {@code null} when it has none; written under the node's lock. */
        volatile Slot slot;
        /** Removed from the trie (under the node's lock and {@link #structure}); an update must find the topic again. */
        boolean detached;
        /** When the node was created, counted up from the root's 0; see {@link Cursor}. */
        final long born;

        Node(Node parent, String level, long born) {
            this.parent = parent;
            this.level = level;
            this.born = born;
        }
    }

    /** A topic's retained message as the index knows it; replaced as a whole on every update. */
    private static class Slot {
        final int size;
        final long expiresAt;
        /** The message while the heap holds it; see the class comment. */
        volatile Message message;

        /** When the entry was written, from {@link #written}; see {@link Cursor}. */
        final long seq;

        Slot(int size, long expiresAt, long seq) {
            this.size = size;
            this.expiresAt = expiresAt;
            this.seq = seq;
        }
    }

    /** An entry with a Message Expiry Interval: in the expiry order, and able to find its node. */
    private static final class ExpiringSlot extends Slot {
        final Node node;

        ExpiringSlot(int size, long expiresAt, long seq, Node node) {
            super(size, expiresAt, seq);
            this.node = node;
        }
    }
}
