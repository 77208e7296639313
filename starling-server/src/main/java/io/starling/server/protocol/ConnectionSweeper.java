package io.starling.server.protocol;

import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The deadlines of the connections of one event loop (connect timeout, keep-alive, the grace period of a closing
 * connection), checked by one periodic task per loop instead of a timer per connection: a hashed timer wheel of
 * {@link #SLOTS} slots of {@link #TICK_NANOS}, whose entries are the connections themselves (two links and a tick
 * in {@link ConnectionState}, no node objects).
 *
 * <p>A connection is filed under the tick at or after its earliest deadline ({@link ConnectionState#nextDeadline},
 * which only moves later while it is filed, as packets arrive). Each run walks the slots of
 * the ticks passed since the previous run and of the tick in progress, and asks each connection whose deadline has
 * fallen ({@link ConnectionState#onDeadline}); the connection checks its own deadlines against the clock and answers
 * with its next one: a client that sent a packet meanwhile is simply filed again, later. So a deadline is acted on
 * at the first run at or after it, never before: at most one tick late with the periodic runs. A packet costs the
 * connection one clock read per read batch and nothing here.
 *
 * <p>Thread-safety: confined to its event loop (the periodic task runs there; connections call it from there).
 */
public final class ConnectionSweeper {

    /** The wheel's resolution: a deadline is acted on at most this much after it falls. */
    public static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /** Slots of the wheel; a deadline further away than a round stays filed until its round comes. */
    static final int SLOTS = 512;
    private static final int MASK = SLOTS - 1;

    private final LongSupplier nanoClock;
    private final long origin;
    private final ConnectionState[] heads = new ConnectionState[SLOTS];
    /** The last tick whose slot has been processed. */
    private long processed;
    private int size;

    /**
     * A sweeper that is run by hand ({@link #runDue}); tests use it with a manual clock.
     *
     * @param nanoClock the clock of the deadlines ({@code System::nanoTime} in the broker)
     */
    public ConnectionSweeper(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        this.origin = nanoClock.getAsLong();
    }

    /** A sweeper that runs every {@link #TICK_NANOS} on {@code loop}, until the loop shuts down. */
    static ConnectionSweeper startOn(EventExecutor loop, LongSupplier nanoClock) {
        ConnectionSweeper s = new ConnectionSweeper(nanoClock);
        try {
            loop.scheduleAtFixedRate(s::runDue, TICK_NANOS, TICK_NANOS, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // the loop is shutting down: its connections are being closed anyway
        }
        return s;
    }

    /** The clock the deadlines are read from. */
    long now() {
        return nanoClock.getAsLong();
    }

    /** Connections filed now. */
    public int size() {
        return size;
    }

    /** Files {@code c} under {@code deadline} (a {@link #now} value), moving it if it was filed already. */
    void schedule(ConnectionState c, long deadline) {
        if (c.sweepSlot >= 0) {
            unlink(c);
        }
        int slot = slotOf(deadline);
        ConnectionState head = heads[slot];
        c.sweepSlot = slot;
        c.sweepPrev = null;
        c.sweepNext = head;
        if (head != null) {
            head.sweepPrev = c;
        }
        heads[slot] = c;
        size++;
    }

    /** Removes {@code c} if it is filed. */
    void cancel(ConnectionState c) {
        if (c.sweepSlot >= 0) {
            unlink(c);
        }
    }

    /**
     * Acts on every deadline that has fallen by now, exactly: the slots of the ticks passed since the last run, and
     * the slot of the tick in progress for what in it has fallen already. On the sweeper's loop.
     */
    public void runDue() {
        long now = nanoClock.getAsLong();
        long current = Math.floorDiv(now - origin, TICK_NANOS);
        long last = Math.min(current + 1, processed + SLOTS);
        for (long t = processed + 1; t <= last; t++) {
            process((int) (t & MASK), now);
        }
        if (current > processed) {
            processed = current;
        }
    }

    /** The slot of the tick at or after {@code deadline}, and after the last tick processed. */
    private int slotOf(long deadline) {
        long tick = Math.max(Math.floorDiv(deadline - origin + TICK_NANOS - 1, TICK_NANOS), processed + 1);
        return (int) (tick & MASK);
    }

    private void process(int slot, long now) {
        ConnectionState c = heads[slot];
        while (c != null) {
            ConnectionState next = c.sweepNext;
            long due = c.nextDeadline();
            if (due == ConnectionState.NO_DEADLINE) {
                unlink(c);
            } else if (due - now <= 0) {
                unlink(c);
                long deadline = c.onDeadline(now);
                if (deadline != ConnectionState.NO_DEADLINE) {
                    // later than now: filed at the head of its slot, so not met again in this walk
                    schedule(c, deadline);
                }
            } else if (slotOf(due) != slot) {
                schedule(c, due); // its deadline moved on (a packet arrived): filed under the later tick
            }
            c = next;
        }
    }

    private void unlink(ConnectionState c) {
        ConnectionState prev = c.sweepPrev;
        ConnectionState next = c.sweepNext;
        if (prev != null) {
            prev.sweepNext = next;
        } else {
            heads[c.sweepSlot] = next;
        }
        if (next != null) {
            next.sweepPrev = prev;
        }
        c.sweepPrev = null;
        c.sweepNext = null;
        c.sweepSlot = -1;
        size--;
    }
}
