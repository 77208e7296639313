package io.starling.broker.session;

import io.netty.util.concurrent.EventExecutor;
import io.starling.broker.message.Delivery;
import io.starling.broker.message.Message;
import io.starling.broker.message.PendingWill;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.store.QueueStore;
import io.starling.broker.store.SessionRecord;
import io.starling.broker.store.SessionStore;
import io.starling.broker.store.StoredQueue;
import io.starling.broker.store.StoredSession;
import io.starling.broker.topic.Subscription;
import io.starling.broker.topic.SubscriptionIndex;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sessions by client id, and their lifecycle: open (new, resumed or taken over), close, expiry.
 *
 * <p>Taking over a session moves it between event loops in three steps, each on the thread that owns the state
 * it touches: the registry entry is found or created atomically ({@link ConcurrentMap#compute}); the current owner
 * detaches the old connection, applies Clean Start and hands ownership over; the new connection's loop attaches.
 * Commands posted to a session meanwhile follow it ({@link Session#execute}).
 *
 * <p>Thread-safety: all methods may be called from any event loop.
 */
public final class SessionManager {

    private static final Logger LOG = LoggerFactory.getLogger(SessionManager.class);

    /** Called on the connection's loop once the session is attached. */
    public interface OpenCallback {
        void onOpened(Session session, boolean sessionPresent);
    }

    private final ConcurrentMap<String, Session> sessions = new ConcurrentHashMap<>();
    private final SubscriptionIndex index;
    private final SessionContext context;
    private final BrokerMetrics metrics;
    private final Consumer<Message> willPublisher;
    private final BiConsumer<Delivery, String> sharedRedelivery;
    /** Where sessions that outlive their connection are kept; {@code null} when the store keeps none. */
    private final SessionStore stored;
    /** The cluster this node belongs to; {@link ClusterSessions#NONE} for a single node. */
    private volatile ClusterSessions cluster = ClusterSessions.NONE;

    /**
     * @param context what the sessions share: settings, counters, the large queues and the store (where sessions
     *     that outlive their connection are kept, if it keeps any)
     * @param willPublisher publishes Will Messages
     * @param sharedRedelivery hands a shared-subscription delivery to another member of its group than the
     *     given client id (used when a member's connection is lost)
     */
    public SessionManager(SubscriptionIndex index, SessionContext context, Consumer<Message> willPublisher,
            BiConsumer<Delivery, String> sharedRedelivery) {
        this.index = index;
        this.context = context;
        this.metrics = context.metrics();
        this.stored = context.store().sessions();
        this.willPublisher = willPublisher;
        this.sharedRedelivery = sharedRedelivery;
    }

    /** Events for integrations; {@code null} = none. */
    private volatile io.starling.broker.hook.BrokerHook hook;

    /** Sets the hook told of connections and sessions ({@code null}: none). */
    public void hook(io.starling.broker.hook.BrokerHook h) {
        hook = h;
    }

    private static io.starling.broker.hook.BrokerHook.Client hookClient(ConnectionInfo i) {
        return i == null ? null : new io.starling.broker.hook.BrokerHook.Client(i.user(), i.address(), i.listener(),
                i.protocol(), i.keepAliveSeconds());
    }

    /** The settings, counters and store the sessions share. */
    public SessionContext context() {
        return context;
    }

    /** Installs the cluster's hook (once, when the node joins its cluster at start-up). */
    public void cluster(ClusterSessions c) {
        cluster = c == null ? ClusterSessions.NONE : c;
    }

    /** The cluster's hook; {@link ClusterSessions#NONE} for a single node. */
    public ClusterSessions cluster() {
        return cluster;
    }

    /** The cluster's hook for the session of {@code clientId}: {@link ClusterSessions#NONE} for a node-local one. */
    public ClusterSessions clusterFor(String clientId) {
        ClusterSessions c = cluster;
        return c == ClusterSessions.NONE || ClusterSessions.nodeLocal(clientId) ? ClusterSessions.NONE : c;
    }

    /** Whether new connections are accepted now (a single node: always; see {@link ClusterSessions}). */
    public boolean acceptsConnections() {
        return cluster.acceptsConnections();
    }

    public Session get(String clientId) {
        return sessions.get(clientId);
    }

    public int count() {
        return sessions.size();
    }

    /** Every session (a live, weakly consistent view), for the queue budget's occasional look at all of them. */
    public Iterable<Session> all() {
        return java.util.Collections.unmodifiableCollection(sessions.values());
    }

    /**
     * Opens the session of {@code clientId} for a new connection: creates it, resumes it, or takes it over from
     * the connection holding it [MQTT-3.1.4-2]. With {@code cleanStart} any existing state is discarded
     * [MQTT-3.1.2-6]. The callback runs on the connection's loop with the session attached.
     */
    public void open(String clientId, boolean cleanStart, long expiryIntervalSeconds, ClientConnection conn,
            OpenCallback callback) {
        ClusterSessions c = clusterFor(clientId);
        if (c == ClusterSessions.NONE) {
            openHere(clientId, cleanStart, expiryIntervalSeconds, conn, callback);
            return;
        }
        // a cluster node: the client id becomes this node's first (another node hands its session over)
        c.claim(clientId, cleanStart, moved -> conn.eventLoop().execute(() -> {
            if (moved != null && !cleanStart) {
                adopt(clientId, moved, conn.eventLoop());
            }
            openHere(clientId, cleanStart, expiryIntervalSeconds, conn, callback);
        }));
    }

    /**
     * Registers a session that moved here from another node (on the new connection's loop, before it is opened):
     * its subscriptions, so that the open that follows resumes it. Nothing happens if a session of that client id is
     * here already. When sessions are stored here and it outlives its connection, it is stored from now on: its
     * record and subscriptions, its inbound QoS 2 packet ids and its messages are written as a message routed to an
     * offline stored session is, before the CONNACK (which waits for the writes the attach makes after these).
     */
    private void adopt(String clientId, MovedSession moved, EventExecutor loop) {
        Session session = new Session(clientId, loop, context);
        if (sessions.putIfAbsent(clientId, session) != null) {
            return;
        }
        session.expiryIntervalSeconds(moved.expirySeconds());
        for (Subscription s : moved.subscriptions()) {
            session.addSubscription(s);
        }
        // a re-sent QoS 2 PUBLISH whose PUBREL has not come is acknowledged here, not routed again
        session.restoreInboundQos2(moved.inboundQos2());
        QueueStore queues = context.store().queues();
        if (stored != null && queues != null && moved.expirySeconds() > 0) {
            SessionRecord r = stored.create(clientId);
            r.save(moved.expirySeconds(), 0, null, session.subscriptions().values());
            for (int packetId : moved.inboundQos2()) {
                r.inboundQos2(packetId, true);
            }
            session.record(r);
        }
        boolean store = session.storesMessages();
        // before anything routed here (the subscriptions enter the index after): the order of the old node's queue
        // is kept
        takeMoved(session, moved.queued(), queues, store);
        for (Subscription s : moved.subscriptions()) {
            index.add(s);
        }
        LOG.info("Client '{}': session moved here from another node ({} subscriptions, {} messages{})", clientId,
                moved.subscriptions().size(), moved.queued().size(), store ? ", stored" : "");
    }

    /**
     * Hands the session of {@code clientId} to another node whose connection takes it over: disconnects its
     * connection (5.0: DISCONNECT 0x8E), publishes the Will as a local take-over would, and ends the session here.
     * The future completes (on the session's loop) with what moves, {@code null} if there is no session here or
     * Clean Start discards it.
     */
    public java.util.concurrent.CompletableFuture<MovedSession> handOver(String clientId, boolean cleanStart) {
        java.util.concurrent.CompletableFuture<MovedSession> done = new java.util.concurrent.CompletableFuture<>();
        Session session = sessions.get(clientId);
        if (session == null) {
            done.complete(null);
            return done;
        }
        session.execute(() -> {
            if (session.isDiscarded()) {
                done.complete(null);
                return;
            }
            session.beginTakeover(); // an attach still posted here gives way
            ClientConnection old = session.connection();
            boolean fresh = cleanStart || (old != null && session.expiryIntervalSeconds() == 0);
            if (old != null) {
                session.detach();
                LOG.info("Client '{}' taken over by a connection to another node", clientId);
                PendingWill will = old.takeWill();
                old.closeForTakeover();
                if (will != null && (fresh || will.delaySeconds() == 0)) {
                    willPublisher.accept(will.message());
                }
                for (Delivery d : session.takeSharedDeliveries()) {
                    sharedRedelivery.accept(d, clientId);
                }
            }
            if (fresh) {
                discard(session);
                done.complete(null);
                return;
            }
            session.timers().cancelWill(); // resumed on the other node within the Will Delay Interval
            java.util.List<Subscription> subs = java.util.List.copyOf(session.subscriptions().values());
            long expiry = session.expiryIntervalSeconds();
            // nothing more is routed to it here; what is already on its way arrives before the queue is read
            removeSubscriptions(session);
            java.util.List<Delivery> unstored = session.unstoredDeliveries();
            java.util.List<Integer> inboundQos2 = session.inboundQos2Ids();
            java.util.List<Delivery> queued = new java.util.ArrayList<>();
            StoredQueue q = session.storedQueue();
            Runnable finish = () -> {
                queued.addAll(unstored);
                discard(session);
                done.complete(new MovedSession(subs, expiry, queued, inboundQos2));
            };
            if (q == null) {
                finish.run();
            } else {
                readAll(q, 0, session, queued, finish);
            }
        });
        return done;
    }

    /**
     * What would move if the session of {@code clientId} were handed to another node (its subscriptions, expiry,
     * unacknowledged messages and inbound QoS 2 ids), read on its loop without changing it: a node that leaves the
     * cluster parks it there. {@code null} if there is no such session or it ends with its connection.
     */
    public java.util.concurrent.CompletableFuture<MovedSession> snapshot(String clientId) {
        java.util.concurrent.CompletableFuture<MovedSession> done = new java.util.concurrent.CompletableFuture<>();
        Session session = sessions.get(clientId);
        if (session == null) {
            done.complete(null);
            return done;
        }
        session.execute(() -> {
            if (session.isDiscarded() || session.expiryIntervalSeconds() == 0) {
                done.complete(null);
                return;
            }
            java.util.List<Subscription> subs = java.util.List.copyOf(session.subscriptions().values());
            long expiry = session.expiryIntervalSeconds();
            java.util.List<Delivery> unstored = session.unstoredDeliveries();
            java.util.List<Integer> inboundQos2 = session.inboundQos2Ids();
            java.util.List<Delivery> queued = new java.util.ArrayList<>();
            Runnable finish = () -> {
                queued.addAll(unstored);
                done.complete(new MovedSession(subs, expiry, queued, inboundQos2));
            };
            StoredQueue q = session.storedQueue();
            if (q == null) {
                finish.run();
            } else {
                readAll(q, 0, session, queued, finish);
            }
        });
        return done;
    }

    /**
     * Appends messages that the session of {@code clientId} still had on another node to the session here (a node
     * that crashed comes back with them on its disk while the client has moved here): after what the session holds,
     * in their own order; sent if a connection is attached, otherwise kept as a message routed to the session now is
     * (in the store when the session is stored). Its subscriptions and inbound QoS 2 state here stay as they are. The
     * future completes with {@code true} once they are appended (for a stored session: once in the store), with
     * {@code false} if there is no such session here, it ended meanwhile or the store failed.
     */
    public java.util.concurrent.CompletableFuture<Boolean> appendMoved(String clientId,
            java.util.List<Delivery> queued) {
        java.util.concurrent.CompletableFuture<Boolean> done = new java.util.concurrent.CompletableFuture<>();
        Session session = sessions.get(clientId);
        if (session == null) {
            done.complete(false);
            return done;
        }
        session.execute(() -> {
            if (session.isDiscarded()) {
                done.complete(false);
                return;
            }
            QueueStore queues = context.store().queues();
            boolean store = queues != null && session.storesMessages();
            takeMoved(session, queued, queues, store);
            if (!store) {
                done.complete(true);
                return;
            }
            // a hand-over to another node may have ended the session while the writes were made: then they are not
            // counted as taken, and the caller tries the session's owner again
            context.store().whenDurable(() -> session.execute(() -> done.complete(!session.isDiscarded())),
                    () -> done.complete(false));
        });
        return done;
    }

    /**
     * Gives {@code session} (on its loop) messages it had on another node, after what it holds, in their order: a
     * fresh delivery each (the other node's store positions and shared groups mean nothing here), QoS 1/2 appended to
     * its stored queue when {@code store}, the others held in memory until delivered.
     */
    private static void takeMoved(Session session, java.util.List<Delivery> queued, QueueStore queues,
            boolean store) {
        for (Delivery d : queued) {
            Delivery fresh = d.isStored() || d.group() != null
                    ? new Delivery(d.message(), d.qos(), d.retain(), d.subscriptionIds()) : d;
            if (store && fresh.qos() > 0) {
                queues.append(fresh.message(), java.util.List.of(session), java.util.List.of(fresh));
            } else {
                session.deliver(fresh);
            }
        }
    }

    /**
     * Ends the session of {@code clientId} here because another node of the cluster owns it now (found after a
     * partition healed): its connection, if any, is closed as taken over (5.0: DISCONNECT 0x8E) and its Will dropped,
     * since the cluster published it when it took the session from this node.
     */
    public void endStale(String clientId) {
        Session session = sessions.get(clientId);
        if (session == null) {
            return;
        }
        session.execute(() -> {
            if (session.isDiscarded()) {
                return;
            }
            session.beginTakeover();
            ClientConnection old = session.connection();
            if (old != null) {
                session.detach();
                old.takeWill(); // published by the cluster already
                old.closeForTakeover();
            }
            session.timers().cancelWill();
            LOG.info("Client '{}': its session is owned by another node now; ended here", clientId);
            discard(session);
        });
    }

    /** Reads the stored queue from {@code after} to its end into {@code out}, then runs {@code then} (on the owner). */
    private static void readAll(StoredQueue q, long after, Session session, java.util.List<Delivery> out,
            Runnable then) {
        q.read(after, 256, session, page -> {
            if (page.isEmpty()) {
                then.run();
                return;
            }
            for (Delivery d : page) {
                if (d.group() == null) {
                    out.add(d);
                }
            }
            readAll(q, page.get(page.size() - 1).seq(), session, out, then);
        });
    }

    private void openHere(String clientId, boolean cleanStart, long expiryIntervalSeconds, ClientConnection conn,
            OpenCallback callback) {
        EventExecutor loop = conn.eventLoop();
        Session[] created = new Session[1];
        Session session = sessions.computeIfAbsent(clientId, id -> {
            created[0] = new Session(id, loop, context);
            return created[0];
        });
        if (session == created[0]) {
            int epoch = session.epoch();
            loop.execute(() -> attach(session, conn, expiryIntervalSeconds, false, callback, epoch));
            return;
        }
        session.execute(() -> takeOver(session, cleanStart, expiryIntervalSeconds, conn, callback));
    }

    /** On the session's current owner. */
    private void takeOver(Session session, boolean cleanStart, long expiryIntervalSeconds, ClientConnection conn,
            OpenCallback callback) {
        if (session.isDiscarded()) {
            // it ended between the lookup and now: start again, which creates a new one
            conn.eventLoop().execute(() -> openHere(session.clientId(), cleanStart, expiryIntervalSeconds, conn,
                    callback));
            return;
        }
        // an attach posted by an earlier take-over and not run yet gives way to this one (see attach)
        int epoch = session.beginTakeover();
        ClientConnection old = session.connection();
        // a session with expiry 0 ends with its connection [MQTT-3.1.2-6]: the new connection starts afresh
        boolean endsWithOldConnection = old != null && session.expiryIntervalSeconds() == 0;
        boolean fresh = cleanStart || endsWithOldConnection;
        if (old != null) {
            session.detach();
            LOG.info("Client '{}' taken over by a new connection", session.clientId());
            PendingWill will = old.takeWill();
            old.closeForTakeover();
            io.starling.broker.hook.BrokerHook h = hook;
            if (h != null) {
                h.clientDisconnected(session.clientId(), hookClient(old.info()), "taken-over");
            }
            // the old session ends (fresh) or the Will has no delay: publish it; else the session is resumed
            // within the Will Delay Interval and the Will is not sent [MQTT-3.1.3-9]
            if (will != null && (fresh || will.delaySeconds() == 0)) {
                willPublisher.accept(will.message());
            }
        }
        if (fresh) {
            session.timers().fireWill(); // a Will delayed from an earlier connection: its session ends now
            removeSubscriptions(session);
            session.clearState();
            SessionRecord r = session.record();
            if (r != null) {
                session.record(r.restart()); // the old generation is forgotten; the new one is written on attach
            }
        } else {
            session.timers().cancelWill(); // resumed within the Will Delay Interval [MQTT-3.1.3-9]
        }
        session.moveTo(conn.eventLoop());
        boolean present = !fresh;
        conn.eventLoop().execute(() -> attach(session, conn, expiryIntervalSeconds, present, callback, epoch));
    }

    /**
     * On the new connection's loop, the session's owner since the take-over posted this, unless a later take-over
     * came first: then the session is promised to that later connection (which may be on another loop by now), and
     * this connection, which has had no CONNACK, is closed without touching the session.
     */
    private void attach(Session session, ClientConnection conn, long expiryIntervalSeconds, boolean present,
            OpenCallback callback, int epoch) {
        if (session.epoch() != epoch || session.isDiscarded()) {
            LOG.debug("Client '{}': a later connection took the session over before this one was attached",
                    session.clientId());
            conn.closeForTakeover();
            return;
        }
        session.attach(conn);
        session.expiryIntervalSeconds(expiryIntervalSeconds);
        io.starling.broker.hook.BrokerHook h = hook;
        if (h != null) {
            if (!present) {
                h.sessionCreated(session.clientId());
            }
            h.clientConnected(session.clientId(), hookClient(conn.info()), present);
        }
        if (stored != null && (expiryIntervalSeconds > 0 || session.storesMessages())) {
            // a session that outlives its connection is stored from now on; the CONNACK waits for it
            SessionRecord r = session.record();
            if (r == null) {
                r = stored.create(session.clientId());
            }
            r.save(expiryIntervalSeconds, 0, conn.peekWill(), session.subscriptions().values());
            session.record(r);
        }
        ClusterSessions c = clusterFor(session.clientId());
        if (c == ClusterSessions.NONE) {
            callback.onOpened(session, present);
            return;
        }
        EventExecutor loop = conn.eventLoop();
        c.attached(session, conn.peekWill(), () -> loop.execute(() -> callback.onOpened(session, present)));
    }

    /**
     * The connection of a session ended (on the session's owner). A session with expiry 0 ends now; others
     * end after their Session Expiry Interval unless a connection resumes them first.
     */
    public void onConnectionClosed(Session session, ClientConnection conn, PendingWill will) {
        session.execute(() -> {
            if (session.connection() != conn || session.isDiscarded()) {
                // taken over meanwhile: the new connection owns the session; the Will was dealt with then
                if (will != null) {
                    willPublisher.accept(will.message());
                }
                return;
            }
            session.detach();
            io.starling.broker.hook.BrokerHook h = hook;
            if (h != null) {
                h.clientDisconnected(session.clientId(), hookClient(conn.info()), "closed");
            }
            for (Delivery d : session.takeSharedDeliveries()) {
                // 5.0 4.8.2: a shared-subscription message not acknowledged by a lost member goes to another
                sharedRedelivery.accept(d, session.clientId());
            }
            long expiry = session.expiryIntervalSeconds();
            boolean willWaits = false;
            if (will != null) {
                if (will.delaySeconds() == 0 || expiry == 0) {
                    willPublisher.accept(will.message()); // [MQTT-3.1.2-8]
                } else {
                    // 5.0 3.1.3.2.2: wait for the Will Delay Interval or the end of the session, whichever first
                    scheduleWill(session, will, Math.min(will.delaySeconds(), expiry));
                    willWaits = true;
                }
            }
            if (expiry != 0) {
                clusterFor(session.clientId()).detached(session, willWaits ? will : null);
            }
            session.disconnectedAtMillis(context.clock().millis());
            if (expiry > 0 && session.storesMessages()) {
                // the Will still pending (delayed) goes with the record, to be published after a restart
                boolean delayed = will != null && will.delaySeconds() > 0;
                saveRecord(session, delayed ? will : null);
            }
            if (expiry == 0) {
                discard(session);
            } else if (expiry < 0xFFFF_FFFFL) {
                scheduleExpiry(session, expiry);
            }
        });
    }

    /** Publishes the Will after {@code delaySeconds} unless a connection resumes the session first. */
    private void scheduleWill(Session session, PendingWill will, long delaySeconds) {
        session.timers().scheduleWill(session.owner(), () -> {
            willPublisher.accept(will.message());
            clusterFor(session.clientId()).detached(session, null);
            if (session.storesMessages() && !session.isDiscarded()) {
                saveRecord(session, null); // the Will is out: forget it
            }
        }, delaySeconds);
    }

    /** Ends the session after {@code seconds} unless a connection resumes it first. */
    private void scheduleExpiry(Session session, long seconds) {
        session.timers().scheduleExpiry(session.owner(), () -> {
            if (session.connection() == null && !session.isDiscarded()) {
                LOG.debug("Session '{}' expired", session.clientId());
                metrics.sessionsExpired.increment();
                discard(session);
                io.starling.broker.hook.BrokerHook h = hook;
                if (h != null) {
                    h.sessionExpired(session.clientId());
                }
            }
        }, seconds);
    }

    /** Ends a session (on its owner): removes subscriptions and forgets its state. */
    public void discard(Session session) {
        session.timers().fireWill();
        removeSubscriptions(session);
        session.markDiscarded();
        SessionRecord r = session.record();
        if (r != null) {
            // before the registry entry goes: a new session of the same client id writes its record after this
            r.end();
        }
        if (sessions.remove(session.clientId(), session)) {
            clusterFor(session.clientId()).ended(session.clientId());
        }
    }

    /**
     * Restores a session read from the store at start-up, before connections are accepted: registers it with its
     * subscriptions and schedules its expiry and its Will. A session that expired while the broker was down ends
     * now (its Will is published first). Returns what starts the session's timers and publishes a due Will: run it
     * once every session is restored, so that Wills reach the subscribers of sessions restored after it.
     */
    public Runnable restore(StoredSession st, EventExecutor loop) {
        Session session = new Session(st.clientId(), loop, context);
        session.restore(st);
        // a node of a cluster: the Wills of the sessions it had when it stopped were the cluster's to publish (the
        // other nodes did, from the ownership records), so they are not published again here
        boolean willsToCluster = context.config().cluster() != null;
        long now = context.clock().millis();
        long expiry = st.expirySeconds();
        long left = expiry >= 0xFFFF_FFFFL ? Long.MAX_VALUE : st.disconnectedAtMillis() + expiry * 1000 - now;
        if (left <= 0) {
            // it ended while the broker was stopped: never registered, so no client can resume it
            return () -> loop.execute(() -> {
                if (st.will() != null && !willsToCluster) {
                    willPublisher.accept(st.will().message());
                }
                LOG.debug("Session '{}' expired while the broker was stopped", st.clientId());
                metrics.sessionsExpired.increment();
                session.markDiscarded();
                st.record().end();
            });
        }
        sessions.put(st.clientId(), session);
        for (Subscription s : session.subscriptions().values()) {
            index.add(s);
        }
        return () -> loop.execute(() -> {
            PendingWill will = willsToCluster ? null : st.will();
            if (will != null) {
                long willLeft = st.disconnectedAtMillis() + will.delaySeconds() * 1000 - now;
                if (willLeft <= 0) {
                    willPublisher.accept(will.message());
                    saveRecord(session, null);
                } else {
                    scheduleWill(session, will, Math.max(1, Math.min(willLeft, left) / 1000));
                }
            }
            if (left != Long.MAX_VALUE) {
                scheduleExpiry(session, Math.max(1, (left + 999) / 1000));
            }
        });
    }

    /** Writes the record of a disconnected session (housekeeping: nothing waits for it). */
    private static void saveRecord(Session session, PendingWill will) {
        session.record().save(session.expiryIntervalSeconds(), session.disconnectedAtMillis(), will,
                session.subscriptions().values());
    }

    private void removeSubscriptions(Session session) {
        for (Subscription s : session.removeAllSubscriptions()) {
            index.remove(s.clientId(), s.filter());
        }
    }
}
