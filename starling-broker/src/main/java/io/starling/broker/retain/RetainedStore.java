package io.starling.broker.retain;

import io.starling.broker.routing.Message;
import java.util.function.Consumer;

/**
 * Retained messages by topic (SPI). A retained PUBLISH replaces the topic's message; one with an empty payload
 * removes it [MQTT-3.3.1-10], [MQTT-3.3.1-11]. Implementations are thread-safe: every event loop reads and
 * writes.
 */
public interface RetainedStore {

    /** Stores, replaces or (empty payload) clears the retained message of the message's topic. */
    void update(Message m);

    /** Calls {@code sink} with every retained message whose topic matches the filter. */
    void match(String filter, Consumer<Message> sink);

    /** Number of retained messages. */
    int size();
}
