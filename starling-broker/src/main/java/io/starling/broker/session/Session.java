package io.starling.broker.session;

import io.netty.util.concurrent.EventExecutor;
import io.starling.broker.acl.TopicAccess;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.message.Delivery;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.retain.RetainedFeed;
import io.starling.broker.store.QueueOwner;
import io.starling.broker.store.SessionRecord;
import io.starling.broker.store.Store;
import io.starling.broker.store.StoredQueue;
import io.starling.broker.store.StoredSession;
import io.starling.broker.time.Clock;
import io.starling.broker.topic.Subscription;
import io.starling.codec.Properties;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.MqttPacket;
import io.starling.codec.packet.PubRelPacket;
import io.starling.codec.packet.PublishPacket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One MQTT session, as a coordinator of its parts: its subscriptions, the memory queue ({@link OutboundQueue}), the
 * position in its stored queue ({@link StoredQueueCursor}), the in-flight window ({@link InflightWindow}), the inbound
 * QoS 2 packet ids ({@link InboundQos2}), the Will delay and expiry ({@link SessionTimers}), the hand-over of retained
 * messages ({@link RetainedFeeds}) and, while a connection is attached, what of a delivery reaches it
 * ({@link DeliveryFilter}). The session decides when a delivery is sent, queued or done, and writes to the store
 * what must survive its connection ({@link SessionRecord}, {@link StoredQueue}).
 *
 * <p>Thread-safety: a session is owned by one event loop ({@link #owner()}) — its connection's loop while one is
 * attached, the last one afterwards — and every method except {@link #owner()}, {@link #clientId()},
 * {@link #execute(Runnable)}, {@link #storesMessages()}, {@link #storedQueue()}, {@link #mayRead} and
 * {@link #isOnline()} must run there. Other threads post commands with {@link #execute(Runnable)}, which follows the
 * session when a takeover moves it to another loop.
 *
 * <h2>Stored queue</h2>
 *
 * A session that outlives its connection on a durable store ({@link #storesMessages()}) gets its QoS 1/2 deliveries
 * through the store ({@link #deliverStored}), each with a queue position, in position order; the
 * {@link StoredQueueCursor} decides which are held in memory and when the next page is read.
 *
 * <h2>The end of a delivery</h2>
 *
 * A delivery ends in one place, {@link #done}: acknowledged, expired, refused by the ACL or the client, too large for
 * the client, or moved to another member of its shared-subscription group; a stored one leaves the stored queue there.
 */
public final class Session implements QueueOwner, RetainedFeed.Target {

    private static final Logger LOG = LoggerFactory.getLogger(Session.class);

    /** How a delivery ended, for {@link #done}. */
    private enum End {
        /** Acknowledged by the client (PUBACK, or PUBREC for QoS 2). */
        ACKNOWLEDGED,
        /** Refused by the client (5.0 PUBREC with an error reason code). */
        REFUSED,
        /** The client may not read its topic. */
        NOT_AUTHORIZED,
        /** Expired before onward delivery started [MQTT-3.3.2-5]. */
        EXPIRED,
        /** Larger than the client's Maximum Packet Size [MQTT-3.1.2-25]. */
        TOO_LARGE,
        /** Given to another member of its shared-subscription group (5.0 4.8.2). */
        MOVED
    }

    private final String clientId;
    private final BrokerConfig config;
    private final BrokerMetrics metrics;
    private final Store store;
    private final Clock clock;
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
    private long disconnectedAtMillis;
    /** PUBLISH packets of this session waiting in {@link #writeWhenDurable}. */
    private int writesWaiting;

    private ClientConnection connection;
    /** Checks and builds what is sent to {@link #connection}; {@code null} while none is attached. */
    private DeliveryFilter filter;
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
    private final Map<String, Subscription> subscriptionsView = Collections.unmodifiableMap(subscriptions);
    private final OutboundQueue queue;
    private final StoredQueueCursor stored = new StoredQueueCursor();
    private final InflightWindow inflight = new InflightWindow();
    private final InboundQos2 inbound = new InboundQos2();
    private final SessionTimers timers;
    private final RetainedFeeds feeds = new RetainedFeeds();

    public Session(String clientId, EventExecutor owner, SessionContext context) {
        this.clientId = clientId;
        this.owner = owner;
        this.config = context.config();
        this.metrics = context.metrics();
        this.store = context.store();
        this.clock = context.clock();
        this.queue = new OutboundQueue(this, config, metrics, context.largeQueues());
        this.timers = new SessionTimers(clock);
    }

    // ---------------------------------------------------------------- identity, ownership, store record

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
        inbound.restore(st.inboundQos2());
        stored.restore(st.lastSeq(), inflight.restore(st.inflight()));
    }

    // ---------------------------------------------------------------- state read by the server and the manager

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

    /** Number of messages queued beyond the inflight window. */
    public int queuedCount() {
        return queue.size();
    }

    public int inflightCount() {
        return inflight.size();
    }

    /** Messages dropped from this session's queue since it was created (its own limits or the global budget). */
    public long droppedCount() {
        return queue.dropped();
    }

    /** Bytes queued in memory, as last written by the owner; may be called from any thread. */
    long queuedBytesFromAnyThread() {
        return queue.bytesFromAnyThread();
    }

    /** The queued deliveries, oldest first (a copy, on the owner; for tests and tools). */
    public List<Delivery> queuedDeliveries() {
        return queue.snapshot();
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

    // ---------------------------------------------------------------- subscriptions

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
        feeds.cancel(filter);
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

    /** Removes every subscription (the session ends, or starts clean) and returns them, for the index. */
    List<Subscription> removeAllSubscriptions() {
        List<Subscription> all = new ArrayList<>(subscriptions.values());
        subscriptions.clear();
        return all;
    }

    // ---------------------------------------------------------------- lifecycle (called by SessionManager)

    void attach(ClientConnection c) {
        timers.cancelExpiry();
        connection = c;
        filter = new DeliveryFilter(c.topicAccess(), c.version(), c.clientMaximumPacketSize(), clock);
        lastAccess = filter.access();
        online = true;
    }

    void detach() {
        connection = null;
        filter = null;
        online = false;
    }

    /**
     * Removes and returns the deliveries that came through shared subscriptions and have not reached the client:
     * queued ones, and QoS 1 ones still waiting for PUBACK. Called when the connection is lost, so they can go to
     * another member of their group (5.0 4.8.2). A QoS 2 message already sent stays: it is completed to this client
     * when it reconnects [MQTT-4.8.2-4], and never given to another member, even if this session ends first
     * [MQTT-4.8.2-5].
     */
    List<Delivery> takeSharedDeliveries() {
        List<Delivery> taken = inflight.takeSharedQos1();
        taken.addAll(queue.takeShared());
        for (Delivery d : taken) {
            done(d, End.MOVED); // the other member stores it again if it keeps messages
        }
        return taken;
    }

    void markDiscarded() {
        discarded = true;
        online = false;
        timers.cancelExpiry();
        feeds.clear();
        queue.clear();
        inflight.clear();
        inbound.clear();
    }

    /** Forgets all state, for a Clean Start on an existing session; subscriptions are removed by the caller. */
    void clearState() {
        subscriptions.clear();
        feeds.clear();
        queue.clear();
        inflight.reset();
        inbound.clear();
        stored.clear(); // the stored queue is dropped with the rest (SessionManager starts a new generation)
    }

    /** The session's delayed Will and expiry, scheduled on its owner (by the session manager). */
    SessionTimers timers() {
        return timers;
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
            for (Map.Entry<Integer, InflightWindow.Entry> e : inflight.snapshot()) {
                InflightWindow.Entry f = e.getValue();
                int packetId = e.getKey();
                if (connection == null) {
                    return; // closed meanwhile; the rest is re-sent to the next connection
                }
                if (!f.pubrelSent && !filter.mayRead(f.delivery.message().topic())) {
                    // sent to an earlier connection of this session; the client connected now may not read it
                    inflight.remove(packetId);
                    if (f.stored) {
                        record.inflightDone(packetId);
                    }
                    done(f.delivery, End.NOT_AUTHORIZED);
                    continue;
                }
                MqttPacket p = f.pubrelSent ? PubRelPacket.of(packetId) : filter.toPacket(f.delivery, packetId, true);
                if (f.unrecorded) {
                    // its in-flight record was not stored: written again first, or a crash would bring the message
                    // back under another packet id
                    f.unrecorded = false;
                    record.inflightSent(packetId, f.delivery);
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
        if (connection != null && queue.isEmpty() && !feeds.isFeeding() && canSend(d)) {
            send(d);
            return;
        }
        queue.offer(d); // behind the retained messages of a new subscription, while they are handed over
    }

    /**
     * A stored delivery from the store (on the owner), in queue order: sent or held in memory while the memory
     * window allows and nothing older is still on disk; otherwise left on disk to be paged in.
     */
    @Override
    public void deliverStored(Delivery d) {
        if (discarded || stored.isPast(d.seq())) {
            return; // the session ended (the store dropped its queue), or the entry came in with a page already
        }
        if (!stored.take(d.seq(), queue.size(), connection != null)) {
            return;
        }
        if (queue.isEmpty() && !feeds.isFeeding() && canSend(d)) {
            send(d);
            return;
        }
        queue.addStored(d);
    }

    /** The store refused a delivery because this session's stored queue is full: counted as dropped. */
    @Override
    public void storedQueueFull() {
        queue.countDrop();
    }

    private boolean canSend(Delivery d) {
        return connection.isWritable() && (d.qos() == 0 || inflight.size() < window());
    }

    /**
     * The in-flight window: {@code max-inflight-messages}, and never more unacknowledged QoS 1/2 PUBLISH packets than
     * the client's Receive Maximum (5.0 [MQTT-3.3.4-9]); other packets are never held back by it [MQTT-3.3.4-10].
     */
    private int window() {
        return Math.min(config.maxInflightMessages(), connection.clientReceiveMaximum());
    }

    /**
     * Sends queued messages while the window and the socket allow; reads the next page of the stored queue once the
     * queue is empty; hands over retained messages of new subscriptions while the connection takes them.
     */
    @Override
    public void drain() {
        if (resuming) {
            return; // resume() drains once the in-flight window is re-sent
        }
        if (feeds.any() && connection != null) {
            feeds.pump(this);
            if (feeds.isFeeding()) {
                return; // what was queued meanwhile follows the retained messages
            }
        }
        while (connection != null && !queue.isEmpty()) {
            if (!canSend(queue.peek())) {
                break;
            }
            send(queue.poll());
        }
        if (connection != null && queue.isEmpty() && stored.needsPage()) {
            requestPage();
        }
    }

    private void requestPage() {
        stored.pageRequested();
        long upTo = stored.upTo();
        int pageEpoch = stored.epoch();
        record.queue().read(stored.after(), StoredQueueCursor.PAGE_SIZE, this, page -> {
            if (pageEpoch == stored.epoch()) {
                onPage(page, upTo);
            }
        });
    }

    /** A page of the stored queue read after the cursor (see {@link StoredQueueCursor#pageDone}). */
    private void onPage(List<Delivery> page, long upTo) {
        stored.pageArrived();
        if (discarded) {
            return;
        }
        for (Delivery d : page) {
            if (stored.acceptFromPage(d.seq())) {
                queue.addStored(d);
            }
        }
        stored.pageDone(page.size(), upTo);
        if (connection != null) {
            drain();
        }
    }

    /** Sends a delivery the window and the socket have room for, unless the filter or the client's size refuses it. */
    private void send(Delivery d) {
        DeliveryFilter.Verdict verdict = filter.check(d);
        if (verdict != DeliveryFilter.Verdict.SEND) {
            done(d, verdict == DeliveryFilter.Verdict.EXPIRED ? End.EXPIRED : End.NOT_AUTHORIZED);
            return;
        }
        int packetId = d.qos() > 0 ? inflight.allocatePacketId() : 0;
        PublishPacket packet = filter.toPacket(d, packetId, false);
        if (!filter.fits(packet)) {
            done(d, End.TOO_LARGE);
            return;
        }
        metrics.messagesDelivered.increment();
        if (d.qos() > 0) {
            InflightWindow.Entry f = inflight.add(packetId, d);
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

    /** The one end of every delivery: counted by how it ended, and removed from the stored queue if it is there. */
    private void done(Delivery d, End end) {
        switch (end) {
            case NOT_AUTHORIZED -> {
                metrics.messagesNotAuthorized.increment();
                if (LOG.isDebugEnabled()) {
                    LOG.debug("Not delivered to client '{}': may not read '{}'", clientId, d.message().topic());
                }
            }
            case EXPIRED -> metrics.messagesExpired.increment();
            case TOO_LARGE -> metrics.messagesDropped.increment(); // as if it had been delivered [MQTT-3.1.2-25]
            default -> {
                // acknowledged, refused by the client or moved: nothing to count
            }
        }
        if (d.isStored()) {
            record.queue().ack(d);
        }
    }

    /**
     * Writes a packet once what the store holds for this loop is durable. Actions of one loop run in the order they
     * were asked for, so packets written through here keep their order among themselves, and later packets of the
     * session follow them through here too while any waits ({@link #writesWaiting}). If the store could not write
     * what the packet depends on (a QoS 2 PUBLISH's in-flight record), the packet is not sent and the connection is
     * closed: the message stays in flight and is re-sent to the client's next connection, after its record
     * ({@code recorded}, if given) is written again.
     */
    private void writeWhenDurable(MqttPacket packet, InflightWindow.Entry recorded) {
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

    /** PUBACK from the client: the QoS 1 message is done. */
    public void onPubAck(int packetId) {
        InflightWindow.Entry f = inflight.get(packetId);
        if (f != null && f.delivery != null && f.delivery.qos() == 1) {
            inflight.remove(packetId);
            done(f.delivery, End.ACKNOWLEDGED);
            drain();
        }
    }

    /** PUBREC from the client: answer PUBREL, or drop the message if the client refused it (5.0 reason code). */
    public void onPubRec(int packetId, ReasonCode reason) {
        InflightWindow.Entry f = inflight.get(packetId);
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
            if (f.delivery != null) {
                done(f.delivery, End.REFUSED);
            }
            drain();
            return;
        }
        if (f.stored) {
            releaseStored(packetId, f);
            return;
        }
        f.pubrelSent = true;
        connection.write(PubRelPacket.of(packetId)); // [MQTT-4.3.3-1] PUBREL after PUBREC
    }

    /**
     * PUBREC for a stored QoS 2 delivery: its PUBREL-pending state and the removal of its queue entry are stored
     * together, and the PUBREL leaves once they are durable; once PUBREL is out the client may forget the packet id,
     * so a crash must not bring the PUBLISH back. If the store could not write them, the PUBLISH is re-sent instead to
     * the next connection (as the store still has it).
     */
    private void releaseStored(int packetId, InflightWindow.Entry f) {
        boolean recorded = !f.pubrelSent;
        if (recorded) {
            // together: a crash between the two would either lose the PUBREL or deliver the message again
            store.atomically(() -> {
                record.inflightReleased(packetId);
                if (f.delivery != null) {
                    done(f.delivery, End.ACKNOWLEDGED);
                }
            });
        }
        f.pubrelSent = true;
        ClientConnection c = connection;
        store.whenDurable(() -> execute(() -> {
            if (connection == c) {
                c.write(PubRelPacket.of(packetId)); // [MQTT-4.3.3-1] PUBREL after PUBREC
            }
        }), () -> execute(() -> {
            if (recorded && inflight.get(packetId) == f) {
                f.pubrelSent = false; // as the store still has it: the PUBLISH is re-sent
            }
            if (connection == c) {
                storeFailed(c);
            }
        }));
    }

    /** PUBCOMP from the client: the QoS 2 message is done. */
    public void onPubComp(int packetId) {
        InflightWindow.Entry f = inflight.get(packetId);
        if (f != null && f.pubrelSent) {
            inflight.remove(packetId);
            if (f.stored) {
                record.inflightDone(packetId);
            }
            drain();
        }
    }

    // ---------------------------------------------------------------- shedding (max-queued-bytes-total)

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
        long freed = 0;
        if (!stored.isPageRequested()) {
            long before = queue.bytes();
            long from = queue.unloadStored(bytes);
            if (from != 0) {
                stored.unloaded(from);
                freed = before - queue.bytes();
            }
        }
        if (freed < bytes) {
            freed += queue.dropUnstored(bytes - freed, true);
        }
        if (freed < bytes) {
            freed += queue.dropUnstored(bytes - freed, false);
        }
        return freed;
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
        feeds.add(feed);
        drain();
    }

    /** Stops handing over the retained messages of a filter (it was unsubscribed). */
    public void cancelRetained(String filter) {
        feeds.cancel(filter);
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

    // ---------------------------------------------------------------- inbound QoS 2

    /**
     * Records an inbound QoS 2 packet id; false when it is already awaiting PUBREL, i.e. the PUBLISH is a
     * duplicate that must be acknowledged but not routed again (3.1.1 [MQTT-4.3.3-2], 5.0 [MQTT-4.3.3-10]).
     */
    public boolean beginInboundQos2(int packetId) {
        boolean added = inbound.begin(packetId);
        SessionRecord r = record;
        if (added && r != null) {
            r.inboundQos2(packetId, true);
        }
        return added;
    }

    /** PUBREL from the client: forgets the packet id; false if it was unknown. */
    public boolean releaseInboundQos2(int packetId) {
        boolean removed = inbound.release(packetId);
        SessionRecord r = record;
        if (removed && r != null) {
            r.inboundQos2(packetId, false);
        }
        return removed;
    }

    /**
     * The store lost what an inbound QoS 2 packet id depends on: with {@code awaiting} the id is awaiting PUBREL again
     * (its release was not stored), otherwise it is forgotten (its message was not stored, so a re-sent PUBLISH must
     * be routed again, not taken for a duplicate). Memory only: it now says what the store holds.
     */
    public void undoInboundQos2(int packetId, boolean awaiting) {
        inbound.set(packetId, awaiting);
    }

    /** Whether an inbound QoS 2 packet id awaits PUBREL. */
    public boolean isAwaitingRelease(int packetId) {
        return inbound.isAwaitingRelease(packetId);
    }

    public int inboundQos2Count() {
        return inbound.size();
    }
}
