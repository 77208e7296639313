package io.starling.broker;

import io.netty.util.concurrent.EventExecutorGroup;
import io.starling.broker.acl.Acl;
import io.starling.broker.auth.EnhancedAuthRegistry;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.retain.RetainedFeed;
import io.starling.broker.retain.RetainedStore;
import io.starling.broker.message.Delivery;
import io.starling.broker.message.Message;
import io.starling.broker.routing.DeliveryGovernor;
import io.starling.broker.routing.PublishOutcome;
import io.starling.broker.routing.Router;
import io.starling.broker.session.FlapDetector;
import io.starling.broker.session.LargeQueues;
import io.starling.broker.session.QueueBudget;
import io.starling.broker.session.Session;
import io.starling.broker.session.SessionContext;
import io.starling.broker.session.SessionManager;
import io.starling.broker.store.InMemoryStore;
import io.starling.broker.store.Store;
import io.starling.broker.time.Clock;
import io.starling.broker.topic.Subscription;
import io.starling.broker.topic.TopicLimits;
import io.starling.broker.topic.SubscriptionIndex;
import io.starling.codec.ReasonCode;
import java.util.List;

/**
 * The broker engine, transport-agnostic: the subscription index, retained messages, sessions and routing.
 * The transport calls it from its event loops; see {@link Session} for the threading rules.
 */
