package io.starling.broker.retain;

import io.starling.broker.routing.Message;
import io.starling.broker.topic.Topics;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Retained messages by topic, in a concurrent map. Matching a wildcard subscription scans the store, which is
 * linear in the number of retained topics. Thread-safe.
 */
public final class InMemoryRetainedStore implements RetainedStore {

    private final Map<String, Message> byTopic = new ConcurrentHashMap<>();

    @Override
    public void update(Message m) {
        if (m.payload().length == 0) {
            byTopic.remove(m.topic());
        } else {
            byTopic.put(m.topic(), m);
        }
    }

    @Override
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

    @Override
    public int size() {
        return byTopic.size();
    }
}
