package io.starling.server.protocol;

import io.starling.broker.Broker;
import io.starling.broker.acl.TopicAccess;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.session.Session;
import io.starling.broker.store.Store;
import io.starling.broker.topic.Subscription;
import io.starling.broker.topic.TopicLimits;
import io.starling.broker.topic.Topics;
import io.starling.codec.Properties;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.SubAckPacket;
import io.starling.codec.packet.SubscribePacket;
import io.starling.codec.packet.TopicSubscription;
import io.starling.codec.packet.UnsubAckPacket;
import io.starling.codec.packet.UnsubscribePacket;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SUBSCRIBE and UNSUBSCRIBE of one connection: filter validation, the server's capabilities (wildcards,
 * subscription identifiers, shared subscriptions, Maximum QoS), the ACL, the per-client subscription quota, SUBACK,
 * and the retained messages that follow it (each checked against the ACL as it is delivered, in the session).
 * Stateless (static methods, the connection and its broker passed in): a connection that subscribed keeps nothing of
 * it here. Runs on the connection's event loop.
 */
final class SubscribeHandler {

    private static final Logger LOG = LoggerFactory.getLogger(SubscribeHandler.class);

    private SubscribeHandler() {
    }

    /** @param broker where subscriptions are made and retained messages come from (its store: what SUBACK waits for) */
    static void onSubscribe(ConnectionPort connection, Broker broker, SubscribePacket p) {
        Store store = broker.store();
        BrokerConfig config = broker.config();
        Session session = connection.session();
        boolean v5 = connection.version().isV5();
        List<Integer> ids = p.properties().subscriptionIdentifiers();
        if (!ids.isEmpty() && !config.subscriptionIdentifiersAvailable()) {
            // CONNACK said Subscription Identifiers Available 0: DISCONNECT 0xA1 (5.0 3.14.2.1)
            connection.disconnect(ReasonCode.SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED,
                    "subscription identifiers are not available");
            return;
        }
        int subscriptionId = ids.isEmpty() ? 0 : ids.get(0);
        List<ReasonCode> codes = new ArrayList<>(p.subscriptions().size());
        List<Subscription> retainedToSend = new ArrayList<>(p.subscriptions().size());
        // what each granted filter replaced (null: nothing), to put it back if the store does not keep the new one
        List<Subscription[]> made = new ArrayList<>(p.subscriptions().size());
        for (TopicSubscription t : p.subscriptions()) {
            ReasonCode refusal = check(connection, broker, t.filter(), session);
            if (refusal != null) {
                // a refused filter fails on its own; 3.x knows only 0x80 [MQTT-3.9.3-2] (3.1.1)
                codes.add(v5 ? refusal : ReasonCode.UNSPECIFIED_ERROR);
                continue;
            }
            String group = Topics.isShared(t.filter()) ? Topics.shareName(t.filter()) : null;
            // [MQTT-3.8.4-6] (3.1.1) grant at most the server's Maximum QoS
            int qos = Math.min(t.qos(), config.maximumQos());
            // a bridging broker (Mosquitto's bridge flag) is never sent its own messages and gets RETAIN as published
            boolean bridge = connection.isBridge();
            Subscription s = new Subscription(session.clientId(), t.filter(), qos, t.noLocal() || (bridge && group == null),
                    t.retainAsPublished() || bridge, t.retainHandling(), subscriptionId, group);
            // [MQTT-3.8.4-3] a subscription to the same filter replaces the old one
            Subscription replaced = broker.subscribe(session, s);
            made.add(new Subscription[] {s, replaced});
            codes.add(ReasonCode.grantedQos(qos));
            // Retain Handling: 0 always, 1 only for a new subscription, 2 never (5.0 3.8.3.1)
            if (t.retainHandling() == 0 || (t.retainHandling() == 1 && replaced == null)) {
                retainedToSend.add(s);
            }
        }
        // [MQTT-3.8.4-1] SUBACK with the same packet id, [MQTT-3.8.4-5] (3.1.1) one code per filter, in order
        store.whenDurable(() -> {
            connection.write(new SubAckPacket(p.packetId(), codes, Properties.EMPTY));
            for (Subscription s : retainedToSend) {
                broker.sendRetained(session, s); // [MQTT-3.3.1-6] retained messages follow the SUBACK
            }
        }, () -> {
            // the store did not keep the subscriptions: they are undone, and the client is told so (5.0: 0x80 for each
            // filter that was granted) or, on 3.x, gets no SUBACK and a closed connection, to subscribe again
            session.execute(() -> {
                for (Subscription[] m : made) {
                    broker.restoreSubscription(session, m[0].filter(), m[0], m[1]);
                }
            });
            if (!v5) {
                connection.storeFailed("SUBSCRIBE");
                return;
            }
            List<ReasonCode> failed = new ArrayList<>(codes.size());
            for (ReasonCode c : codes) {
                failed.add(c.isError() ? c : ReasonCode.UNSPECIFIED_ERROR);
            }
            connection.write(new SubAckPacket(p.packetId(), failed,
                    connection.reasonProperties(ConnectionPort.STORE_FAILED, false)));
        });
    }

