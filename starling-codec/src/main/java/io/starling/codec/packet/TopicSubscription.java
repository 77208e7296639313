package io.starling.codec.packet;

/**
 * One Topic Filter of a SUBSCRIBE with its Subscription Options (section 3.8.3.1).
 *
 * @param filter Topic Filter as sent (validated by the broker, not by the codec)
 * @param qos Maximum QoS, 0..2
 * @param noLocal No Local (5.0)
 * @param retainAsPublished Retain As Published (5.0)
 * @param retainHandling Retain Handling 0..2 (5.0)
 */
public record TopicSubscription(String filter, int qos, boolean noLocal, boolean retainAsPublished,
        int retainHandling) {

    /** A subscription with the MQTT 3.x defaults for the options. */
    public static TopicSubscription of(String filter, int qos) {
        return new TopicSubscription(filter, qos, false, false, 0);
    }
}
