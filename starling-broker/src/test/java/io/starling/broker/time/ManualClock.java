package io.starling.broker.time;

import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A clock that moves only when told to: {@link #advance} moves wall-clock and monotonic time together and runs the
 * timers that fall due, in deadline order, on their executors. Not thread-safe: for tests that drive one executor.
 */
public final class ManualClock implements Clock {

    private final long startMillis;
    private final long startNanos;
    private long nanos;
    private long sequence;
    private final List<Scheduled> timers = new ArrayList<>();

    private final class Scheduled implements Timer {
        final long dueNanos;
        final long order;
        final EventExecutor executor;
        final Runnable task;

        Scheduled(long dueNanos, long order, EventExecutor executor, Runnable task) {
            this.dueNanos = dueNanos;
            this.order = order;
            this.executor = executor;
            this.task = task;
        }

        @Override
        public void cancel() {
            timers.remove(this);
        }
    }

    /** A clock at {@code startMillis} since the epoch. */
    public ManualClock(long startMillis) {
        this.startMillis = startMillis;
        this.startNanos = 1_000_000_000L;
        this.nanos = startNanos;
    }

    @Override
    public long millis() {
        return startMillis + TimeUnit.NANOSECONDS.toMillis(nanos - startNanos);
    }

    @Override
    public long nanos() {
        return nanos;
    }

    @Override
    public Timer schedule(EventExecutor executor, Runnable task, long delay, TimeUnit unit) {
        Scheduled s = new Scheduled(nanos + unit.toNanos(delay), sequence++, executor, task);
        timers.add(s);
        return s;
    }

    /** Timers not run nor cancelled yet. */
    public int pendingTimers() {
        return timers.size();
    }

    /** Moves time forward and runs every timer due by then, earliest first. */
    public void advance(long amount, TimeUnit unit) {
        long target = nanos + unit.toNanos(amount);
        while (true) {
            Scheduled next = null;
            for (Scheduled s : timers) {
                if (s.dueNanos <= target && (next == null || s.dueNanos < next.dueNanos
                        || s.dueNanos == next.dueNanos && s.order < next.order)) {
                    next = s;
                }
            }
            if (next == null) {
                break;
            }
            timers.remove(next);
            nanos = Math.max(nanos, next.dueNanos);
            next.executor.execute(next.task);
        }
        nanos = target;
    }
}
