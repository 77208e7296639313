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
        private Session[] sessions = new Session[8];
        private Delivery[] deliveries = new Delivery[8];
        private int size;

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

    Outbox(EventExecutor loop, DeliveryGovernor governor) {
        this.loop = loop;
        this.governor = governor;
    }

    void add(Session session, Delivery delivery) {
        pending.computeIfAbsent(session.owner(), k -> new Batch()).add(session, delivery);
        if (!flushScheduled) {
            flushScheduled = true;
            loop.execute(flushTask);
        }
    }

    private void flush() {
        flushScheduled = false;
        if (pending.isEmpty()) {
            return;
        }
        for (Map.Entry<EventExecutor, Batch> e : pending.entrySet()) {
            Batch batch = e.getValue();
            EventExecutor target = e.getKey();
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
        pending.clear();
    }
}
