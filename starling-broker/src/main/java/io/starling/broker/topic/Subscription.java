package io.starling.broker.topic;

/**
 * One session's subscription to one Topic Filter with its options. Immutable; a SUBSCRIBE with the same filter
 * replaces it [MQTT-3.8.4-3].
 *
 * @param clientId the subscribing session
 * @param filter the Topic Filter
 * @param qos the granted (maximum) QoS
 * @param noLocal do not deliver the session's own messages (5.0)
 * @param retainAsPublished keep the RETAIN flag of forwarded messages (5.0)
 * @param retainHandling 0 send retained on subscribe, 1 only if new, 2 never (5.0)
 * @param subscriptionId Subscription Identifier, 0 when none (5.0)
 */
public record Subscription(String clientId, String filter, int qos, boolean noLocal, boolean retainAsPublished,
        int retainHandling, int subscriptionId) {
}
