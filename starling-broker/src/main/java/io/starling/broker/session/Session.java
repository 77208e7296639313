package io.starling.broker.session;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.starling.broker.acl.TopicAccess;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.BrokerConfig.DropPolicy;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.retain.RetainedFeed;
import io.starling.broker.message.Delivery;
import io.starling.broker.message.Message;
import io.starling.broker.store.QueueOwner;
import io.starling.broker.store.SessionRecord;
import io.starling.broker.store.Store;
import io.starling.broker.store.StoredInflight;
import io.starling.broker.store.StoredQueue;
import io.starling.broker.store.StoredSession;
import io.starling.broker.topic.Subscription;
import io.starling.codec.PacketEncoder;
import io.starling.codec.Properties;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.MqttPacket;
import io.starling.codec.packet.PubRelPacket;
import io.starling.codec.packet.PublishPacket;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state of one MQTT session: subscriptions, the outbound queue and inflight window, the inbound QoS 2
 * packet ids awaiting PUBREL, and expiry.
 *
 * <p>Thread-safety: a session is owned by one event loop ({@link #owner()}) — its connection's loop while one is
 * attached, the last one afterwards — and every method except {@link #owner()}, {@link #clientId()} and
 * {@link #execute(Runnable)} must run there. Other threads post commands with {@link #execute(Runnable)}, which
 * follows the session when a takeover moves it to another loop.
 *
 * <p>Cost: one {@link ArrayDeque} entry per queued message (the message itself is shared), one map entry per
 * inflight message.
 *
 * <h2>Stored queue</h2>
 *
 * A session that outlives its connection on a durable store ({@link #storesMessages()}) gets its QoS 1/2
 * deliveries through the store ({@link #deliverStored}), each with a queue position ({@link Delivery#seq()}),
 * in position order. It holds at most {@link #STORED_WINDOW} of them in memory while connected, and none while
 * offline: the rest stay on disk, and {@link #lastStoredSeq} &gt; {@link #cursor} says so. When the memory queue
 * runs empty the next page is read ({@link StoredQueue#read}) after the cursor. An offline queue thus costs no
 * heap however long it grows, and a reconnecting client is fed page by page.
 */
public final class Session implements QueueOwner, RetainedFeed.Target {

    private static final Logger LOG = LoggerFactory.getLogger(Session.class);
    private static final long DROP_LOG_INTERVAL_NS = 10_000_000_000L;
    /** {@link #queuedBytes}, written with opaque stores so that the queue budget can read it from another loop. */
    private static final VarHandle QUEUED_BYTES;

    static {
        try {
            QUEUED_BYTES = MethodHandles.lookup().findVarHandle(Session.class, "queuedBytes", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** States of an outbound QoS 1/2 message in the inflight window. */
    private enum OutboundState {
        /** PUBLISH sent, PUBACK (QoS 1) or PUBREC (QoS 2) awaited. */
        PUBLISH_SENT,
        /** PUBREL sent, PUBCOMP awaited. */
        PUBREL_SENT
    }

    /** An outbound QoS 1/2 message awaiting its acknowledgement. */
    private static final class Inflight {
        /** The delivery; {@code null} for a PUBREL recovered from the store (the message itself is done). */
        final Delivery delivery;
        OutboundState state = OutboundState.PUBLISH_SENT;
        /** Whether the store has an in-flight record of it (stored QoS 2). */
        boolean stored;
        /** A stored one whose record the store failed to write: written again before the PUBLISH is re-sent. */
        boolean unrecorded;

        Inflight(Delivery delivery) {
            this.delivery = delivery;
        }
    }

    /** Most stored deliveries held in memory while connected; the rest are paged in from the store. */
    static final int STORED_WINDOW = 512;
    /** Stored deliveries read from the store at a time. */
    static final int PAGE_SIZE = 256;

    private final String clientId;
    private final BrokerConfig config;
    private final BrokerMetrics metrics;
    private final Store store;
    private final LargeQueues largeQueues;
    private volatile EventExecutor owner;
    /**
     * Changes with every take-over, on the owner: a connection whose attach was posted before a later take-over
     * finds it changed and gives way (the session is then already promised to the later connection).
     */
    private volatile int epoch;
    /** Set while {@link #resume()} re-sends the in-flight window: nothing else is sent meanwhile. */
    private boolean resuming;
    /**
     * The store's record of this session's current generation; {@code null} while its state is not written to the
     * store. Once set, stays set for the session's life (a Clean Start replaces it with the next generation's).
     */
    private volatile SessionRecord record;
    /** Highest stored queue position held in memory, sent or done. */
    private long cursor;
    /** Highest stored queue position known to exist; above {@link #cursor} while some are only on disk. */
    private long lastStoredSeq;
    private boolean pageRequested;
    /** Positions of recovered in-flight deliveries, not to be queued again when their page is read. */
    private Set<Long> recoveredInflightSeqs;
    /** Changes when the stored queue is dropped, so that a page read before that is ignored. */
    private int pageEpoch;
    private long disconnectedAtMillis;
    /** PUBLISH packets of this session waiting in {@link #writeWhenDurable}. */
    private int writesWaiting;

    private ClientConnection connection;
    /** The attached client's rights under the ACL; {@code null} without an ACL (nothing to check). */
    private TopicAccess access;
    /**
     * The rights of the client that attached last, kept while the session is offline; read by other loops to choose
     * a shared-subscription member ({@link #mayRead}). {@code null} without an ACL, and for a session restored from
     * the store that no client has resumed yet.
     */
    private volatile TopicAccess lastAccess;
    /** Whether a connection is attached; read by other loops to prefer online shared-subscription members. */
    private volatile boolean online;
    private long expiryIntervalSeconds;
    private boolean discarded;
    private final Map<String, Subscription> subscriptions = new HashMap<>();
    private final Map<String, Subscription> subscriptionsView = java.util.Collections.unmodifiableMap(subscriptions);
    private final ArrayDeque<Delivery> queue = new ArrayDeque<>(2); // grows on demand; most sessions queue nothing
    /** Bytes of {@link #queue}; written on the owner only, read from other loops by the queue budget (opaque). */
    private long queuedBytes;
    /** Whether this session is in {@link LargeQueues}, where the budget sheds from. */
    private boolean largeQueue;
    /** {@link QueueBudget#largeQueueBytes} for this broker's settings; 0 until first needed. */
    private long largeQueueBytes;
    /** Messages this session's queue dropped (its own limits or the global budget). */
    private long dropped;
    private final LinkedHashMap<Integer, Inflight> inflight = new LinkedHashMap<>();
    private final Set<Integer> inboundQos2 = new HashSet<>();
    private int nextPacketId = 1;
    private ScheduledFuture<?> expiryTask;
    private ScheduledFuture<?> willTask;
    private Runnable pendingWill;
    private long droppedSinceLog;
    private long lastDropLogNs;
    /** Retained messages of new subscriptions still to be handed over, a page at a time as the queue drains. */
    private ArrayDeque<RetainedFeed> retainedFeeds;

    public Session(String clientId, EventExecutor owner, SessionContext context) {
        this.clientId = clientId;
        this.owner = owner;
        this.config = context.config();
        this.metrics = context.metrics();
        this.store = context.store();
        this.largeQueues = context.largeQueues();
    }

    /** Whether its QoS 1/2 deliveries, subscriptions and state go to the store; safe to call from any thread. */
    public boolean storesMessages() {
        return record != null;
    }

    /** The store's record of this session's generation, {@code null} while it is not stored. */
    SessionRecord record() {
        return record;
    }

    /** Starts (or replaces, for a Clean Start) the store's record of this session; on the owner. */
    void record(SessionRecord r) {
        record = r;
    }

    @Override
    public StoredQueue storedQueue() {
        SessionRecord r = record;
        return r == null ? null : r.queue();
    }

    long disconnectedAtMillis() {
        return disconnectedAtMillis;
    }

    void disconnectedAtMillis(long v) {
        disconnectedAtMillis = v;
    }

    /** Restores the state of a session read from the store at start-up (on its owner, before it is used). */
    void restore(StoredSession st) {
        record = st.record();
        expiryIntervalSeconds = st.expirySeconds();
        disconnectedAtMillis = st.disconnectedAtMillis();
        for (Subscription s : st.subscriptions()) {
            subscriptions.put(s.filter(), s);
        }
        inboundQos2.addAll(st.inboundQos2());
        int maxId = 0;
        for (StoredInflight f : st.inflight()) {
            Inflight i = new Inflight(f.delivery());
            i.stored = true;
            if (f.delivery() == null) {
                i.state = OutboundState.PUBREL_SENT;
            } else {
                if (recoveredInflightSeqs == null) {
                    recoveredInflightSeqs = new HashSet<>();
                }
                recoveredInflightSeqs.add(f.delivery().seq());
            }
            inflight.put(f.packetId(), i);
            maxId = Math.max(maxId, f.packetId());
        }
        nextPacketId = maxId == 65_535 ? 1 : maxId + 1;
        lastStoredSeq = st.lastSeq();
    }

    public String clientId() {
        return clientId;
    }

    @Override
    public EventExecutor owner() {
        return owner;
    }

    /** Runs a command on the session's owner: now if called there, else posted, following ownership changes. */
    @Override
    public void execute(Runnable command) {
        EventExecutor o = owner;
        if (o.inEventLoop()) {
            command.run();
        } else {
            o.execute(() -> execute(command));
        }
    }

    /** Moves ownership to another loop; called on the current owner, which then stops touching the session. */
    void moveTo(EventExecutor newOwner) {
        owner = newOwner;
    }

    /** Starts a take-over (on the owner): returns the epoch the new connection's attach must find. */
    int beginTakeover() {
        return ++epoch;
    }

    /** The current take-over epoch; readable from any thread. */
    int epoch() {
        return epoch;
    }

    public ClientConnection connection() {
        return connection;
    }

    public boolean isDiscarded() {
        return discarded;
    }

    public long expiryIntervalSeconds() {
        return expiryIntervalSeconds;
    }

    public void expiryIntervalSeconds(long seconds) {
        expiryIntervalSeconds = seconds;
    }

    /** The subscriptions by filter as subscribed ({@code $share} prefix included); a read-only view, on the owner. */
    public Map<String, Subscription> subscriptions() {
        return subscriptionsView;
    }

    /**
     * Adds or replaces a subscription (on the owner), writing it to the store if the session is stored; the caller
     * adds it to the subscription index. Returns the subscription with the same filter it replaced, if any.
     */
    public Subscription addSubscription(Subscription s) {
        Subscription old = subscriptions.put(s.filter(), s);
        SessionRecord r = record;
        if (r != null) {
            r.saveSubscription(s);
        }
        return old;
    }

    /**
     * Removes the subscription to {@code filter} (on the owner), stops the hand-over of its retained messages and
     * deletes it from the store if the session is stored; the caller removes it from the subscription index. Returns
     * it, {@code null} if there was none.
     */
    public Subscription removeSubscription(String filter) {
        Subscription old = subscriptions.remove(filter);
        if (old == null) {
            return null;
        }
        cancelRetained(filter);
        SessionRecord r = record;
        if (r != null) {
            r.deleteSubscription(filter);
        }
        return old;
    }

    /**
     * Puts the subscription to {@code filter} back to {@code restore} (none if {@code null}) after a store write for it
     * failed, provided it is still {@code current} (none if {@code null}): memory only, the store still holds the old
     * state. Returns whether it did; the caller updates the subscription index the same way.
     */
    public boolean restoreSubscription(String filter, Subscription current, Subscription restore) {
        if (discarded || subscriptions.get(filter) != current) {
            return false;
        }
        if (restore == null) {
            subscriptions.remove(filter);
        } else {
            subscriptions.put(filter, restore);
        }
        return true;
    }

    /** Number of messages queued beyond the inflight window. */
    public int queuedCount() {
        return queue.size();
    }

    public int inflightCount() {
        return inflight.size();
    }

    // ---------------------------------------------------------------- lifecycle (called by SessionManager)

    void attach(ClientConnection c) {
        cancelExpiry();
        connection = c;
        access = c.topicAccess();
        lastAccess = access;
        online = true;
    }

    void detach() {
        connection = null;
        access = null;
        online = false;
    }

    /**
     * Whether the client that attached last (connected now or not) may read the topic; true without an ACL and before
     * any client attached to a restored session (its delivery is checked when one does). Safe to call from any thread:
     * it does not touch the connection's decision cache.
     */
    public boolean mayRead(String topic) {
        TopicAccess a = lastAccess;
        return a == null || a.mayReadFromAnyThread(topic);
    }

    /** Whether a connection is attached; safe to call from any thread. */
    public boolean isOnline() {
        return online;
    }

    /**
     * Removes and returns the deliveries that came through shared subscriptions and have not reached the client:
     * queued ones, and QoS 1 ones still waiting for PUBACK. Called when the connection is lost, so they can go to
     * another member of their group (5.0 4.8.2). A QoS 2 message already sent stays: it is completed to this client
     * when it reconnects [MQTT-4.8.2-4], and never given to another member, even if this session ends first
     * [MQTT-4.8.2-5].
     */
    java.util.List<Delivery> takeSharedDeliveries() {
        java.util.List<Delivery> taken = new java.util.ArrayList<>();
        for (Iterator<Map.Entry<Integer, Inflight>> it = inflight.entrySet().iterator(); it.hasNext(); ) {
            Inflight f = it.next().getValue();
            if (f.delivery != null && f.delivery.group() != null && f.delivery.qos() == 1) {
                taken.add(f.delivery);
                it.remove();
            }
        }
        for (Iterator<Delivery> it = queue.iterator(); it.hasNext(); ) {
            Delivery d = it.next();
            if (d.group() != null) {
                taken.add(d);
                addQueuedBytes(-d.message().weight());
                it.remove();
            }
        }
        for (Delivery d : taken) {
            if (d.isStored()) {
                record.queue().ack(d); // it moves to another member, which stores it again if it keeps messages
            }
        }
        return taken;
    }

    void markDiscarded() {
        discarded = true;
        online = false;
        cancelExpiry();
        dropRetainedFeeds();
        queue.clear();
        addQueuedBytes(-queuedBytes);
        inflight.clear();
        inboundQos2.clear();
    }

    /** Forgets all state, for a Clean Start on an existing session; subscriptions are removed by the caller. */
    void clearState() {
        subscriptions.clear();
        dropRetainedFeeds();
        queue.clear();
        addQueuedBytes(-queuedBytes);
        inflight.clear();
        inboundQos2.clear();
        nextPacketId = 1;
        cursor = lastStoredSeq; // the stored queue is dropped with the rest (SessionManager deletes it)
        recoveredInflightSeqs = null;
        pageEpoch++;
        pageRequested = false;
    }

    /** Publishes the Will after a delay (5.0 Will Delay Interval) unless cancelled or fired first. */
    void scheduleWill(Runnable publish, long delaySeconds) {
        cancelWill();
        pendingWill = publish;
        willTask = owner.schedule(this::firePendingWill, delaySeconds, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** A connection resumed the session before the Will Delay Interval passed: no Will [MQTT-3.1.3-9]. */
    void cancelWill() {
        if (willTask != null) {
            willTask.cancel(false);
            willTask = null;
        }
        pendingWill = null;
    }

    /** The session ends before the Will Delay Interval passed: the Will goes out now (5.0 3.1.2.5). */
    void firePendingWill() {
        Runnable w = pendingWill;
        cancelWill();
        if (w != null) {
            w.run();
        }
    }

    boolean hasPendingWill() {
        return pendingWill != null;
    }

    void scheduleExpiry(Runnable onExpiry, long delaySeconds) {
        cancelExpiry();
        expiryTask = owner.schedule(onExpiry, delaySeconds, java.util.concurrent.TimeUnit.SECONDS);
    }

    private void cancelExpiry() {
        if (expiryTask != null) {
            expiryTask.cancel(false);
            expiryTask = null;
        }
    }

    /**
     * After CONNACK on a resumed session: resends unacknowledged PUBLISH (DUP=1) and PUBREL in their original
     * order [MQTT-4.4.0-1], then sends what is queued.
     */
    public void resume() {
        // a write can flush and fire a writability change, whose drain() must not send newer messages in between
        // (nor change the window while it is walked): the resends go first, in their original order
        resuming = true;
        try {
            for (Map.Entry<Integer, Inflight> e : new java.util.ArrayList<>(inflight.entrySet())) {
                Inflight f = e.getValue();
                if (connection == null) {
                    return; // closed meanwhile; the rest is re-sent to the next connection
                }
                if (f.state == OutboundState.PUBLISH_SENT && access != null
                        && !access.canRead(f.delivery.message().topic())) {
                    // sent to an earlier connection of this session; the client connected now may not read it
                    inflight.remove(e.getKey());
                    metrics.messagesNotAuthorized.increment();
                    if (f.stored) {
                        record.inflightDone(e.getKey());
                    }
                    if (f.delivery.isStored()) {
                        record.queue().ack(f.delivery);
                    }
                    continue;
                }
                MqttPacket p = f.state == OutboundState.PUBLISH_SENT ? toPacket(f.delivery, e.getKey(), true)
                        : PubRelPacket.of(e.getKey());
                if (f.unrecorded) {
                    // its in-flight record was not stored: written again first, or a crash would bring the message
                    // back under another packet id
                    f.unrecorded = false;
                    record.inflightSent(e.getKey(), f.delivery);
                    writeWhenDurable(p, f);
                } else if (writesWaiting > 0) {
                    writeWhenDurable(p, null); // behind one that waits for its record: keep the order
                } else {
                    connection.write(p);
                }
            }
        } finally {
            resuming = false;
        }
        drain();
    }

    // ---------------------------------------------------------------- outbound

    /** Delivers a message to this session: sent now if the window and socket allow, queued otherwise. */
    public void deliver(Delivery d) {
        if (discarded) {
            return;
        }
        if (connection == null && d.qos() == 0 && !config.queueQos0Messages()) {
            return; // QoS 0 is not kept for offline sessions unless configured
        }
        if (connection != null && queue.isEmpty() && !feeding() && canSend(d)) {
            send(d);
            return;
        }
        enqueue(d); // behind the retained messages of a new subscription, while they are handed over
    }

    /** Whether the retained messages of a new subscription are being handed over: live deliveries wait behind them. */
    private boolean feeding() {
        return retainedFeeds != null && !retainedFeeds.isEmpty();
    }

    private boolean canSend(Delivery d) {
        return connection.isWritable() && (d.qos() == 0 || inflight.size() < window());
    }

    private int window() {
        return Math.min(config.maxInflightMessages(), connection.clientReceiveMaximum());
    }

    private void enqueue(Delivery d) {
        long w = d.message().weight();
        if (queue.size() >= config.maxQueuedMessages() || queuedBytes + w > config.maxQueuedBytes()) {
            if (config.dropPolicy() == DropPolicy.DROP_OLDEST && !queue.isEmpty()) {
                Delivery old = queue.pollFirst();
                addQueuedBytes(-old.message().weight());
                countDrop();
            } else {
                countDrop();
                return;
            }
        }
        queue.addLast(d);
        addQueuedBytes(w);
    }

    /**
     * This session's queued bytes and the broker-wide total (max-queued-bytes-total) move together. A queue that
     * reaches {@link QueueBudget#largeQueueBytes} joins the {@link LargeQueues}, where the budget looks for what to
     * shed, and leaves them when it is empty again: a set operation per such round trip, not per message.
     */
    private void addQueuedBytes(long delta) {
        long q = queuedBytes + delta;
        QUEUED_BYTES.setOpaque(this, q);
        metrics.queuedBytes.add(delta);
        if (largeQueue) {
            if (q == 0) {
                largeQueue = false;
                largeQueues.remove(this);
            }
        } else if (q >= largeQueueBytes()) {
            largeQueue = true;
            largeQueues.add(this);
        }
    }

    private long largeQueueBytes() {
        long t = largeQueueBytes;
        if (t == 0) {
            t = QueueBudget.largeQueueBytes(config);
            largeQueueBytes = t;
        }
        return t;
    }

    /** Bytes queued in memory, as last written by the owner; may be called from any thread. */
    long queuedBytesFromAnyThread() {
        return (long) QUEUED_BYTES.getOpaque(this);
    }

    /** The queued deliveries, oldest first (a copy, on the owner; for tests). */
    List<Delivery> queuedDeliveries() {
        return List.copyOf(queue);
    }

    /** Messages dropped from this session's queue since it was created (its own limits or the global budget). */
    public long droppedCount() {
        return dropped;
    }

    /**
     * max-queued-bytes-total: frees at least {@code bytes} of this session's in-memory queue, or all it can, on the
     * owner. Without loss first: stored deliveries go back to the store, the newest first, to be paged in again when
     * the queue has drained (not while a page read is outstanding, which would skip them). Then QoS 0 messages,
     * oldest first; then the oldest messages of any QoS. Dropped messages are counted (messagesDropped and
     * messagesShed) and logged by the budget; the order of what stays is unchanged.
     *
     * @return the bytes freed
     */
    long shed(long bytes) {
        if (discarded || queue.isEmpty() || bytes <= 0) {
            return 0;
        }
        long freed = pageRequested ? 0 : unloadStored(bytes);
        if (freed < bytes) {
            freed += dropQueued(bytes - freed, true);
        }
        if (freed < bytes) {
            freed += dropQueued(bytes - freed, false);
        }
        return freed;
    }

    /**
     * Removes the newest stored deliveries from memory (at least {@code bytes} if there are that many) and moves the
     * cursor back before them, so that they are read again from the store once the queue has drained (see the
     * class comment: {@link #lastStoredSeq} &gt; {@link #cursor} says that some are only on disk). Stored
     * deliveries are in position order in the queue, and every position below the cursor that is not in memory is
     * in flight or done, so the new cursor is exact.
     */
    private long unloadStored(long bytes) {
        long sum = 0;
        long from = 0;
        for (Iterator<Delivery> it = queue.descendingIterator(); it.hasNext() && sum < bytes; ) {
            Delivery d = it.next();
            if (d.isStored()) {
                sum += d.message().weight();
                from = d.seq();
            }
        }
        if (from == 0) {
            return 0;
        }
        long freed = 0;
        int count = 0;
        for (int i = 0, n = queue.size(); i < n; i++) {
            Delivery d = queue.pollFirst();
            if (d.isStored() && d.seq() >= from) {
                freed += d.message().weight();
                count++;
            } else {
                queue.addLast(d);
            }
        }
        lastStoredSeq = Math.max(lastStoredSeq, cursor);
        cursor = from - 1;
        addQueuedBytes(-freed);
        metrics.storedUnloaded.add(count);
        return freed;
    }

    /** Drops queued deliveries that are not stored, oldest first (only QoS 0 ones if asked), keeping the order. */
    private long dropQueued(long bytes, boolean qos0Only) {
        long freed = 0;
        int count = 0;
        for (int i = 0, n = queue.size(); i < n; i++) {
            Delivery d = queue.pollFirst();
            if (freed < bytes && !d.isStored() && (!qos0Only || d.qos() == 0)) {
                freed += d.message().weight();
                count++;
            } else {
                queue.addLast(d);
            }
        }
        if (count > 0) {
            addQueuedBytes(-freed);
            dropped += count;
            metrics.messagesDropped.add(count);
            metrics.messagesShed.add(count);
        }
        return freed;
    }

    /** The store refused a delivery because this session's stored queue is full: counted as dropped. */
    @Override
    public void storedQueueFull() {
        countDrop();
    }

    private void countDrop() {
        metrics.messagesDropped.increment();
        dropped++;
        droppedSinceLog++;
        long now = System.nanoTime();
        if (lastDropLogNs == 0 || now - lastDropLogNs > DROP_LOG_INTERVAL_NS) {
            LOG.warn("Queue of client '{}' full ({} messages, {} bytes): dropped {} message(s)", clientId,
                    queue.size(), queuedBytes, droppedSinceLog);
            droppedSinceLog = 0;
            lastDropLogNs = now;
        }
    }

    /**
     * Sends queued messages while the window and the socket allow; reads the next page of the stored queue once the
     * queue is empty; hands over retained messages of new subscriptions while the queue has room.
     */
    @Override
    public void drain() {
        if (resuming) {
            return; // resume() drains once the in-flight window is re-sent
        }
        if (retainedFeeds != null && connection != null) {
            pumpRetained();
            if (feeding()) {
                return; // what was queued meanwhile follows the retained messages
            }
        }
        while (connection != null && !queue.isEmpty()) {
            Delivery d = queue.peekFirst();
            if (!canSend(d)) {
                break;
            }
            queue.pollFirst();
            addQueuedBytes(-d.message().weight());
            send(d);
        }
        if (connection != null && queue.isEmpty() && lastStoredSeq > cursor && !pageRequested) {
            requestPage();
        }
    }

    // ---------------------------------------------------------------- retained messages of new subscriptions

    /**
     * Starts handing over the retained messages of a new subscription (on the owner), a page at a time as the queue
     * drains, so that however many match, none is dropped for want of room and no more are read than the queue can
     * take. Feeds run one after the other, in the order of the subscriptions; one for the same filter that has not
     * finished is replaced. Live messages that arrive meanwhile are queued behind them, so that a retained message
     * never follows a newer message of its topic [MQTT-4.6.0-6].
     */
    public void feedRetained(RetainedFeed feed) {
        if (discarded) {
            return;
        }
        cancelRetained(feed.filter());
        if (retainedFeeds == null) {
            retainedFeeds = new ArrayDeque<>(2);
        }
        retainedFeeds.addLast(feed);
        drain();
    }

    /** Stops handing over the retained messages of a filter (it was unsubscribed). */
    public void cancelRetained(String filter) {
        if (retainedFeeds != null) {
            retainedFeeds.removeIf(f -> {
                if (f.filter().equals(filter)) {
                    f.cancel();
                    return true;
                }
                return false;
            });
        }
    }

    /**
     * Whether {@link #deliverRetained} would send {@code d} now: the connection takes it (writable, room in the
     * in-flight window). Retained messages are not queued, so they never wait behind live ones.
     */
    @Override
    public boolean accepts(Delivery d) {
        return connection != null && canSend(d);
    }

    /** Sends a retained message of a new subscription, which {@link #accepts} took (on the owner). */
    @Override
    public void deliverRetained(Delivery d) {
        if (!discarded && connection != null) {
            send(d);
        }
    }

    private void pumpRetained() {
        RetainedFeed f;
        while (retainedFeeds != null && (f = retainedFeeds.peekFirst()) != null) {
            if (!f.pump(this)) {
                return;
            }
            // a write may have drained the session from within pump (writability), which may have removed f already
            retainedFeeds.remove(f);
        }
    }

    private void dropRetainedFeeds() {
        if (retainedFeeds != null) {
            retainedFeeds.forEach(RetainedFeed::cancel);
            retainedFeeds = null;
        }
    }

    // ---------------------------------------------------------------- stored queue

    /**
     * A stored delivery from the store (on the owner), in queue order: sent or held in memory while the memory
     * window allows and nothing older is still on disk; otherwise left on disk to be paged in.
     */
    @Override
    public void deliverStored(Delivery d) {
        if (discarded || d.seq() <= cursor) {
            return; // the session ended (the store dropped its queue), or the entry came in with a page already
        }
        int window = connection == null ? 0 : STORED_WINDOW;
        if (lastStoredSeq > cursor || queue.size() >= window) {
            lastStoredSeq = Math.max(lastStoredSeq, d.seq()); // stays on disk until its page is read
            return;
        }
        cursor = d.seq();
        lastStoredSeq = cursor;
        if (queue.isEmpty() && !feeding() && canSend(d)) {
            send(d);
            return;
        }
        queue.addLast(d);
        addQueuedBytes(d.message().weight());
    }

    private void requestPage() {
        pageRequested = true;
        long upTo = lastStoredSeq;
        int epoch = pageEpoch;
        record.queue().read(cursor, PAGE_SIZE, this, page -> {
            if (epoch == pageEpoch) {
                onPage(page, upTo);
            }
        });
    }

    /**
     * A page of the stored queue read after {@link #cursor}. A short page means the store had nothing more when it
     * was read, so every position up to {@code upTo} (all committed before the read was asked for) is accounted for.
     */
    private void onPage(List<Delivery> page, long upTo) {
        pageRequested = false;
        if (discarded) {
            return;
        }
        for (Delivery d : page) {
            if (d.seq() <= cursor) {
                continue;
            }
            cursor = d.seq();
            if (recoveredInflightSeqs != null && recoveredInflightSeqs.remove(d.seq())) {
                continue; // in flight already: it is re-sent from there
            }
            queue.addLast(d);
            addQueuedBytes(d.message().weight());
        }
        if (page.size() < PAGE_SIZE) {
            cursor = Math.max(cursor, upTo);
        }
        lastStoredSeq = Math.max(lastStoredSeq, cursor);
        if (connection != null) {
            drain();
        }
    }

    private void send(Delivery d) {
        if (access != null && !access.canRead(d.message().topic())) {
            // the ACL: a wildcard subscription, a retained or a queued message never shows a topic the client may
            // not read (checked per delivered topic, with the client's decision cache)
            metrics.messagesNotAuthorized.increment();
            if (LOG.isDebugEnabled()) {
                LOG.debug("Not delivered to client '{}': may not read '{}'", clientId, d.message().topic());
            }
            if (d.isStored()) {
                record.queue().ack(d); // done with, as if delivered: it leaves the stored queue
            }
            return;
        }
        long now = d.message().expiresAtMillis() == Message.NEVER ? 0 : System.currentTimeMillis();
        if (now != 0 && d.message().isExpired(now)) {
            // [MQTT-3.3.2-5] expired before onward delivery started: delete this subscriber's copy
            metrics.messagesExpired.increment();
            if (d.isStored()) {
                record.queue().ack(d);
            }
            return;
        }
        int packetId = d.qos() > 0 ? allocatePacketId() : 0;
        PublishPacket packet = toPacket(d, packetId, false);
        long max = connection.clientMaximumPacketSize();
        if (max != Long.MAX_VALUE && PacketEncoder.encodedSize(packet, connection.version()) > max) {
            // [MQTT-3.1.2-25] too large for the client: discard it as if it had been delivered
            metrics.messagesDropped.increment();
            if (d.isStored()) {
                record.queue().ack(d);
            }
            return;
        }
        metrics.messagesDelivered.increment();
        if (d.qos() > 0) {
            Inflight f = new Inflight(d);
            inflight.put(packetId, f);
            if (d.qos() == 2 && d.isStored()) {
                // the packet id must survive a crash, or a re-send under another id would be a second delivery
                // to the client: the PUBLISH leaves once its in-flight record is durable
                f.stored = true;
                record.inflightSent(packetId, d);
                writeWhenDurable(packet, f);
                return;
            }
        }
        if (writesWaiting > 0) {
            writeWhenDurable(packet, null); // behind a QoS 2 PUBLISH that waits for its record: the session's order
            return;
        }
        connection.write(packet);
    }

    /**
     * Writes a packet once what the store holds for this loop is durable. Actions of one loop run in the order they
     * were asked for, so packets written through here keep their order among themselves, and later packets of the
     * session follow them through here too while any waits ({@link #writesWaiting}). If the store could not write
     * what the packet depends on (a QoS 2 PUBLISH's in-flight record), the packet is not sent and the connection is
     * closed: the message stays in flight and is re-sent to the client's next connection, after its record
     * ({@code recorded}, if given) is written again.
     */
    private void writeWhenDurable(MqttPacket packet, Inflight recorded) {
        ClientConnection c = connection;
        writesWaiting++;
        store.whenDurable(() -> execute(() -> {
            writesWaiting--;
            if (connection == c) {
                c.write(packet);
            }
        }), () -> execute(() -> {
            writesWaiting--;
            if (recorded != null) {
                recorded.unrecorded = true;
            }
            if (connection == c) {
                storeFailed(c);
            }
        }));
    }

    /** The store did not keep what an outbound packet depends on: the client reconnects and gets it again. */
    private void storeFailed(ClientConnection c) {
        LOG.warn("Client '{}': the store could not record a message in flight to it; closing its connection (the message"
                + " is sent again when it reconnects)", clientId);
        c.closeWithReason(ReasonCode.UNSPECIFIED_ERROR);
    }

    private int allocatePacketId() {
        while (true) {
            int id = nextPacketId;
            nextPacketId = id == 65_535 ? 1 : id + 1;
            if (!inflight.containsKey(id)) {
                return id;
            }
        }
    }

    private PublishPacket toPacket(Delivery d, int packetId, boolean dup) {
        Message m = d.message();
        Properties props = m.properties();
        if (connection.version().isV5()) {
            boolean expires = m.expiresAtMillis() != Message.NEVER;
            if (!d.subscriptionIds().isEmpty() || expires) {
                Properties.Builder b = props.toBuilder();
                d.subscriptionIds().forEach(b::addSubscriptionIdentifier);
                if (expires) {
                    // [MQTT-3.3.2-6] forward the interval minus the time the message waited here
                    b.messageExpiryInterval(Math.max(1, m.remainingExpirySeconds(System.currentTimeMillis())));
                }
                props = b.build();
            }
        } else {
            props = Properties.EMPTY;
        }
        return new PublishPacket(m.topic(), d.qos(), d.retain(), dup, packetId, props, m.payload());
    }

    /** PUBACK from the client: the QoS 1 message is done. */
    public void onPubAck(int packetId) {
        Inflight f = inflight.get(packetId);
        if (f != null && f.delivery != null && f.delivery.qos() == 1) {
            inflight.remove(packetId);
            if (f.delivery.isStored()) {
                record.queue().ack(f.delivery);
            }
            drain();
        }
    }

    /** PUBREC from the client: answer PUBREL, or drop the message if the client refused it (5.0 reason code). */
    public void onPubRec(int packetId, ReasonCode reason) {
        Inflight f = inflight.get(packetId);
        if (f == null || (f.delivery != null && f.delivery.qos() != 2)) {
            connection.write(new PubRelPacket(packetId, connection.version().isV5()
                    ? ReasonCode.PACKET_IDENTIFIER_NOT_FOUND : ReasonCode.SUCCESS, Properties.EMPTY));
            return;
        }
        if (reason.isError()) {
            inflight.remove(packetId);
            if (f.stored) {
                record.inflightDone(packetId);
            }
            if (f.delivery != null && f.delivery.isStored()) {
                record.queue().ack(f.delivery);
            }
            drain();
            return;
        }
        if (f.stored) {
            boolean recorded = f.state == OutboundState.PUBLISH_SENT;
            if (recorded) {
                // together: a crash between the two would either lose the PUBREL or deliver the message again
                store.atomically(() -> {
                    record.inflightReleased(packetId);
                    if (f.delivery != null && f.delivery.isStored()) {
                        record.queue().ack(f.delivery);
                    }
                });
            }
            f.state = OutboundState.PUBREL_SENT;
            // once PUBREL is out the client may forget the packet id: a crash must not bring the PUBLISH back
            ClientConnection c = connection;
            store.whenDurable(() -> execute(() -> {
                if (connection == c) {
                    c.write(PubRelPacket.of(packetId)); // [MQTT-4.3.3-1] PUBREL after PUBREC
                }
            }), () -> execute(() -> {
                if (recorded && inflight.get(packetId) == f) {
                    f.state = OutboundState.PUBLISH_SENT; // as the store still has it: the PUBLISH is re-sent
                }
                if (connection == c) {
                    storeFailed(c);
                }
            }));
            return;
        }
        f.state = OutboundState.PUBREL_SENT;
        connection.write(PubRelPacket.of(packetId)); // [MQTT-4.3.3-1] PUBREL after PUBREC
    }

    /** PUBCOMP from the client: the QoS 2 message is done. */
    public void onPubComp(int packetId) {
        Inflight f = inflight.get(packetId);
        if (f != null && f.state == OutboundState.PUBREL_SENT) {
            inflight.remove(packetId);
            if (f.stored) {
                record.inflightDone(packetId);
            }
            drain();
        }
    }

    // ---------------------------------------------------------------- inbound QoS 2

    /**
     * Records an inbound QoS 2 packet id; false when it is already awaiting PUBREL, i.e. the PUBLISH is a
     * duplicate that must be acknowledged but not routed again [MQTT-4.3.3-2].
     */
    public boolean beginInboundQos2(int packetId) {
        boolean added = inboundQos2.add(packetId);
        if (added && record != null) {
            record.inboundQos2(packetId, true);
        }
        return added;
    }

    /** PUBREL from the client: forgets the packet id; false if it was unknown. */
    public boolean releaseInboundQos2(int packetId) {
        boolean removed = inboundQos2.remove(packetId);
        if (removed && record != null) {
            record.inboundQos2(packetId, false);
        }
        return removed;
    }

    /**
     * The store lost what an inbound QoS 2 packet id depends on: with {@code awaiting} the id is awaiting PUBREL again
     * (its release was not stored), otherwise it is forgotten (its message was not stored, so a re-sent PUBLISH must
     * be routed again, not taken for a duplicate). Memory only: it now says what the store holds.
     */
    public void undoInboundQos2(int packetId, boolean awaiting) {
        if (awaiting) {
            inboundQos2.add(packetId);
        } else {
            inboundQos2.remove(packetId);
        }
    }

    /** Whether an inbound QoS 2 packet id awaits PUBREL. */
    public boolean isAwaitingRelease(int packetId) {
        return inboundQos2.contains(packetId);
    }

    public int inboundQos2Count() {
        return inboundQos2.size();
    }

    /** For iteration by the session manager when the session ends. */
    Iterator<Subscription> subscriptionIterator() {
        return subscriptions.values().iterator();
    }
}
