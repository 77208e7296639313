package io.starling.broker.message;

import io.starling.codec.Properties;

/**
 * An Application Message inside the broker, as published: immutable and shared by every session it is
 * delivered to. The payload is a {@code byte[]} owned by the garbage collector, so no reference counting is
 * needed however many queues hold the message (see docs/architecture.md).
 *
 * @param topic Topic Name
 * @param qos QoS the publisher sent it with
 * @param retain RETAIN flag as published
 * @param payload payload bytes, read-only
 * @param properties PUBLISH properties to forward (5.0), without topic alias or subscription identifiers
 * @param publisherId client id of the publisher, for No Local; {@code null} for messages of the broker
 * @param expiresAtMillis wall-clock time (ms since the epoch) at which the message expires (5.0 Message Expiry
 *     Interval), {@link #NEVER} when it does not
 * @param receivedNanos {@link System#nanoTime()} when the PUBLISH was received, for a message sampled for the
 *     publish-to-delivery latency metric; 0 for every other message (and after a restart)
 */
public record Message(String topic, int qos, boolean retain, byte[] payload, Properties properties,
        String publisherId, long expiresAtMillis, long receivedNanos) {

    /** {@link #expiresAtMillis()} of a message without a Message Expiry Interval. */
    public static final long NEVER = Long.MAX_VALUE;

    /** A message not sampled for the latency metric. */
    public Message(String topic, int qos, boolean retain, byte[] payload, Properties properties, String publisherId,
            long expiresAtMillis) {
        this(topic, qos, retain, payload, properties, publisherId, expiresAtMillis, 0);
    }


    /** A message published now; its expiry is taken from the Message Expiry Interval property, if any. */
    public static Message published(String topic, int qos, boolean retain, byte[] payload, Properties properties,
            String publisherId, long nowMillis) {
        return published(topic, qos, retain, payload, properties, publisherId, nowMillis, 0);
    }

    /**
     * As {@link #published(String, int, boolean, byte[], Properties, String, long)}, stamped with
     * {@code receivedNanos} for the latency metric (0: not sampled).
     */
    public static Message published(String topic, int qos, boolean retain, byte[] payload, Properties properties,
            String publisherId, long nowMillis, long receivedNanos) {
        Long interval = properties.messageExpiryInterval();
        long expiresAt = interval == null ? NEVER : nowMillis + interval * 1000L;
        return new Message(topic, qos, retain, payload, properties, publisherId, expiresAt, receivedNanos);
    }

    /** Bytes this message is charged for in queue limits. */
    public long weight() {
        return payload.length + topic.length() + 64L;
    }

    public boolean isExpired(long nowMillis) {
        return nowMillis >= expiresAtMillis;
    }

    /**
     * The Message Expiry Interval to forward: what is left, in whole seconds rounded up [MQTT-3.3.2-6];
     * only meaningful when the message has an expiry and has not expired.
     */
    public long remainingExpirySeconds(long nowMillis) {
        return (expiresAtMillis - nowMillis + 999) / 1000;
    }
}
