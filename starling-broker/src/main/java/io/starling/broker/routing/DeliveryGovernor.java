package io.starling.broker.routing;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bounds the deliveries handed from one event loop to another and not yet processed. Publishers can route far
 * faster than a loop that owns busy subscribers can deliver; without a bound the hand-off queues grow until the
 * heap is gone. Above the high-water mark, connections that publish stop reading ({@link #pauseIfOverloaded});
 * below the low-water mark they are resumed. The cost is one atomic add per batch, not per message.
 *
 * <p>Thread-safety: all methods may be called from any thread.
 */
public final class DeliveryGovernor {

    private final long highWaterMark;
    private final long lowWaterMark;
    private final AtomicLong pending = new AtomicLong();
    private final ConcurrentLinkedQueue<Runnable> paused = new ConcurrentLinkedQueue<>();

    public DeliveryGovernor(long highWaterMark, long lowWaterMark) {
        this.highWaterMark = highWaterMark;
        this.lowWaterMark = lowWaterMark;
    }

    /**
     * Deliveries handed to another loop (or, in a cluster, messages waiting for a connected peer's acknowledgement:
     * a slow peer pauses publishers as a slow loop does).
     */
    public void handedOver(int deliveries) {
        pending.addAndGet(deliveries);
    }

    /** Deliveries processed by their target loop; resumes paused publishers below the low-water mark. */
    public void processed(int deliveries) {
        long now = pending.addAndGet(-deliveries);
        if (now <= lowWaterMark && !paused.isEmpty()) {
            resumeAll();
        }
    }

    public boolean isOverloaded() {
        return pending.get() > highWaterMark;
    }

    /** Deliveries handed over and not yet processed. */
    public long pending() {
        return pending.get();
    }

    /**
     * If overloaded, calls {@code pause} now and {@code resume} once the backlog is below the low-water mark.
     * Both are called on the caller's thread or from a loop finishing a batch: {@code resume} must post to the
     * connection's own loop if it needs to.
     *
     * @return true if the caller was paused
     */
    public boolean pauseIfOverloaded(Runnable pause, Runnable resume) {
        if (!isOverloaded()) {
            return false;
        }
        pause.run();
        paused.add(resume);
        if (pending.get() <= lowWaterMark) {
            resumeAll(); // the backlog drained between the check and the registration
        }
        return true;
    }

    private void resumeAll() {
        Runnable r;
        while ((r = paused.poll()) != null) {
            r.run();
        }
    }
}
