package io.starling.broker.routing;

import io.netty.util.concurrent.EventExecutor;
import io.starling.broker.session.Delivery;
import io.starling.broker.session.Session;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Deliveries produced on one event loop, grouped by the loop that owns each target session and handed over
 * as one task per target loop: all messages routed during one pass of the source loop (one read batch) cost
 * one cross-thread hand-off per target loop, not one per message.
 *
 * <p>Thread-safety: confined to its source loop; {@link #add} must be called there.
 */
final class Outbox {

    private final EventExecutor loop;
    private final DeliveryGovernor governor;
    private final Map<EventExecutor, List<Object>> pending = new IdentityHashMap<>();
    private boolean flushScheduled;
    private final Runnable flushTask = this::flush;

    Outbox(EventExecutor loop, DeliveryGovernor governor) {
        this.loop = loop;
        this.governor = governor;
    }

    void add(Session session, Delivery delivery) {
        List<Object> batch = pending.computeIfAbsent(session.owner(), k -> new ArrayList<>());
        batch.add(session);
        batch.add(delivery);
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
        for (Map.Entry<EventExecutor, List<Object>> e : pending.entrySet()) {
            List<Object> batch = e.getValue();
            EventExecutor target = e.getKey();
            if (target == loop) {
                deliverBatch(batch);
            } else {
                int n = batch.size() / 2;
                governor.handedOver(n);
                target.execute(() -> {
                    deliverBatch(batch);
                    governor.processed(n);
                });
            }
        }
        pending.clear();
    }

    /** Runs on the target loop; a session that moved meanwhile gets its delivery forwarded to its new owner. */
    static void deliverBatch(List<Object> batch) {
        for (int i = 0; i < batch.size(); i += 2) {
            Session s = (Session) batch.get(i);
            Delivery d = (Delivery) batch.get(i + 1);
            if (s.owner().inEventLoop()) {
                s.deliver(d);
            } else {
                s.execute(() -> s.deliver(d));
            }
        }
    }
}
