package io.starling.broker.session;

import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The sessions whose in-memory queue holds at least {@link QueueBudget#largeQueueBytes}: where the queue budget looks
 * first for what to shed, and, while there are any, the reason it keeps checking the total. A session joins when its
 * queue reaches that size and leaves when the queue is empty again, on its own loop: a set operation per such round
 * trip, never per message. The budget is told when one joins.
 *
 * <p>Thread-safety: all methods may be called from any thread; iteration is weakly consistent.
 */
public final class LargeQueues implements Iterable<Session> {

    public LargeQueues() {
    }

    private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
    private volatile Consumer<Session> onJoin;

    void add(Session s) {
        sessions.add(s);
        Consumer<Session> c = onJoin;
        if (c != null) {
            c.accept(s);
        }
    }

    void remove(Session s) {
        sessions.remove(s);
    }

    /** Sets what runs (on the joining session's loop) when a session joins. */
    void onJoin(Consumer<Session> c) {
        onJoin = c;
    }

    public boolean isEmpty() {
        return sessions.isEmpty();
    }

    public int size() {
        return sessions.size();
    }

    @Override
    public Iterator<Session> iterator() {
        return sessions.iterator();
    }
}
