package io.starling.broker.session;

import io.starling.broker.routing.Message;
import io.starling.broker.topic.SharedGroup;
import java.util.List;

/**
 * A message on its way to one session: the shared message plus what is particular to this subscriber.
 *
 * @param message the shared message
 * @param qos QoS of the delivery: the lower of the published QoS and the granted QoS [MQTT-3.8.4-6]
 * @param retain RETAIN flag to send
 * @param subscriptionIds Subscription Identifiers of the matching subscriptions (5.0), possibly empty
 * @param group the shared subscription group the session was chosen from, {@code null} for an ordinary delivery;
 *     such a delivery moves to another member if this session's connection is lost before it completes
 */
public record Delivery(Message message, int qos, boolean retain, List<Integer> subscriptionIds, SharedGroup group) {

    /** An ordinary (non-shared) delivery. */
    public Delivery(Message message, int qos, boolean retain, List<Integer> subscriptionIds) {
        this(message, qos, retain, subscriptionIds, null);
    }
}
