package io.starling.broker.session;

import io.starling.broker.topic.Subscription;
import java.util.List;

/**
 * What of a session comes from another node of the cluster when its client connects here: its subscriptions and
 * Session Expiry Interval. The session is then resumed here (Session Present 1).
 *
 * @param subscriptions the session's subscriptions
 * @param expirySeconds its Session Expiry Interval
 */
public record MovedSession(List<Subscription> subscriptions, long expirySeconds) {

    public MovedSession {
        subscriptions = List.copyOf(subscriptions);
    }
}
