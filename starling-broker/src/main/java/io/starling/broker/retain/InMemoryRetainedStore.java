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
        long now = System.currentTimeMillis();
        if (!Topics.hasWildcard(filter)) {
            Message m = byTopic.get(filter);
            if (m != null) {
                deliverUnlessExpired(m, now, sink);
            }
            return;
        }
        for (Message m : byTopic.values()) {
            if (Topics.matches(filter, m.topic())) {
                deliverUnlessExpired(m, now, sink);
            }
        }
    }

    /** An expired retained message is removed when it is next looked at (5.0 3.3.2.3.3). */
    private void deliverUnlessExpired(Message m, long now, Consumer<Message> sink) {
        if (m.isExpired(now)) {
            byTopic.remove(m.topic(), m);
        } else {
            sink.accept(m);
        }
    }

    @Override
    public int size() {
        // expired messages still count until they are next matched
        return byTopic.size();
    }
}
