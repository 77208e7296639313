package io.starling.broker.session;

import io.starling.broker.message.Delivery;
import io.starling.broker.topic.Subscription;
import java.util.List;

/**
 * What of a session comes from another node of the cluster when its client connects here: its subscriptions, Session
 * Expiry Interval and the messages it had not delivered (in flight or queued, oldest first). The session is then
 * resumed here (Session Present 1).
 *
 * @param subscriptions the session's subscriptions
 * @param expirySeconds its Session Expiry Interval
 * @param queued the messages not yet acknowledged by the client, in order (none when the old node is gone)
 * @param inboundQos2 packet ids of QoS 2 PUBLISH packets from the client whose PUBREL has not arrived
 */
public record MovedSession(List<Subscription> subscriptions, long expirySeconds, List<Delivery> queued,
        List<Integer> inboundQos2) {

    public MovedSession {
        subscriptions = List.copyOf(subscriptions);
        queued = List.copyOf(queued);
        inboundQos2 = List.copyOf(inboundQos2);
    }

    /** Subscriptions and expiry only (from the cluster's record, when the old node is gone). */
    public MovedSession(List<Subscription> subscriptions, long expirySeconds) {
        this(subscriptions, expirySeconds, List.of(), List.of());
    }
}
