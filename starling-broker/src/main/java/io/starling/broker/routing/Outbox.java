package io.starling.broker.routing;

import io.netty.util.concurrent.EventExecutor;
import io.starling.broker.message.Delivery;
import io.starling.broker.session.Session;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Deliveries produced on one event loop, grouped by the loop that owns each target session and handed over
 * as one task per target loop: all messages routed during one pass of the source loop (one read batch) cost
 * one cross-thread hand-off per target loop, not one per message.
 *
 * <p>Thread-safety: confined to its source loop; {@link #add} must be called there.
 */
final class Outbox {

    /** The deliveries for one target loop: {@code sessions[i]} receives {@code deliveries[i]}, in routing order. */
    static final class Batch {
        private Session[] sessions;
        private Delivery[] deliveries;
        private int size;

        Batch(int capacity) {
            sessions = new Session[capacity];
            deliveries = new Delivery[capacity];
        }

        void add(Session session, Delivery delivery) {
            if (size == sessions.length) {
                sessions = java.util.Arrays.copyOf(sessions, size * 2);
                deliveries = java.util.Arrays.copyOf(deliveries, size * 2);
            }
            sessions[size] = session;
            deliveries[size] = delivery;
            size++;
        }

        int size() {
            return size;
        }

        /** Runs on the target loop; a session that moved meanwhile gets its delivery forwarded to its new owner. */
        void deliver() {
            for (int i = 0; i < size; i++) {
                Session s = sessions[i];
                Delivery d = deliveries[i];
                if (s.owner().inEventLoop()) {
                    s.deliver(d);
                } else {
                    s.execute(() -> s.deliver(d));
                }
            }
        }
    }

    private final EventExecutor loop;
    private final DeliveryGovernor governor;
    private final Map<EventExecutor, Batch> pending = new IdentityHashMap<>();
    private boolean flushScheduled;
    private final Runnable flushTask = this::flush;
    /**
     * Room the next batches start with: the size of the largest batch of the last flush, or less as the load falls
     * (an eighth less a flush), so that a steady load fills its arrays without growing them step by step.
     */
    private int sizeHint = MIN_START;
    private static final int MIN_START = 8;
    /**
     * A batch this large is handed over at once, before the end of the pass: one pass of a loop reads every
     * connection that has data (up to Netty's 16 reads of up to 64 KiB each), so a pass of flat-out publishers of
     * small messages routes hundreds of thousands of them; held to the end of the pass, they would all be alive at
     * once, beyond what the young generation takes, and the governor would count them only after the pass, too late
     * to pause the publishers read later in it.
     */
    static final int MAX_BATCH = 1024;

    Outbox(EventExecutor loop, DeliveryGovernor governor) {
        this.loop = loop;
        this.governor = governor;
    }

    void add(Session session, Delivery delivery) {
        EventExecutor target = session.owner();
        Batch batch = pending.get(target);
        if (batch == null) {
            batch = new Batch(sizeHint);
            pending.put(target, batch);
        }
        batch.add(session, delivery);
        if (batch.size() >= MAX_BATCH) {
            pending.remove(target);
            sizeHint = MAX_BATCH;
            handOff(target, batch);
        } else if (!flushScheduled) {
            flushScheduled = true;
            loop.execute(flushTask);
        }
    }

    private void flush() {
        flushScheduled = false;
        if (pending.isEmpty()) {
            sizeHint = Math.max(MIN_START, sizeHint - sizeHint / 8);
            return;
        }
        int largest = MIN_START;
        for (Map.Entry<EventExecutor, Batch> e : pending.entrySet()) {
            largest = Math.max(largest, e.getValue().size());
            handOff(e.getKey(), e.getValue());
        }
        pending.clear();
        sizeHint = Math.max(largest, sizeHint - sizeHint / 8);
    }

    /**
     * Delivers a batch for this loop's sessions now; one for another loop's is posted there and counted by the
     * governor until that loop has processed it. Batches for one target go in the order they were made, so each
     * session gets its deliveries in routing order.
     */
    private void handOff(EventExecutor target, Batch batch) {
        if (target == loop) {
            batch.deliver();
        } else {
            int n = batch.size();
            governor.handedOver(n);
            target.execute(() -> {
                batch.deliver();
                governor.processed(n);
            });
        }
    }
}
