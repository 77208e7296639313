package io.starling.it;

import java.nio.charset.StandardCharsets;

/**
 * A message as a test client received it.
 *
 * @param topic topic name
 * @param payload payload bytes
 * @param qos QoS of the PUBLISH that delivered it
 * @param retain RETAIN flag of that PUBLISH
 */
public record Msg(String topic, byte[] payload, int qos, boolean retain) {

    public String text() {
        return new String(payload, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Msg m && m.topic.equals(topic) && java.util.Arrays.equals(m.payload, payload)
                && m.qos == qos && m.retain == retain;
    }

    @Override
    public int hashCode() {
        return topic.hashCode() * 31 + java.util.Arrays.hashCode(payload);
    }

    @Override
    public String toString() {
        return "Msg[" + topic + " '" + text() + "' qos=" + qos + " retain=" + retain + "]";
    }
}
