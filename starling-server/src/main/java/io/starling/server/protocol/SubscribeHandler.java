package io.starling.server.protocol;

import io.starling.broker.Broker;
import io.starling.broker.session.Session;
import io.starling.broker.topic.Subscription;
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

/** SUBSCRIBE and UNSUBSCRIBE of one connection. Runs on the connection's event loop. */
final class SubscribeHandler {

    private static final String SHARE_PREFIX = "$share/";

    private final MqttConnection connection;

    SubscribeHandler(MqttConnection connection) {
        this.connection = connection;
    }

    void onSubscribe(SubscribePacket p) {
        Broker broker = connection.broker;
        Session session = connection.session();
        boolean v5 = connection.version().isV5();
        List<Integer> ids = p.properties().subscriptionIdentifiers();
        int subscriptionId = ids.isEmpty() ? 0 : ids.get(0);
        List<ReasonCode> codes = new ArrayList<>(p.subscriptions().size());
        List<Subscription> retainedToSend = new ArrayList<>(p.subscriptions().size());
        for (TopicSubscription t : p.subscriptions()) {
            if (!Topics.isValidFilter(t.filter())) {
                // [MQTT-4.7.1-1..3] a bad filter fails on its own: 0x80 (3.x) / 0x8F (5.0)
                codes.add(v5 ? ReasonCode.TOPIC_FILTER_INVALID : ReasonCode.UNSPECIFIED_ERROR);
                continue;
            }
            if (v5 && t.filter().startsWith(SHARE_PREFIX)) {
                codes.add(ReasonCode.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED);
                continue;
            }
            Subscription s = new Subscription(session.clientId(), t.filter(), t.qos(), t.noLocal(),
                    t.retainAsPublished(), t.retainHandling(), subscriptionId);
            // [MQTT-3.8.4-3] a subscription to the same filter replaces the old one
            boolean existed = broker.subscribe(session, s);
            codes.add(ReasonCode.grantedQos(t.qos()));
            // Retain Handling: 0 always, 1 only for a new subscription, 2 never (5.0 3.8.3.1)
            if (t.retainHandling() == 0 || (t.retainHandling() == 1 && !existed)) {
                retainedToSend.add(s);
            }
        }
        // [MQTT-3.8.4-1] SUBACK with the same packet id, [MQTT-3.8.4-5] one code per filter, in order
        broker.store().whenDurable(() -> {
            connection.write(new SubAckPacket(p.packetId(), codes, Properties.EMPTY));
            for (Subscription s : retainedToSend) {
                broker.sendRetained(session, s); // [MQTT-3.3.1-6] retained messages follow the SUBACK
            }
        });
    }

    void onUnsubscribe(UnsubscribePacket p) {
        Session session = connection.session();
        List<ReasonCode> codes = new ArrayList<>(p.filters().size());
        for (String filter : p.filters()) {
            boolean existed = connection.broker.unsubscribe(session, filter);
            codes.add(existed ? ReasonCode.SUCCESS : ReasonCode.NO_SUBSCRIPTION_EXISTED);
        }
        // [MQTT-3.10.4-4] UNSUBACK even when nothing was unsubscribed, [MQTT-3.10.4-5] same packet id
        connection.broker.store().whenDurable(
                () -> connection.write(new UnsubAckPacket(p.packetId(), codes, Properties.EMPTY)));
    }
}
