package io.starling.broker.store;

import io.starling.broker.message.Delivery;

/**
 * What the store needs from the owner of a stored queue (the session): a way onto its loop, and the two events the
 * queue reports there. Implemented by the session.
 */
public interface QueueOwner {

    /** Runs {@code task} on the owner's loop (now if called there), following the owner when it moves. */
    void execute(Runnable task);

    /**
     * The owner's current stored queue (of its current generation), {@code null} while it stores nothing; read from
     * the store's thread.
     */
    StoredQueue storedQueue();

    /**
     * The most messages the owner's stored queue may hold when the owner has a bound of its own (a bridge's local
     * session), else {@code -1}: the store's ({@code max-queued-messages}). Read from the store's thread.
     */
    default long maxStoredMessages() {
        return -1;
    }

    /** As {@link #maxStoredMessages()}, in bytes counted as {@code max-queued-bytes} counts them; {@code -1}: the store's. */
    default long maxStoredBytes() {
        return -1;
    }

    /** A delivery written to the stored queue, in queue order; on the owner's loop. */
    void deliverStored(Delivery delivery);

    /** The stored queue was full and refused a delivery (counted as dropped); on the owner's loop. */
    void storedQueueFull();
}
