package io.starling.broker.store;

import io.starling.broker.message.Delivery;
import java.util.List;
import java.util.function.Consumer;

/**
 * One session generation's queue of stored QoS 1/2 deliveries, in position order ({@link Delivery#seq()}). Entries
 * are added by {@link QueueStore#append}; the session reads them a page at a time and removes each once it is done.
 */
public interface StoredQueue {

    /**
     * A stored delivery is done (acknowledged, expired, dropped, refused or moved): its queue entry goes.
     * Housekeeping: no acknowledgement depends on it; if it is lost in a failed commit, the delivery comes back after a
     * restart.
     */
    void ack(Delivery delivery);

    /**
     * Reads up to {@code limit} stored deliveries after queue position {@code afterSeq}, in order, and passes them to
     * {@code onOwner} on {@code owner}'s loop; an empty list when there are none.
     */
    void read(long afterSeq, int limit, QueueOwner owner, Consumer<List<Delivery>> onOwner);
}
