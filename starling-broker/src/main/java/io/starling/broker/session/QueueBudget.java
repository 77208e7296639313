package io.starling.broker.session;

import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * The global memory budget for undelivered messages ({@code max-queued-bytes-total}): the bytes queued in all
 * sessions, counted as {@code max-queued-bytes} counts them ({@code Message.weight()} per queued copy). Sessions add
 * to and subtract from one {@link LongAdder} (striped: no lock and no shared cache line per message); the sum is read
 * once per read batch of a connection that published. At or above the high-water mark, connections that publish
 * and have nothing to receive stop being read ({@link #pause}); once the total is at or below the low-water mark
 * they are resumed. While anything is paused, the total is checked every {@link #CHECK_INTERVAL_MS} ms on the loop
 * of the first connection paused; nothing runs otherwise.
 *
 * <p>Thread-safety: all methods may be called from any thread.
 */
public final class QueueBudget {

    /** How often the total is checked while connections are paused. */
    public static final long CHECK_INTERVAL_MS = 10;

    private final LongAdder queuedBytes;
    private final long highWaterMark;
    private final long lowWaterMark;
    private final ConcurrentLinkedQueue<Runnable> paused = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean checking = new AtomicBoolean();
    private final LongAdder pauses = new LongAdder();

    /**
     * @param queuedBytes the counter the sessions keep (BrokerMetrics.queuedBytes)
     * @param highWaterMark bytes at which publishers are paused; 0 = never
     * @param lowWaterMark bytes at or below which they are resumed
     */
    public QueueBudget(LongAdder queuedBytes, long highWaterMark, long lowWaterMark) {
        if (lowWaterMark > highWaterMark) {
            throw new IllegalArgumentException("low-water mark above the high-water mark");
        }
        this.queuedBytes = queuedBytes;
        this.highWaterMark = highWaterMark;
        this.lowWaterMark = lowWaterMark;
    }

    /** The budget of {@code max-queued-bytes-total}: resumes at three quarters of it. */
    public static QueueBudget of(LongAdder queuedBytes, long maxQueuedBytesTotal) {
        return new QueueBudget(queuedBytes, maxQueuedBytesTotal, maxQueuedBytesTotal - maxQueuedBytesTotal / 4);
    }

    /** Bytes queued over all sessions now. */
    public long queuedBytes() {
        return queuedBytes.sum();
    }

    public long highWaterMark() {
        return highWaterMark;
    }

    public long lowWaterMark() {
        return lowWaterMark;
    }

    /** Whether the total has reached the budget (never when the budget is 0). */
    public boolean isExhausted() {
        return highWaterMark > 0 && queuedBytes.sum() >= highWaterMark;
    }

    /** Times a connection was paused since start. */
    public long pauses() {
        return pauses.sum();
    }

    /** Connections waiting to be resumed now (a resumed connection that was not paused again counts until then). */
    public int waiting() {
        return paused.size();
    }

    /**
     * Registers a paused connection: {@code resume} runs (on {@code loop} or another loop) once the total is at or
     * below the low-water mark; it must post to the connection's own loop if it needs to. The caller has stopped
     * reading already, and registers once per pause.
     */
    public void pause(Runnable resume, EventExecutor loop) {
        pauses.increment();
        paused.add(resume);
        if (checking.compareAndSet(false, true)) {
            schedule(loop);
        }
    }

    private void schedule(EventExecutor loop) {
        try {
            loop.schedule(() -> check(loop), CHECK_INTERVAL_MS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            checking.set(false); // the broker is stopping
        }
    }

    private void check(EventExecutor loop) {
        if (queuedBytes.sum() <= lowWaterMark) {
            Runnable r;
            while ((r = paused.poll()) != null) {
                r.run();
            }
        }
        if (!paused.isEmpty()) {
            schedule(loop);
            return;
        }
        checking.set(false);
        // a pause registered between the emptiness check and the reset must not be left without a checker
        if (!paused.isEmpty() && checking.compareAndSet(false, true)) {
            schedule(loop);
        }
    }
}
