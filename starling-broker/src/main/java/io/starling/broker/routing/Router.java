package io.starling.broker.routing;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.FastThreadLocal;
import io.starling.broker.config.BrokerConfig.SharedSubscriptionStrategy;
import io.starling.broker.log.RateLimitedLog;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.message.Delivery;
import io.starling.broker.message.Message;
import io.starling.broker.retain.RetainedStore;
import io.starling.broker.session.Session;
import io.starling.broker.store.QueueStore;
import io.starling.broker.store.Store;
import io.starling.broker.topic.SharedGroup;
import io.starling.broker.topic.Subscription;
import io.starling.broker.topic.SubscriptionIndex;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Routes a published message: updates the retained store, matches the subscription index, works out each
 * session's delivery and hands it to the session's owner loop through the {@link Outbox} of the calling loop.
 *
 * <p>Overlapping subscriptions: a session whose subscriptions match a message several times gets ONE copy, at
 * the highest QoS granted among them [MQTT-3.3.5-1], carrying every matching Subscription Identifier (5.0);
 * RETAIN is kept if any of them asked for Retain As Published. Subscriptions with No Local do not match the
 * publisher's own messages [MQTT-3.8.3-3].
 *
 * <p>Shared subscriptions (5.0 4.8.2): each matching group contributes one delivery, to a member chosen by the
 * configured strategy among those whose client may read the topic (online members first), separate from that
 * member's ordinary subscriptions; a group none of whose members may read the topic does not count as a match.
 *
 * <p>Stored sessions: a QoS 1/2 delivery to a session that keeps its messages in the store
 * ({@link Session#storesMessages()}) is not handed over directly but given to {@link QueueStore#append}, on this
 * (the publisher's) loop, so that the PUBACK/PUBREC that the publisher's handler sends through
 * {@link Store#whenDurable} follows it; the store hands it to the session once it is written.
 *
 * <p>Retained messages: the retained store is updated before the message is matched, so a subscription made after
 * the update finds it among the retained messages, and one made before gets it live. When the limits refuse the
 * update ({@code max-retained-messages}, {@code max-retained-bytes}) the refusal is counted
 * ({@link BrokerMetrics#retainedRefused}) and logged (at most one line every 10 s for the whole broker); the message
 * is routed as usual unless the caller asks to drop it (a 5.0 QoS 1/2 PUBLISH, answered with 0x97).
 *
 * <p>Thread-safety: {@link #publish} may be called on any of the broker's event loops.
 */
public final class Router {

    private static final Logger LOG = LoggerFactory.getLogger(Router.class);

    private final SubscriptionIndex index;
    private final RetainedStore retained;
    private final Function<String, Session> sessions;
    private final BrokerMetrics metrics;
    private final SharedSubscriptionStrategy strategy;
    /** The stored queues; {@code null} when the store keeps no session (then no session stores messages). */
    private final QueueStore queues;
    private final Map<EventExecutor, Outbox> outboxes = new IdentityHashMap<>();
    /** The routes to the other nodes of a cluster; {@code null} on a single node (then routing costs nothing more). */
    private volatile ClusterRouting cluster;
    /** Told each client's retained message stored here, in a cluster ({@code null}: a single node). */
    private volatile java.util.function.Consumer<Message> retainedReplication;
    private final SharedGroup.Members memberCheck = this::memberState;
    /** Each routing thread's collector of matches, used again from one publish to the next. */
    private final FastThreadLocal<Matches> matches = new FastThreadLocal<>() {
        @Override
        protected Matches initialValue() {
            return new Matches();
        }
    };
    /** Refused retentions: at most one line every 10 s for the whole broker, the rest counted. */
    private final RateLimitedLog refusalLog = new RateLimitedLog(LOG, Level.WARN, Duration.ofSeconds(10));
    /** The retained store's fill and limits as the refusal line shows them, read when a line is written. */
    private final Object retainedLimits = new Object() {
        @Override
        public String toString() {
            return retained.size() + " messages, " + retained.bytes() + " bytes; max-retained-messages "
                    + retained.maxMessages() + ", max-retained-bytes " + retained.maxBytes();
        }
    };

    public Router(SubscriptionIndex index, RetainedStore retained, Function<String, Session> sessions,
            EventExecutorGroup loops, BrokerMetrics metrics, DeliveryGovernor governor,
            SharedSubscriptionStrategy strategy, Store store) {
        this.strategy = strategy;
        this.queues = store.queues();
        this.index = index;
        this.retained = retained;
        this.sessions = sessions;
        this.metrics = metrics;
        for (EventExecutor loop : loops) {
            outboxes.put(loop, new Outbox(loop, governor));
        }
    }

    /**
     * Publishes a message: retained state first, then every matching session; false if nothing matched. A retained
     * message the limits refuse to retain is routed all the same.
     */
    public boolean publish(Message m) {
        return publish(m, false) == PublishOutcome.MATCHED;
    }

    /**
     * Publishes a message: retained state first, then every matching session.
     *
     * @param dropIfRetainRefused when the limits refuse to retain the message, do not route it either and return
     *     {@link PublishOutcome#RETAIN_REFUSED}; otherwise it is routed as if it were not retained
     */
    public PublishOutcome publish(Message m, boolean dropIfRetainRefused) {
        metrics.received(m.qos(), m.payload().length);
        // [MQTT-3.3.1-5] store; an empty payload removes [MQTT-3.3.1-10]
        if (m.retain()) {
            if (!retained.update(m)) {
                retainRefused(m);
                if (dropIfRetainRefused) {
                    return PublishOutcome.RETAIN_REFUSED;
                }
            } else if (retainedReplication != null) {
                retainedReplication.accept(m); // every node of a cluster keeps it
            }
        }
        PublishOutcome outcome = route(m);
        if (outcome == PublishOutcome.NO_MATCH && !m.retain()) {
            metrics.droppedNoSubscribers.increment(); // a retained one is kept for later subscribers
        }
        return outcome;
    }

    /**
     * Routes a message the broker publishes about itself ({@code $SYS}) to every matching session: not counted as
     * received, and the retained store is left alone (the caller keeps the retained {@code $SYS} messages apart).
     */
    public PublishOutcome publishSystem(Message m) {
        return route(m, null, false, false); // each node publishes its own $SYS
    }

    /**
     * Installs the routes to the other nodes of a cluster ({@code null}: none); before the broker takes connections.
     */
    public void cluster(ClusterRouting routing) {
        this.cluster = routing;
    }

    /**
     * Installs what a cluster does with each client's retained message stored on this node (or removal: empty
     * payload), called on the publisher's loop and not to block; {@code null}: nothing (a single node).
     */
    public void retainedReplication(java.util.function.Consumer<Message> replication) {
        this.retainedReplication = replication;
    }

    /**
     * Routes a message that another node of the cluster forwarded: to this node's subscribers only, never to another
     * node again, and to none of this node's shared groups but those named in {@code groups} (the publishing node
     * chose this node for them). The retained store is left alone and the message is not counted as received from a
     * client. On one of the broker's event loops.
     *
     * @param groups the shared groups ({@link #groupKey}) this node is to pick a member of, {@code null} if none
     */
    public PublishOutcome routeFromPeer(Message m, java.util.Set<String> groups) {
        return route(m, groups, true, false);
    }

    /** How a shared group is named between nodes: {@code {group}/{topicFilter}}, as after {@code $share/}. */
    public static String groupKey(String group, String topicFilter) {
        return group + '/' + topicFilter;
    }

    private PublishOutcome route(Message m) {
        return route(m, null, false, true);
    }

    private PublishOutcome route(Message m, java.util.Set<String> peerGroups, boolean fromPeer, boolean forward) {
        Matches matches = this.matches.get();
        if (matches.busy) {
            matches = new Matches(); // a route within a route on this thread: rare, not worth a pool
        }
        matches.start(m.publisherId());
        try {
            return route(m, peerGroups, fromPeer, forward, matches);
        } finally {
            matches.end();
        }
    }

    private PublishOutcome route(Message m, java.util.Set<String> peerGroups, boolean fromPeer, boolean forward,
            Matches matches) {
        index.match(m.topic(), matches);
        boolean sharedMatched = false;
        if (matches.groups != null) {
            for (SharedGroup g : matches.groups) {
                if (fromPeer && (peerGroups == null || !peerGroups.contains(groupKey(g.name(), g.topicFilter())))) {
                    continue; // the publishing node served this group itself or chose another node for it
                }
                // a member the ACL does not let read the topic is passed over; with none left, the group has no
                // subscriber for this message (5.0 4.8.2: each message goes to one member, one that may take it)
                Subscription s = g.pick(strategy, m.publisherId(), m.topic(), memberCheck, null);
                if (s != null && !(s.noLocal() && s.clientId().equals(m.publisherId()))) {
                    sharedMatched = true;
                    dispatch(s.clientId(), new Delivery(m, Math.min(m.qos(), s.qos()), false, ids(s), g), matches);
                }
            }
        }
        List<Subscription> subs = matches.subscriptions;
        if (subs.size() == 1) {
            Subscription s = subs.get(0);
            dispatch(s.clientId(), new Delivery(m, Math.min(m.qos(), s.qos()), s.retainAsPublished() && m.retain(),
                    ids(s)), matches);
        } else if (subs.size() > 1) {
            Map<String, Aggregate> byClient = new HashMap<>();
            for (Subscription s : subs) {
                byClient.computeIfAbsent(s.clientId(), k -> new Aggregate()).add(s);
            }
            for (Map.Entry<String, Aggregate> e : byClient.entrySet()) {
                Aggregate a = e.getValue();
                dispatch(e.getKey(), new Delivery(m, Math.min(m.qos(), a.qos), a.retainAsPublished && m.retain(),
                        a.subscriptionIds == null ? List.of() : a.subscriptionIds), matches);
            }
        }
        if (matches.storedSessions != null) {
            queues.append(m, matches.storedSessions, matches.storedDeliveries);
        }
        ClusterRouting c = cluster;
        boolean remote = c != null && forward && c.forward(m, matches.groups);
        return !subs.isEmpty() || sharedMatched || remote ? PublishOutcome.MATCHED : PublishOutcome.NO_MATCH;
    }

    /** Counts a refused retention and logs it, at most one line every 10 s for the whole broker. */
    private void retainRefused(Message m) {
        metrics.retainedRefused.increment();
        refusalLog.log("Retained messages at their limit ({}): refused to retain the message on '{}' from client '{}'",
                retainedLimits, m.topic(), m.publisherId());
    }

    /**
     * Gives a shared-subscription delivery that a member lost with its connection to another member of the group that
     * may read it; if there is none, it goes back to the same session, which keeps it if it persists.
     */
    public void redeliverShared(Delivery d, String fromClientId) {
        Subscription s = d.group().pick(strategy, d.message().publisherId(), d.message().topic(), memberCheck,
                fromClientId);
        String target = s == null ? fromClientId : s.clientId();
        int qos = s == null ? d.qos() : Math.min(d.message().qos(), s.qos());
        Matches pending = new Matches();
        dispatch(target, new Delivery(d.message(), qos, false, s == null ? d.subscriptionIds() : ids(s), d.group()),
                pending);
        if (pending.storedSessions != null) {
            queues.append(d.message(), pending.storedSessions, pending.storedDeliveries);
        }
    }

    /**
     * A shared-subscription member's state for a message: its session must exist and its client (the one connected,
     * or the last one) must be allowed to read the topic; on the publisher's loop, so through {@link Session#mayRead},
     * which does not touch the member connection's decision cache and is one volatile read without an ACL.
     */
    private int memberState(String clientId, String topic) {
        Session s = sessions.apply(clientId);
        if (s == null || !s.mayRead(topic)) {
            return SharedGroup.Members.EXCLUDED;
        }
        return s.isOnline() ? SharedGroup.Members.ONLINE : SharedGroup.Members.OFFLINE;
    }

    private static List<Integer> ids(Subscription s) {
        return s.subscriptionId() == 0 ? List.of() : List.of(s.subscriptionId());
    }

    /**
     * Collects the matches of one publish; No Local subscriptions of the publisher are left out [MQTT-3.8.3-3]. Each
     * thread that routes keeps one ({@link #matches}) and uses it again for its next publish, so that routing a message
     * allocates no collector: only the list of ordinary subscriptions is kept from one use to the next (cleared); the
     * lists handed on to other parts (shared groups, stored deliveries) are made afresh when needed.
     */
    private static final class Matches implements SubscriptionIndex.MatchSink {
        String publisherId;
        ArrayList<Subscription> subscriptions = new ArrayList<>(4);
        List<SharedGroup> groups;
        /** Deliveries to sessions that store their messages, for {@link QueueStore#append}; created on first use. */
        List<Session> storedSessions;
        List<Delivery> storedDeliveries;
        /** In use by a route on this thread. */
        boolean busy;

        void start(String publisherId) {
            this.publisherId = publisherId;
            busy = true;
        }

        /** Lets go of everything this publish collected, so that nothing is kept alive until the next one. */
        void end() {
            if (subscriptions.size() > 1024) {
                subscriptions = new ArrayList<>(4); // a large fan-out: do not keep its capacity for every publish
            } else {
                subscriptions.clear();
            }
            groups = null;
            storedSessions = null;
            storedDeliveries = null;
            publisherId = null;
            busy = false;
        }

        @Override
        public void onSubscription(Subscription s) {
            if (!(s.noLocal() && s.clientId().equals(publisherId))) {
                subscriptions.add(s);
            }
        }

        @Override
        public void onSharedGroup(SharedGroup g) {
            if (groups == null) {
                groups = new ArrayList<>(2);
            }
            groups.add(g);
        }
    }

    private void dispatch(String clientId, Delivery d, Matches pending) {
        Session session = sessions.apply(clientId);
        if (session == null) {
            return;
        }
        if (d.qos() > 0 && session.storesMessages()) {
            if (pending.storedSessions == null) {
                pending.storedSessions = new ArrayList<>(2);
                pending.storedDeliveries = new ArrayList<>(2);
            }
            pending.storedSessions.add(session);
            pending.storedDeliveries.add(d);
            return;
        }
        EventExecutor current = currentLoop(session.owner());
        Outbox outbox = current == null ? null : outboxes.get(current);
        if (outbox != null) {
            outbox.add(session, d);
        } else {
            session.execute(() -> session.deliver(d));
        }
    }

    private EventExecutor currentLoop(EventExecutor hint) {
        if (hint.inEventLoop()) {
            return hint;
        }
        for (EventExecutor loop : outboxes.keySet()) {
            if (loop.inEventLoop()) {
                return loop;
            }
        }
        return null;
    }

    private static final class Aggregate {
        int qos = -1;
        boolean retainAsPublished;
        List<Integer> subscriptionIds;

        void add(Subscription s) {
            qos = Math.max(qos, s.qos());
            retainAsPublished |= s.retainAsPublished();
            if (s.subscriptionId() != 0) {
                if (subscriptionIds == null) {
                    subscriptionIds = new ArrayList<>(2);
                }
                subscriptionIds.add(s.subscriptionId());
            }
        }
    }
}
