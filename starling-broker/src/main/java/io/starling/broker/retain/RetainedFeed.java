package io.starling.broker.retain;

import io.netty.util.concurrent.EventExecutor;
import io.starling.broker.message.Delivery;
import io.starling.broker.message.Message;
import io.starling.broker.topic.Subscription;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;

/**
 * The retained messages of one new subscription on their way to the session [MQTT-3.3.1-6], read a page at a time
 * as the session drains: the session calls {@link #pump} from {@link Target#drain()}, and a page is read only when
 * the previous one has been handed over. However many messages
 * match, the heap holds at most one page of them per subscription on top of what the session queues.
 *
 * <p>The walk over the index runs on the session's owner loop (at most {@link RetainedStore#MAX_VISITS} nodes per
 * page); payloads that are not in the heap are read by the store off the loop and come back to the owner with
 * {@link Target#execute}. Each message goes through {@link Target#deliverRetained}, which sends it as any delivery
 * is sent (the ACL's read check, the QoS downgrade and message expiry apply), and only when the connection takes it:
 * live messages wait in the session's queue until the feed is done. A message whose topic was updated after the page was read
 * is skipped: the update was routed to this subscription live, and the older message must not follow it.
 *
 * <p>Confined to the session's owner loop, except the store's read callback, which only posts to it.
 */
public final class RetainedFeed {

    /** The session a feed hands its messages to; every method is called on the session's owner loop. */
    public interface Target {

        /** Whether the connection takes {@code d} now (writable, room in the in-flight window). */
        boolean accepts(Delivery d);

        /** Sends a retained message that {@link #accepts} took. */
        void deliverRetained(Delivery d);

        /** Sends what the session can send, pumping its feeds again. */
        void drain();

        /** Runs {@code task} on the session's owner (now if called there), following it when it moves. */
        void execute(Runnable task);

        /** The session's owner loop. */
        EventExecutor owner();
    }

    /** Most messages one page reads. */
    static final int PAGE_MESSAGES = 256;
    /** About the most payload and topic bytes one page reads (at least one message). */
    static final long PAGE_BYTES = 256 * 1024;

    private final RetainedStore store;
    private final Subscription subscription;
    private final List<Integer> subscriptionIds;
    private final int maxQueued;
    private final RetainedStore.Cursor cursor;
    private final ArrayDeque<RetainedStore.Hit> ready = new ArrayDeque<>();
    private boolean reading;
    private boolean cancelled;

    /**
     * @param maxQueued the session's {@code max-queued-messages}: a page asks for no more than the queue has room
     *     for
     */
    public RetainedFeed(RetainedStore store, Subscription subscription, int maxQueued) {
        this.store = store;
        this.subscription = subscription;
        this.subscriptionIds = subscription.subscriptionId() == 0 ? List.of() : List.of(subscription.subscriptionId());
        this.maxQueued = maxQueued;
        this.cursor = store.cursor(subscription.topicFilter());
    }

    /** The filter as subscribed. */
    public String filter() {
        return subscription.filter();
    }

    /** Stops the feed (the subscription went, or the session's state was dropped); a page on its way is ignored. */
    public void cancel() {
        cancelled = true;
        ready.clear();
    }

    /**
     * On the session's owner: hands the messages read so far to the session while it takes them without dropping
     * one ({@link Target#accepts}), and starts reading the next page when none are left. Returns true once the feed
     * is done (every message handed over, or cancelled); false while it waits for room or for a page, after which
     * the session calls it again.
     */
    public boolean pump(Target session) {
        while (!cancelled) {
            RetainedStore.Hit h;
            while ((h = ready.peekFirst()) != null) {
                if (!store.isCurrent(h)) {
                    ready.pollFirst(); // replaced, removed or expired since it was read
                    continue;
                }
                Message m = h.message();
                Delivery d = new Delivery(m, Math.min(m.qos(), subscription.qos()), true, subscriptionIds);
                if (!session.accepts(d)) {
                    return false;
                }
                ready.pollFirst();
                session.deliverRetained(d); // RETAIN 1: sent because of a new subscription [MQTT-3.3.1-8]
            }
            if (reading) {
                return false; // a page is on its way (or a pause after an empty one)
            }
            if (cursor.exhausted()) {
                return true;
            }
            int room = Math.max(1, Math.min(PAGE_MESSAGES, maxQueued));
            List<RetainedStore.Hit> page = store.next(cursor, room, PAGE_BYTES);
            if (page.isEmpty() && cursor.exhausted()) {
                return true;
            }
            if (page.isEmpty()) {
                // the walk used its budget without a match: let the loop do other work before going on
                reading = true;
                later(session, () -> {
                    reading = false;
                    session.drain();
                });
                return false;
            }
            if (RetainedStore.inHeap(page)) {
                ready.addAll(page);
                continue;
            }
            reading = true;
            store.read(page, () -> session.execute(() -> {
                reading = false;
                if (!cancelled) {
                    for (RetainedStore.Hit hit : page) {
                        if (hit.message() != null) {
                            ready.addLast(hit);
                        }
                    }
                }
                session.drain();
            }));
            return false;
        }
        return true;
    }

    /** Runs {@code task} on the session's owner in a later pass of its loop. */
    private static void later(Target session, Runnable task) {
        try {
            session.owner().execute(() -> session.execute(task));
        } catch (RejectedExecutionException e) {
            // the broker is stopping
        }
    }
}
