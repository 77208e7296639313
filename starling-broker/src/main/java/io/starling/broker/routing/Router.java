package io.starling.broker.routing;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.retain.RetainedStore;
import io.starling.broker.session.Delivery;
import io.starling.broker.session.Session;
import io.starling.broker.topic.Subscription;
import io.starling.broker.topic.SubscriptionIndex;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Routes a published message: updates the retained store, matches the subscription index, works out each
 * session's delivery and hands it to the session's owner loop through the {@link Outbox} of the calling loop.
 *
 * <p>Overlapping subscriptions: a session whose subscriptions match a message several times gets ONE copy, at
 * the highest QoS granted among them [MQTT-3.3.5-1], carrying every matching Subscription Identifier (5.0);
 * RETAIN is kept if any of them asked for Retain As Published. Subscriptions with No Local do not match the
 * publisher's own messages [MQTT-3.8.3-3].
 *
 * <p>Thread-safety: {@link #publish} may be called on any of the broker's event loops.
 */
public final class Router {

    private final SubscriptionIndex index;
    private final RetainedStore retained;
    private final Function<String, Session> sessions;
    private final BrokerMetrics metrics;
    private final Map<EventExecutor, Outbox> outboxes = new IdentityHashMap<>();

    public Router(SubscriptionIndex index, RetainedStore retained, Function<String, Session> sessions,
            EventExecutorGroup loops, BrokerMetrics metrics, DeliveryGovernor governor) {
        this.index = index;
        this.retained = retained;
        this.sessions = sessions;
        this.metrics = metrics;
        for (EventExecutor loop : loops) {
            outboxes.put(loop, new Outbox(loop, governor));
        }
    }

    /** Publishes a message: retained state first, then every matching session. */
    public void publish(Message m) {
        metrics.messagesReceived.increment();
        if (m.retain()) {
            retained.update(m); // [MQTT-3.3.1-5] store; an empty payload removes [MQTT-3.3.1-10]
        }
        List<Subscription> matches = new ArrayList<>(4);
        index.match(m.topic(), s -> {
            if (!(s.noLocal() && s.clientId().equals(m.publisherId()))) {
                matches.add(s);
            }
        });
        if (matches.isEmpty()) {
            return;
        }
        if (matches.size() == 1) {
            Subscription s = matches.get(0);
            dispatch(s.clientId(), new Delivery(m, Math.min(m.qos(), s.qos()), s.retainAsPublished() && m.retain(),
                    s.subscriptionId() == 0 ? List.of() : List.of(s.subscriptionId())));
            return;
        }
        Map<String, Aggregate> byClient = new HashMap<>();
        for (Subscription s : matches) {
            byClient.computeIfAbsent(s.clientId(), k -> new Aggregate()).add(s);
        }
        for (Map.Entry<String, Aggregate> e : byClient.entrySet()) {
            Aggregate a = e.getValue();
            dispatch(e.getKey(), new Delivery(m, Math.min(m.qos(), a.qos), a.retainAsPublished && m.retain(),
                    a.subscriptionIds == null ? List.of() : a.subscriptionIds));
        }
    }

    private void dispatch(String clientId, Delivery d) {
        Session session = sessions.apply(clientId);
        if (session == null) {
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