    /** Why a filter is refused (5.0 reason code), or {@code null} when it is accepted. */
    private static ReasonCode check(ConnectionPort connection, Broker broker, String filter, Session session) {
        BrokerConfig config = broker.config();
        TopicLimits topicLimits = broker.topicLimits();
        String topicFilter = filter;
        String group = null;
        if (Topics.isShared(filter)) {
            if (!config.sharedSubscriptionsAvailable()) {
                return ReasonCode.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED;
            }
            group = Topics.shareName(filter);
            if (group == null) {
                return ReasonCode.TOPIC_FILTER_INVALID; // [MQTT-4.8.2-1] [MQTT-4.8.2-2]
            }
            topicFilter = filter.substring(Topics.SHARE_PREFIX.length() + group.length() + 1);
        } else if (!Topics.isValidFilter(filter)) {
            return ReasonCode.TOPIC_FILTER_INVALID; // [MQTT-4.7.1-1..3]
        }
        if (topicLimits.lengthViolation(filter) != null || topicLimits.violation(topicFilter) != null) {
            // over max-topic-length (the whole filter, $share/{group}/ included) or max-topic-levels (the filter
            // that is matched, after $share/{group}/): 0x8F "not accepted by the Server" (5.0 3.9.3)
            return ReasonCode.TOPIC_FILTER_INVALID;
        }
        if (!config.wildcardSubscriptionsAvailable() && Topics.hasWildcard(topicFilter)) {
            return ReasonCode.WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED;
        }
        TopicAccess access = connection.topicAccess();
        if (access != null && !access.canSubscribe(topicFilter)) {
            // the ACL allows reading no topic of this filter: 0x87 (5.0), 0x80 on 3.x [MQTT-3.9.3-2] (3.1.1)
            LOG.info("Client '{}' may not subscribe to '{}'", session.clientId(), filter);
            broker.metrics().aclDenied(BrokerMetrics.AclAction.SUBSCRIBE);
            return ReasonCode.NOT_AUTHORIZED;
        }
        if (access != null && group != null && !access.canJoin(group, topicFilter)) {
            // the ACL's $share/ rules do not let this client join the group: 0x87 (5.0), 0x80 on 3.x [MQTT-3.9.3-2] (3.1.1)
            LOG.info("Client '{}' may not join the shared subscription '{}'", session.clientId(), filter);
            broker.metrics().aclDenied(BrokerMetrics.AclAction.SUBSCRIBE);
            return ReasonCode.NOT_AUTHORIZED;
        }
        int max = config.maxSubscriptionsPerClient();
        if (max > 0 && session.subscriptions().size() >= max && !session.subscriptions().containsKey(filter)) {
            return ReasonCode.QUOTA_EXCEEDED;
        }
        return null;
    }

    /** @param broker where subscriptions are removed (its store: what UNSUBACK waits for) */
    static void onUnsubscribe(ConnectionPort connection, Broker broker, UnsubscribePacket p) {
        Store store = broker.store();
        Session session = connection.session();
        List<ReasonCode> codes = new ArrayList<>(p.filters().size());
        List<Subscription> removed = new ArrayList<>(p.filters().size());
        for (String filter : p.filters()) {
            Subscription old = broker.unsubscribe(session, filter);
            codes.add(old != null ? ReasonCode.SUCCESS : ReasonCode.NO_SUBSCRIPTION_EXISTED);
            if (old != null) {
                removed.add(old);
            }
        }
        // [MQTT-3.10.4-4] UNSUBACK even when nothing was unsubscribed, [MQTT-3.10.4-5] same packet id
        store.whenDurable(
                () -> connection.write(new UnsubAckPacket(p.packetId(), codes, Properties.EMPTY)),
                () -> {
                    // the store still has the subscriptions: they are put back, and the client is told
                    session.execute(() -> {
                        for (Subscription s : removed) {
                            broker.restoreSubscription(session, s.filter(), null, s);
                        }
                    });
                    if (!connection.version().isV5()) {
                        connection.storeFailed("UNSUBSCRIBE");
                        return;
                    }
                    List<ReasonCode> failed = new ArrayList<>(codes.size());
                    for (ReasonCode c : codes) {
                        failed.add(c == ReasonCode.SUCCESS ? ReasonCode.UNSPECIFIED_ERROR : c);
                    }
                    connection.write(new UnsubAckPacket(p.packetId(), failed,
                            connection.reasonProperties(ConnectionPort.STORE_FAILED, false)));
                });
    }
}
