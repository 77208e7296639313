package io.starling.broker.retain;

import io.starling.broker.message.Message;
import java.util.List;
import java.util.function.Consumer;

/**
 * Where a durable store keeps retained messages for the {@link RetainedStore}: the store writes them, and reads
 * back the payloads that the index no longer holds in memory. The index itself (topics, sizes, QoS, expiry) is the
 * {@link RetainedStore}'s; a durable store loads it at start-up with {@link RetainedStore#load} without reading a
 * payload.
 *
 * <p>Threads: {@link #write} and {@link #delete} are called on event loops, under the lock of the topic's index
 * entry, so two updates of one topic are queued in the order the index saw them; they must return at once (queue
 * the write). {@link #read} must not block the caller either: it reads on a thread of its own and calls back there.
 */
public interface RetainedPersistence {

    /**
     * Queues the write of the topic's retained message. Once it is durable, the store runs {@code onDurable} (on any
     * thread), after which the index drops the payload from the heap and reads it back with {@link #read} when a
     * subscription needs it. A store that never runs it keeps the payload in the heap. If the store cannot write it
     * (the commit failed: the acknowledgement that waits for it is refused), {@code onFailed} runs instead (on any
     * thread), and the index goes back to what the store still holds.
     */
    void write(String topic, Message message, Runnable onDurable, Runnable onFailed);

    /**
     * Queues the removal of the topic's retained message. If the store cannot write it, {@code onFailed} runs (on any
     * thread): the message is still there, and the index puts it back.
     */
    void delete(String topic, Runnable onFailed);

    /**
     * Reads the committed retained messages of {@code topics} off the calling thread and passes them to
     * {@code onRead} (on the reading thread), in the same order, {@code null} for a topic that has none (any more).
     * Never blocks the caller; a failed read is logged and gives {@code null}s.
     */
    void read(List<String> topics, Consumer<List<Message>> onRead);
}
