package io.starling.broker.topic;

/**
 * One session's subscription to one Topic Filter with its options. Immutable; a SUBSCRIBE with the same filter
 * replaces it [MQTT-3.8.4-3].
 *
 * @param clientId the subscribing session
 * @param filter the Topic Filter as subscribed, {@code $share/{group}/} prefix included for a shared one
 * @param qos the granted (maximum) QoS
 * @param noLocal do not deliver the session's own messages (5.0)
 * @param retainAsPublished keep the RETAIN flag of forwarded messages (5.0)
 * @param retainHandling 0 send retained on subscribe, 1 only if new, 2 never (5.0)
 * @param subscriptionId Subscription Identifier, 0 when none (5.0)
 * @param shareGroup the Share Name of a shared subscription, {@code null} for an ordinary one
 */
public record Subscription(String clientId, String filter, int qos, boolean noLocal, boolean retainAsPublished,
        int retainHandling, int subscriptionId, String shareGroup) {

    /** An ordinary (non-shared) subscription. */
    public Subscription(String clientId, String filter, int qos, boolean noLocal, boolean retainAsPublished,
            int retainHandling, int subscriptionId) {
        this(clientId, filter, qos, noLocal, retainAsPublished, retainHandling, subscriptionId, null);
    }

    public boolean isShared() {
        return shareGroup != null;
    }

    /** The filter that topics are matched against: {@link #filter()} without a {@code $share/{group}/} prefix. */
    public String topicFilter() {
        return shareGroup == null ? filter : filter.substring(Topics.SHARE_PREFIX.length() + shareGroup.length() + 1);
    }
}
