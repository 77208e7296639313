package io.starling.broker.retain;

import io.starling.broker.routing.Message;
import io.starling.broker.topic.Topics;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Retained messages by topic, in memory. A retained PUBLISH replaces the topic's message; one with an empty
 * payload removes it [MQTT-3.3.1-10], [MQTT-3.3.1-11]. Thread-safe (concurrent map); matching a new
 * subscription scans the store, which is linear in the number of retained topics.
 */
public final class RetainedStore {

    private final Map<String, Message> byTopic = new ConcurrentHashMap<>();

    /** Stores, replaces or (empty payload) clears the retained message of the message's topic. */
    public void update(Message m) {
        if (m.payload().length == 0) {
            byTopic.remove(m.topic());
        } else {
            byTopic.put(m.topic(), m);
        }
    }

    /** Calls {@code sink} with every retained message whose topic matches the filter. */
    public void match(String filter, Consumer<Message> sink) {
        if (!Topics.hasWildcard(filter)) {
            Message m = byTopic.get(filter);
            if (m != null) {
                sink.accept(m);
            }
            return;
        }
        for (Message m : byTopic.values()) {
            if (Topics.matches(filter, m.topic())) {
                sink.accept(m);
            }
        }
    }

    public int size() {
        return byTopic.size();
    }
}
