package io.starling.broker.store;

import io.starling.broker.message.Delivery;
import io.starling.broker.message.Message;
import java.util.List;

/** The stored queues of QoS 1/2 deliveries, one per session generation ({@link StoredQueue}). */
public interface QueueStore {

    /**
     * Stores a published QoS 1/2 message once, with one queue entry per delivery, then hands each delivery, now
     * {@link Delivery#isStored() stored}, to its owner with {@link QueueOwner#deliverStored} on the owner's loop, in
     * queue order. Called by the router on the publisher's loop; {@code owners.get(i)} receives
     * {@code deliveries.get(i)}, in the queue the owner has when the write is committed
     * ({@link QueueOwner#storedQueue()}). An owner whose stored queue is full does not get the message
     * ({@link QueueOwner#storedQueueFull()}).
     */
    void append(Message message, List<? extends QueueOwner> owners, List<Delivery> deliveries);
}
