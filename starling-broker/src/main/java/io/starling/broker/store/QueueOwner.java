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

    /** A delivery written to the stored queue, in queue order; on the owner's loop. */
    void deliverStored(Delivery delivery);

    /** The stored queue was full and refused a delivery (counted as dropped); on the owner's loop. */
    void storedQueueFull();
}
