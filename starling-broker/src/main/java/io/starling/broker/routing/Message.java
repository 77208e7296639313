package io.starling.broker.routing;

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
 */
public record Message(String topic, int qos, boolean retain, byte[] payload, Properties properties,
        String publisherId) {

    /** Bytes this message is charged for in queue limits. */
    public long weight() {
        return payload.length + topic.length() + 64L;
    }
}
