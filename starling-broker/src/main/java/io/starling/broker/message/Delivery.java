package io.starling.broker.message;

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
 * @param seq position in the session's stored queue, 0 when the delivery is not stored (QoS 0, a session that
 *     ends with its connection, or {@code storage: memory})
 * @param msgId id of the stored message record it refers to, 0 when not stored
 */
public record Delivery(Message message, int qos, boolean retain, List<Integer> subscriptionIds, SharedGroup group,
        long seq, long msgId) {

    /** A delivery that is not (yet) stored. */
    public Delivery(Message message, int qos, boolean retain, List<Integer> subscriptionIds, SharedGroup group) {
        this(message, qos, retain, subscriptionIds, group, 0, 0);
    }

    /** An ordinary (non-shared) delivery that is not (yet) stored. */
    public Delivery(Message message, int qos, boolean retain, List<Integer> subscriptionIds) {
        this(message, qos, retain, subscriptionIds, null, 0, 0);
    }

    /** This delivery as stored at {@code seq} in its session's queue, referring to message record {@code msgId}. */
    public Delivery stored(long seq, long msgId) {
        return new Delivery(message, qos, retain, subscriptionIds, group, seq, msgId);
    }

    /** Whether it is in the store (and must be acknowledged there once done). */
    public boolean isStored() {
        return seq != 0;
    }
}
