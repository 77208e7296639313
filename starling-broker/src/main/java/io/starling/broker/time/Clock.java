package io.starling.broker.time;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The broker's one source of time: wall-clock time for deadlines that are stored or sent (message expiry, when a
 * session was disconnected), monotonic time for intervals, and timers for deadlines that something must happen at
 * (the Will delay, session expiry). {@link #SYSTEM} in the broker; tests pass a clock they move by hand, so that a
 * deadline can be checked a millisecond before and after without waiting for it.
 */
public interface Clock {

    /** Wall-clock time in milliseconds since the epoch. */
    long millis();

    /** Monotonic time in nanoseconds, for intervals only (its origin is arbitrary). */
    long nanos();

    /** Runs {@code task} on {@code executor} once {@code delay} has passed on this clock; cancellable. */
    Timer schedule(EventExecutor executor, Runnable task, long delay, TimeUnit unit);

    /** A task scheduled with {@link #schedule}. */
    interface Timer {

        /** Cancels the task if it has not run yet. */
        void cancel();
    }

    /** The system's clocks and the executor's own scheduler. */
    Clock SYSTEM = new Clock() {
        @Override
        public long millis() {
            return System.currentTimeMillis();
        }

        @Override
        public long nanos() {
            return System.nanoTime();
        }

        @Override
        public Timer schedule(EventExecutor executor, Runnable task, long delay, TimeUnit unit) {
            ScheduledFuture<?> f = executor.schedule(task, delay, unit);
            return () -> f.cancel(false);
        }
    };
}
