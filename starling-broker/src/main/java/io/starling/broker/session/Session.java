package io.starling.broker.session;

import io.netty.util.concurrent.EventExecutor;
import io.starling.broker.acl.TopicAccess;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.BrokerConfig.SessionLimits;
import io.starling.broker.message.Delivery;
import io.starling.broker.retain.RetainedFeed;
import io.starling.broker.store.QueueOwner;
import io.starling.broker.store.SessionRecord;
import io.starling.broker.store.StoredQueue;
import io.starling.broker.store.StoredSession;
import io.starling.broker.topic.Subscription;
import io.starling.codec.ReasonCode;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One MQTT session, as a coordinator of its parts: its {@link Subscriptions}, its outbound deliveries
 * ({@link OutboundFlow}: the memory queue, the stored queue's pages, the in-flight window, the retained messages of new
 * subscriptions), the inbound QoS 2 packet ids ({@link InboundQos2}), the Will delay and expiry
 * ({@link SessionTimers}) and, while a connection is attached, what of a delivery reaches it ({@link DeliveryFilter}).
 * The session holds what they share: its identity and owner, the connection attached to it, the store's record of it
 * ({@link SessionRecord}) and whether it has ended. Its public methods are the session's interface to the server,
 * the router, the broker and the store; those about deliveries hand over to the {@link OutboundFlow}.
 *
 * <p>Thread-safety: a session is owned by one event loop ({@link #owner()}) — its connection's loop while one is
 * attached, the last one afterwards — and every method except {@link #owner()}, {@link #clientId()},
 * {@link #execute(Runnable)}, {@link #storesMessages()}, {@link #storedQueue()}, {@link #mayRead},
 * {@link #isOnline()}, {@link #connectionInfo()} and {@link #queuedBytes()} must run there. Other threads post
 * commands with {@link #execute(Runnable)}, which follows the session when a takeover moves it to another loop.
 *
 * <p>Stored queue: a session that outlives its connection on a durable store ({@link #storesMessages()}) gets its
 * QoS 1/2 deliveries through the store ({@link #deliverStored}), each with a queue position, in position order; its
 * {@link StoredQueueCursor} decides which are held in memory and when the next page is read.
 *
 * <p>Cost: an idle session holds this object, its subscriptions, outbound flow, in-flight window and inbound QoS 2
 * objects, and the connection's {@link DeliveryFilter} while one is attached; every collection, the memory queue, the
 * stored-queue cursor, the retained feeds and the timers are made when first needed.
 */
public final class Session implements QueueOwner, RetainedFeed.Target {

    private static final Logger LOG = LoggerFactory.getLogger(Session.class);

    private final String clientId;
    private final SessionContext context;
    /**
     * Its own limits when they are not the broker's (a bridge's local session with queue bounds of its own), else
     * {@code null}; read by the store's thread too.
     */
    private final SessionLimits ownLimits;
    private volatile EventExecutor owner;
    /**
     * Changes with every take-over, on the owner: a connection whose attach was posted before a later take-over
     * finds it changed and gives way (the session is then already promised to the later connection).
     */
    private volatile int epoch;
    /**
     * The store's record of this session's current generation; {@code null} while its state is not written to the
     * store. Once set, stays set for the session's life (a Clean Start replaces it with the next generation's).
     */
    private volatile SessionRecord record;
    private long disconnectedAtMillis;
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
    /** The connection that attached last, as operators see it; kept while the session is offline. */
    private volatile ConnectionInfo lastInfo;
    private boolean discarded;
    private long expiryIntervalSeconds;
    private final Subscriptions subscriptions = new Subscriptions();
    private final OutboundFlow flow;
    private final InboundQos2 inbound = new InboundQos2();
    /** Made when first needed: only a session without a connection has deadlines. */
    private SessionTimers timers;

    public Session(String clientId, EventExecutor owner, SessionContext context) {
        this.clientId = clientId;
        this.owner = owner;
        this.context = context;
        SessionLimits limits = context.config().sessionLimits(clientId);
        this.ownLimits = limits == context.config().sessions() ? null : limits;
        this.flow = new OutboundFlow(this); // after the context, whose counters it uses
    }

    // ---------------------------------------------------------------- identity, ownership, store record

    public String clientId() {
        return clientId;
    }

    /** What every session of the broker shares (settings, counters, store, clock). */
    SessionContext context() {
        return context;
    }

    @Override
    public EventExecutor owner() {
        return owner;
    }

    /**
     * Runs a command on the session's owner: now if called there, else posted, following ownership changes. Once the
     * owner's loop is shutting down (the broker stops) a posted command is dropped: nothing is sent any more, and what
     * it would have delivered stays in the store for the session's next start.
     */
    @Override
    public void execute(Runnable command) {
        EventExecutor o = owner;
        if (o.inEventLoop()) {
            command.run();
            return;
        }
        try {
            o.execute(() -> execute(command));
        } catch (RejectedExecutionException e) {
            if (!o.isShuttingDown()) {
                throw e;
            }
            LOG.debug("Client '{}': event loop shut down, dropping a task for the session", clientId);
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

    /** Its own limits when they are not the broker's ({@link BrokerConfig#sessionLimits}), else {@code null}. */
    SessionLimits ownLimits() {
        return ownLimits;
    }

    @Override
    public long maxStoredMessages() {
        return ownLimits == null ? -1 : ownLimits.maxQueuedMessages();
    }

    @Override
    public long maxStoredBytes() {
        return ownLimits == null ? -1 : ownLimits.maxQueuedBytes();
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
        subscriptions.restore(st.subscriptions());
        inbound.restore(st.inboundQos2());
        flow.restore(st.lastSeq(), st.inflight());
    }

    // ---------------------------------------------------------------- state read by the server and the manager

    public ClientConnection connection() {
        return connection;
    }

    /** The attached connection's {@link DeliveryFilter}; {@code null} while none is attached. */
    DeliveryFilter filter() {
        return filter;
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
        return flow.queuedCount();
    }

    public int inflightCount() {
        return flow.inflightCount();
    }

    /** Messages dropped from this session's queue since it was created (its own limits or the global budget). */
    public long droppedCount() {
        return flow.droppedCount();
    }

    /** Bytes queued in memory, as last written by the owner; may be called from any thread. */
    long queuedBytesFromAnyThread() {
        return flow.queuedBytesFromAnyThread();
    }

    /** The inbound QoS 2 packet ids awaiting PUBREL (a copy, on the owner). */
    List<Integer> inboundQos2Ids() {
        return inbound.ids();
    }

    /** Adds inbound QoS 2 packet ids awaiting PUBREL (a session moved from another node; on the owner). */
    void restoreInboundQos2(List<Integer> packetIds) {
        inbound.restore(packetIds);
    }

    /** What is in flight or queued and not in the store, oldest first (a copy, on the owner). */
    List<Delivery> unstoredDeliveries() {
        return flow.unstoredDeliveries();
    }

    /** The queued deliveries, oldest first (a copy, on the owner; for tests and tools). */
    public List<Delivery> queuedDeliveries() {
        return flow.queuedDeliveries();
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

    /**
     * The connection attached now, or the last one while the session is offline, as operators see it; {@code null}
     * for a session no connection described itself to (one restored from the store, say). Safe from any thread.
     */
    public ConnectionInfo connectionInfo() {
        return lastInfo;
    }

    /** Bytes queued in memory, as last written by the owner; safe to call from any thread (for operators). */
    public long queuedBytes() {
        return flow.queuedBytesFromAnyThread();
    }

    /** Whether a connection is attached; safe to call from any thread. */
    public boolean isOnline() {
        return online;
    }

    // ---------------------------------------------------------------- subscriptions

    /**
     * The subscriptions by filter as subscribed ({@code $share} prefix included); a read-only view, on the owner (an
     * empty map while the session has never had one).
     */
    public Map<String, Subscription> subscriptions() {
        return subscriptions.view();
    }

    /**
     * Adds or replaces a subscription (on the owner), writing it to the store if the session is stored; the caller
     * adds it to the subscription index. Returns the subscription with the same filter it replaced, if any.
     */
    public Subscription addSubscription(Subscription s) {
        return subscriptions.add(s, record);
    }

    /**
     * Removes the subscription to {@code filter} (on the owner), stops the hand-over of its retained messages and
     * deletes it from the store if the session is stored; the caller removes it from the subscription index. Returns
     * it, {@code null} if there was none.
     */
    public Subscription removeSubscription(String filter) {
        Subscription old = subscriptions.remove(filter, record);
        if (old != null) {
            flow.cancelRetained(filter);
        }
        return old;
    }

    /**
     * Puts the subscription to {@code filter} back to {@code restore} (none if {@code null}) after a store write for it
     * failed, provided it is still {@code current} (none if {@code null}): memory only, the store still holds the old
     * state. Returns whether it did; the caller updates the subscription index the same way.
     */
    public boolean restoreSubscription(String filter, Subscription current, Subscription restore) {
        return !discarded && subscriptions.undo(filter, current, restore);
    }

    /** Removes every subscription (the session ends, or starts clean) and returns them, for the index. */
    List<Subscription> removeAllSubscriptions() {
        return subscriptions.removeAll();
    }

    // ---------------------------------------------------------------- lifecycle (called by SessionManager)

    void attach(ClientConnection c) {
        if (timers != null) {
            timers.cancelExpiry();
        }
        connection = c;
        filter = new DeliveryFilter(c.topicAccess(), c.version(), c.clientMaximumPacketSize(), context.clock());
        lastAccess = filter.access();
        lastInfo = c.info();
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
        return flow.takeShared();
    }

    void markDiscarded() {
        discarded = true;
        online = false;
        if (timers != null) {
            timers.cancelExpiry();
        }
        flow.discard();
        inbound.clear();
    }

    /** Forgets all state, for a Clean Start on an existing session; subscriptions are removed by the caller. */
    void clearState() {
        subscriptions.clear();
        flow.reset();
        inbound.clear();
    }

    /** The session's delayed Will and expiry, scheduled on its owner (by the session manager). */
    SessionTimers timers() {
        if (timers == null) {
            timers = new SessionTimers(context.clock());
        }
        return timers;
    }

    /** max-queued-bytes-total: frees at least {@code bytes} of the in-memory queue, or all it can (on the owner). */
    long shed(long bytes) {
        return flow.shed(bytes);
    }

    // ---------------------------------------------------------------- outbound (see OutboundFlow)

    /** Delivers a message to this session: sent now if the window and socket allow, queued otherwise. */
    public void deliver(Delivery d) {
        flow.deliver(d);
    }

    /**
     * A stored delivery from the store (on the owner), in queue order: sent or held in memory while the memory
     * window allows and nothing older is still on disk; otherwise left on disk to be paged in.
     */
    @Override
    public void deliverStored(Delivery d) {
        flow.deliverStored(d);
    }

    /** The store refused a delivery because this session's stored queue is full: counted as dropped. */
    @Override
    public void storedQueueFull() {
        flow.storedQueueFull();
    }

    /**
     * Sends queued messages while the window and the socket allow; reads the next page of the stored queue once the
     * queue is empty; hands over retained messages of new subscriptions while the connection takes them.
     */
    @Override
    public void drain() {
        flow.drain();
    }

    /**
     * After CONNACK on a resumed session: resends unacknowledged PUBLISH (DUP=1) and PUBREL in their original
     * order [MQTT-4.4.0-1], then sends what is queued.
     */
    public void resume() {
        flow.resume();
    }

    /** PUBACK from the client: the QoS 1 message is done. */
    public void onPubAck(int packetId) {
        flow.onPubAck(packetId);
    }

    /** PUBREC from the client: answer PUBREL, or drop the message if the client refused it (5.0 reason code). */
    public void onPubRec(int packetId, ReasonCode reason) {
        flow.onPubRec(packetId, reason);
    }

    /** PUBCOMP from the client: the QoS 2 message is done. */
    public void onPubComp(int packetId) {
        flow.onPubComp(packetId);
    }

    /**
     * Starts handing over the retained messages of a new subscription (on the owner), a page at a time as the queue
     * drains, so that however many match, none is dropped for want of room and no more are read than the queue can
     * take. Feeds run one after the other, in the order of the subscriptions; one for the same filter that has not
     * finished is replaced. Live messages that arrive meanwhile are queued behind them, so that a retained message
     * never follows a newer message of its topic [MQTT-4.6.0-6].
     */
    public void feedRetained(RetainedFeed feed) {
        flow.feedRetained(feed);
    }

    /** Stops handing over the retained messages of a filter (it was unsubscribed). */
    public void cancelRetained(String filter) {
        flow.cancelRetained(filter);
    }

    /**
     * Whether {@link #deliverRetained} would send {@code d} now: the connection takes it (writable, room in the
     * in-flight window). Retained messages are not queued, so they never wait behind live ones.
     */
    @Override
    public boolean accepts(Delivery d) {
        return flow.accepts(d);
    }

    /** Sends a retained message of a new subscription, which {@link #accepts} took (on the owner). */
    @Override
    public void deliverRetained(Delivery d) {
        flow.deliverRetained(d);
    }

    // ---------------------------------------------------------------- inbound QoS 2

    /**
     * Records an inbound QoS 2 packet id; false when it is already awaiting PUBREL, i.e. the PUBLISH is a
     * duplicate that must be acknowledged but not routed again (3.1.1 [MQTT-4.3.3-2], 5.0 [MQTT-4.3.3-10]).
     */
    public boolean beginInboundQos2(int packetId) {
        return inbound.begin(packetId, record);
    }

    /** PUBREL from the client: forgets the packet id; false if it was unknown. */
    public boolean releaseInboundQos2(int packetId) {
        return inbound.release(packetId, record);
    }

    /**
     * The store lost what an inbound QoS 2 packet id depends on: with {@code awaiting} the id is awaiting PUBREL again
     * (its release was not stored), otherwise it is forgotten (its message was not stored, so a re-sent PUBLISH must
     * be routed again, not taken for a duplicate). Memory only: it now says what the store holds.
     */
    public void undoInboundQos2(int packetId, boolean awaiting) {
        inbound.set(packetId, awaiting);
    }

    /**
     * Forgets every inbound QoS 2 packet id awaiting PUBREL, in the store too while the session is stored: the peer
     * that sent them no longer has their flows (a bridge's remote that lost the bridge's session). On the owner.
     */
    public void releaseAllInboundQos2() {
        for (int id : inbound.ids()) {
            inbound.release(id, record);
        }
    }

    /** Whether an inbound QoS 2 packet id awaits PUBREL. */
    public boolean isAwaitingRelease(int packetId) {
        return inbound.isAwaitingRelease(packetId);
    }

    public int inboundQos2Count() {
        return inbound.size();
    }
}
