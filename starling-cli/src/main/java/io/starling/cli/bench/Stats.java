package io.starling.cli.bench;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Recorder;

/**
 * Counters and latency recorders of one run, written from the event loops, read by the reporter. "Window"
 * counters count only messages sent (stamped runs) or received (sub alone) inside the measured window, so that
 * published and delivered in the window describe the same messages.
 */
final class Stats {

    /** Highest latency the histograms hold: one hour, in microseconds. */
    static final long MAX_MICROS = 3_600_000_000L;

    final LongAdder published = new LongAdder();
    final LongAdder publishedWindow = new LongAdder();
    final LongAdder acked = new LongAdder();
    final LongAdder ackedWindow = new LongAdder();
    final LongAdder delivered = new LongAdder();
    final LongAdder deliveredWindow = new LongAdder();
    /** Deliveries that arrived in the window, whenever they were sent. */
    final LongAdder receivedWindow = new LongAdder();
    final LongAdder ackErrors = new LongAdder();
    final AtomicInteger connected = new AtomicInteger();
    final AtomicInteger connectFailures = new AtomicInteger();
    final AtomicInteger lost = new AtomicInteger();
    final AtomicReference<String> firstError = new AtomicReference<>();

    /** End-to-end latency of every delivery, for the progress lines (µs). */
    final Recorder latency = new Recorder(1, MAX_MICROS, 3);
    /** End-to-end latency of the deliveries of messages sent in the window (µs). */
    final Recorder windowLatency = new Recorder(1, MAX_MICROS, 3);
    /** CONNECT to CONNACK (µs), all of the run, read once at the end. */
    final Recorder connectLatency = new Recorder(1, MAX_MICROS, 3);
    /** CONNECT to CONNACK (µs), for the progress lines. */
    final Recorder connectLatencyProgress = new Recorder(1, MAX_MICROS, 3);

    /** The measured window in System.nanoTime, fixed before the first message is sent. */
    volatile long windowStart = Long.MAX_VALUE;
    volatile long windowEnd = Long.MAX_VALUE;

    boolean inWindow(long nanos) {
        return nanos >= windowStart && nanos < windowEnd;
    }

    void error(String message) {
        firstError.compareAndSet(null, message);
    }

    void sent(int n, long stamp) {
        published.add(n);
        if (inWindow(stamp)) {
            publishedWindow.add(n);
        }
    }

    void ack(long now) {
        acked.increment();
        if (inWindow(now)) {
            ackedWindow.increment();
        }
    }

    /** A delivery of a message stamped {@code stamp} (or 0 when it has no stamp) received at {@code now}. */
    void delivery(long stamp, long now, boolean stamped) {
        delivered.increment();
        boolean arrivedInWindow = inWindow(now);
        if (arrivedInWindow) {
            receivedWindow.increment();
        }
        if (stamped) {
            long micros = Math.max(1, Math.min(MAX_MICROS, (now - stamp) / 1000));
            latency.recordValue(micros);
            if (inWindow(stamp)) {
                deliveredWindow.increment();
                windowLatency.recordValue(micros);
            }
        } else if (arrivedInWindow) {
            deliveredWindow.increment();
        }
    }

    void connected(long nanos) {
        connected.incrementAndGet();
        long micros = micros(nanos);
        connectLatency.recordValue(micros);
        connectLatencyProgress.recordValue(micros);
    }

    static long micros(long nanos) {
        return Math.max(1, Math.min(MAX_MICROS, nanos / 1000));
    }
}