public final class Broker {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Broker.class);

    private final BrokerConfig config;
    private final Clock clock;
    private final BrokerMetrics metrics = new BrokerMetrics();
    private final SubscriptionIndex index = new SubscriptionIndex();
    private final Store store;
    private final EnhancedAuthRegistry enhancedAuth = new EnhancedAuthRegistry();
    private final Acl acl;
    private final RetainedStore retained;
    /**
     * The retained {@code $SYS} messages, apart from the clients' ones: in the heap only, never written to the store,
     * and not counted against {@code max-retained-messages} or {@code max-retained-bytes}. Clients cannot publish to
     * {@code $SYS}, and only a filter whose first level is {@code $SYS} matches a {@code $SYS} topic [MQTT-4.7.2-1].
     */
    private final RetainedStore systemRetained = RetainedStore.inMemory();
    private final SessionManager sessions;
    /** Events for integrations (webhooks); {@code null} = none, the broker then calls nothing. */
    private volatile io.starling.broker.hook.BrokerHook hook;
    private final Router router;
    /**
     * Up to 32k deliveries in hand-off between loops before publishers are paused, resumed below 8k: enough to keep
     * every loop busy, and few enough (a few MB of messages) to die young: with 256k, s1's backlog outlived each young
     * collection, was copied into the old generation and made the collector the broker's largest cost
     * (docs/benchmarks.md, "Hand-off bound and young collections").
     */
    private final DeliveryGovernor governor = new DeliveryGovernor(32 * 1024, 8 * 1024);
    private final TopicLimits topicLimits;
    private final QueueBudget queueBudget;
    private final FlapDetector flapping;
    /** Records recovered under {@link #RESERVED_PREFIX}. */
    private final List<io.starling.broker.store.StoredSession> reserved = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The event loops the broker runs on: where an operator's publish is routed from. */
    private final EventExecutorGroup loops;

    public Broker(BrokerConfig config, EventExecutorGroup loops) {
        this(config, loops, new InMemoryStore());
    }

    public Broker(BrokerConfig config, EventExecutorGroup loops, Store store) {
        this(config, loops, store, null);
    }

    /**
     * @param acl the authorization rules; {@code null} = none (everything allowed but publishing to {@code $SYS})
     */
    public Broker(BrokerConfig config, EventExecutorGroup loops, Store store, Acl acl) {
        this(config, loops, store, acl, Clock.SYSTEM);
    }

    /**
     * @param acl the authorization rules; {@code null} = none (everything allowed but publishing to {@code $SYS})
     * @param clock the time of every deadline in the engine: message and session expiry, Will delay, flapping
     */
    public Broker(BrokerConfig config, EventExecutorGroup loops, Store store, Acl acl, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.loops = loops;
        this.topicLimits = new TopicLimits(config.limits().maxTopicLength(), config.limits().maxTopicLevels());
        this.flapping = new FlapDetector(config.flapping(), clock);
        this.store = store;
        this.acl = acl;
        this.retained = store.retained();
        this.retained.clock(clock);
        this.retained.limits(config.limits().maxRetainedMessages(), config.maxRetainedBytes(retained.payloadsOnDisk()));
        this.systemRetained.clock(clock);
        LargeQueues largeQueues = new LargeQueues();
        this.sessions = new SessionManager(index, new SessionContext(config, metrics, largeQueues, store, clock), this::publish,
                this::redeliverShared);
        this.queueBudget = new QueueBudget(metrics, largeQueues, sessions.all(), config.limits().maxQueuedBytesTotal(),
                clock);
        this.router = new Router(index, retained, sessions::get, loops, metrics, governor,
                config.sharedSubscriptionStrategy(), store);
        if (store.persistsSessions()) {
            // sessions, subscriptions and in-flight state come back before any connection is accepted; wills and
            // expiry are scheduled on the sessions' loops
            List<Runnable> starts = new java.util.ArrayList<>();
            long[] queued = new long[1];
            long t0 = System.nanoTime();
            store.sessions().recover(st -> {
                if (st.clientId().startsWith(RESERVED_PREFIX)) {
                    reserved.add(st); // the cluster's own records, not a client's session
                    return;
                }
                starts.add(sessions.restore(st, loops.next()));
                queued[0] += st.queued();
            });
            starts.forEach(Runnable::run);
            LOG.info("Recovered {} session(s) with {} queued message(s) from the store in {} ms", starts.size(),
                    queued[0], (System.nanoTime() - t0) / 1_000_000);
        }
    }

    /**
     * Client ids of this prefix are the broker's own stored records (the cluster keeps what it must not lose in them),
     * never a client's: a CONNECT with one is refused, and recovery hands them to {@link #reservedRecords} instead of
     * restoring them as sessions.
     */
    public static final String RESERVED_PREFIX = "$cluster/";

    /** The records recovered under {@link #RESERVED_PREFIX}, for their owner (the cluster) to take at its start. */
    public List<io.starling.broker.store.StoredSession> reservedRecords() {
        return reserved;
    }

    public BrokerConfig config() {
        return config;
    }

    /** The engine's clock. */
    public Clock clock() {
        return clock;
    }

    public BrokerMetrics metrics() {
        return metrics;
    }

    /** max-topic-length and max-topic-levels, for Topic Names, Topic Filters and Will Topics. */
    public TopicLimits topicLimits() {
        return topicLimits;
    }

    /** max-queued-bytes-total: the bytes queued over all sessions, what is shed and who is paused for it. */
    public QueueBudget queueBudget() {
        return queueBudget;
    }

    /** Flapping detection: client ids that connect too often are refused for a while. */
    public FlapDetector flapping() {
        return flapping;
    }

    public DeliveryGovernor governor() {
        return governor;
    }

    /**
     * Sets the hook told of connections, sessions, subscriptions and published messages ({@code null}: none). Set it
     * before clients connect; see {@link io.starling.broker.hook.BrokerHook}.
     */
    public void hook(io.starling.broker.hook.BrokerHook h) {
        hook = h;
        sessions.hook(h);
    }

    /** The hook set, {@code null} if none. */
    public io.starling.broker.hook.BrokerHook hook() {
        return hook;
    }

    public SessionManager sessions() {
        return sessions;
    }

    public SubscriptionIndex subscriptionIndex() {
        return index;
    }

    /** Enhanced authentication methods (5.0 AUTH), by name; register more at start-up. */
    public EnhancedAuthRegistry enhancedAuth() {
        return enhancedAuth;
    }

    /** The authorization rules, {@code null} when the broker has no ACL file. */
    public Acl acl() {
        return acl;
    }

    public Store store() {
        return store;
    }

    public RetainedStore retained() {
        return retained;
    }

    /** The retained {@code $SYS} messages the broker publishes about itself (heap only, no limits, not stored). */
    public RetainedStore systemRetained() {
        return systemRetained;
    }

    /**
     * Installs the routes to the other nodes of a cluster ({@code null}: none, the default): from then on every message
     * published on this node is also handed to them. Before the broker takes connections.
     */
    public void clusterRouting(io.starling.broker.routing.ClusterRouting routing) {
        router.cluster(routing);
    }

    /**
     * Installs what the cluster does with each client's retained message stored on this node ({@code null}: nothing);
     * see {@link Router#retainedReplication}.
     */
    public void retainedReplication(java.util.function.Consumer<Message> replication) {
        router.retainedReplication(replication);
    }

    /**
     * Routes a message another node of the cluster forwarded to this node's subscribers only (never to another node),
     * and to this node's shared groups named in {@code groups} ({@link Router#groupKey}); on one of the broker's event
     * loops. The retained store is not touched.
     */
    public PublishOutcome publishFromPeer(Message m, java.util.Set<String> groups) {
        return router.routeFromPeer(m, groups);
    }

    private void redeliverShared(Delivery d, String fromClientId) {
        router.redeliverShared(d, fromClientId);
    }

    /**
     * Publishes a message to every matching subscription (call on an event loop); false if none matched. A retained
     * message the limits refuse to retain is routed as an ordinary one.
     */
    public boolean publish(Message m) {
        io.starling.broker.hook.BrokerHook h = hook;
        if (h != null) {
            h.published(m); // QoS 0 PUBLISHes and Will Messages
        }
        return router.publish(m);
    }

    /**
     * Publishes a message of the broker about itself, on a {@code $SYS} topic (call on an event loop): retained in
     * {@link #systemRetained()} if its RETAIN flag is set, routed to the matching subscriptions as any message (the
     * ACL decides who reads it), and not counted as a message received. False if no subscription matched.
     */
    public boolean publishSystem(Message m) {
        if (!Acl.isSystemTopic(m.topic())) {
            throw new IllegalArgumentException("not a $SYS topic: " + m.topic());
        }
        if (m.retain()) {
            systemRetained.update(m);
        }
        return router.publishSystem(m) == PublishOutcome.MATCHED;
    }

    /**
     * Publishes a client's PUBLISH (call on its event loop) and returns the reason code of its PUBACK/PUBREC. On 5.0
     * a QoS 1/2 retained message that the limits refuse to retain is not routed either, and gets 0x97 Quota exceeded;
     * elsewhere (QoS 0, MQTT 3.x, which cannot refuse a PUBLISH [MQTT-3.3.5-2]) it is routed to the current
     * subscribers without being retained, and acknowledged as usual. Otherwise: 0x00, or 0x10 No matching
     * subscribers (5.0).
     */
    public ReasonCode publish(Message m, boolean v5) {
        PublishOutcome outcome = router.publish(m, v5 && m.qos() > 0);
        io.starling.broker.hook.BrokerHook h = hook;
        if (h != null && outcome != PublishOutcome.RETAIN_REFUSED) {
            h.published(m); // not a message refused (5.0 0x97): it was neither retained nor routed
        }
        if (!v5) {
            return ReasonCode.SUCCESS;
        }
        return switch (outcome) {
            case MATCHED -> ReasonCode.SUCCESS;
            case NO_MATCH -> ReasonCode.NO_MATCHING_SUBSCRIBERS;
            case RETAIN_REFUSED -> ReasonCode.QUOTA_EXCEEDED;
        };
    }

    /**
     * Adds or replaces a subscription of the session (on its owner): in the session, which writes it to the store if
     * it is stored, and in the subscription index, so that it matches from now on. The retained messages are not sent
     * here: the caller asks for them with {@link #sendRetained} once the SUBACK is written.
     *
     * @return the subscription with the same filter it replaced, {@code null} if there was none
     */
    public Subscription subscribe(Session session, Subscription s) {
        Subscription old = session.addSubscription(s);
        index.add(s);
        sessions.clusterFor(session.clientId()).subscriptionsChanged(session);
        io.starling.broker.hook.BrokerHook h = hook;
        if (h != null) {
            h.subscribed(session.clientId(), s.shareGroup() == null ? s.filter()
                    : io.starling.broker.topic.Topics.SHARE_PREFIX + s.shareGroup() + "/" + s.filter(), s.qos());
        }
        return old;
    }

    /**
     * Puts a session's subscription to {@code filter} back as it was before a SUBSCRIBE or UNSUBSCRIBE whose store
     * write failed: {@code restore} (or none), provided the subscription is still {@code current} (or none), i.e. no
     * later packet changed it meanwhile. Memory only: the store still holds the old state. On the session's owner.
     */
    public void restoreSubscription(Session session, String filter, Subscription current, Subscription restore) {
        if (!session.restoreSubscription(filter, current, restore)) {
            return;
        }
        if (restore == null) {
            index.remove(session.clientId(), filter);
        } else {
            index.add(restore);
        }
    }

    /**
     * Sends the retained messages matching a new subscription, with RETAIN=1 [MQTT-3.3.1-6] (on the session's owner,
     * after the SUBACK); none for a shared subscription (5.0 4.8.2). They are read a page at a time as the session
     * drains ({@link RetainedFeed}), never all at once.
     */
    public void sendRetained(Session session, Subscription s) {
        if (s.isShared()) {
            return;
        }
        // a filter matches $SYS topics only if its first level is $SYS, and then it matches nothing else
        RetainedStore from = Acl.isSystemTopic(s.filter()) ? systemRetained : retained;
        session.feedRetained(new RetainedFeed(from, s, config.sessionLimits(session.clientId()).maxQueuedMessages()));
    }

    /**
     * Disconnects a client on an operator's request: 5.0 clients get DISCONNECT 0x98 (administrative action); the
     * session stays as its expiry says. Returns false if no such client is connected.
     */
    public boolean disconnectClient(String clientId) {
        Session s = sessions.get(clientId);
        if (s == null || !s.isOnline()) {
            return false;
        }
        s.execute(() -> {
            if (s.connection() != null) {
                s.connection().closeWithReason(io.starling.codec.ReasonCode.ADMINISTRATIVE_ACTION);
            }
        });
        return true;
    }

    /**
     * Disconnects a client on an operator's request, and ends its session if asked (as its expiry would: its
     * subscriptions, queued messages and store entries go). A 5.0 client gets DISCONNECT 0x98 (administrative
     * action) first, a 3.x client is just closed. Runs on the session's owner; the future completes there with whether
     * a connection was attached. {@code null} when there is no session of that client id.
     */
    public java.util.concurrent.CompletableFuture<Boolean> disconnectClient(String clientId, boolean discardSession) {
        Session s = sessions.get(clientId);
        if (s == null) {
            return null;
        }
        java.util.concurrent.CompletableFuture<Boolean> done = new java.util.concurrent.CompletableFuture<>();
        s.execute(() -> {
            boolean online = s.connection() != null && !s.isDiscarded();
            if (online) {
                s.connection().closeWithReason(ReasonCode.ADMINISTRATIVE_ACTION);
            }
            if (discardSession && !s.isDiscarded()) {
                sessions.discard(s);
            }
            done.complete(online);
        });
        return done;
    }

    /**
     * Publishes a message on an operator's request, from one of the broker's event loops, as a client's PUBLISH
     * would be (retained state, then every matching subscription) but under no client's ACL. A retained message the
     * limits refuse is not routed either ({@link PublishOutcome#RETAIN_REFUSED}). The future completes once the
     * message is as durable as the configuration promises (for QoS 1/2 or retained messages), exceptionally when the
     * store could not keep it.
     */
    public java.util.concurrent.CompletableFuture<PublishOutcome> publishAsOperator(Message m) {
        java.util.concurrent.CompletableFuture<PublishOutcome> done = new java.util.concurrent.CompletableFuture<>();
        loops.next().execute(() -> {
            PublishOutcome outcome;
            try {
                outcome = router.publish(m, m.retain());
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
                return;
            }
            if (m.qos() == 0 && !m.retain()) {
                done.complete(outcome);
                return;
            }
            store.whenDurable(() -> done.complete(outcome),
                    () -> done.completeExceptionally(new IllegalStateException("the store could not keep the message")));
        });
        return done;
    }

    /**
     * Removes the retained message of {@code topic} on an operator's request, from one of the broker's event loops,
     * without routing anything; the future completes once the removal is as durable as the configuration promises.
     */
    public java.util.concurrent.CompletableFuture<Void> clearRetained(String topic) {
        java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
        RetainedStore from = Acl.isSystemTopic(topic) ? systemRetained : retained;
        loops.next().execute(() -> {
            from.update(new Message(topic, 0, true, new byte[0], io.starling.codec.Properties.EMPTY, null,
                    Message.NEVER));
            store.whenDurable(() -> done.complete(null),
                    () -> done.completeExceptionally(new IllegalStateException("the store could not remove it")));
        });
        return done;
    }

    /** Removes a subscription of the session (on its owner); returns it, {@code null} if there was none. */
    public Subscription unsubscribe(Session session, String filter) {
        Subscription old = session.removeSubscription(filter);
        if (old != null) {
            index.remove(session.clientId(), filter);
            sessions.clusterFor(session.clientId()).subscriptionsChanged(session);
            io.starling.broker.hook.BrokerHook h = hook;
            if (h != null) {
                h.unsubscribed(session.clientId(), filter);
            }
        }
        return old;
    }
}
