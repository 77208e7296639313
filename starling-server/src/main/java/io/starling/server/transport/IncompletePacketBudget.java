package io.starling.server.transport;

import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker-wide bound of {@code max-incomplete-packet-bytes-total}: bytes received and buffered for packets (and
 * WebSocket frames) whose last byte has not arrived yet, over all connections. Each connection reserves from it in
 * {@link IncompletePacketGuard#CHUNK}s while it holds an incomplete packet, so the shared counter is touched once
 * per chunk of growth, not per read or per message; a connection whose reservation would take the total over the
 * bound is closed. Also the one place that logs such closes (and those of {@code incomplete-packet-timeout-seconds}):
 * one WARN line at most every {@link #LOG_INTERVAL_NANOS}, with the counts since the last line.
 *
 * <p>Thread-safety: thread-safe; a CAS loop on one counter, and a lock only to log.
 */
public final class IncompletePacketBudget {

    private static final Logger LOG = LoggerFactory.getLogger(IncompletePacketBudget.class);

    /** Closes are logged at most once per this interval (10 s). */
    static final long LOG_INTERVAL_NANOS = 10_000_000_000L;

    /** Why a connection was closed with an incomplete packet. */
    public enum Cause {
        /** Its incomplete packet would have taken the total over {@code max-incomplete-packet-bytes-total}. */
        BYTES,
        /** Its packet was not complete within {@code incomplete-packet-timeout-seconds}. */
        TIMEOUT
    }

    private final long limit;
    private final LongSupplier nanoClock;
    private final AtomicLong held = new AtomicLong();
    private final long[] closedSinceLog = new long[Cause.values().length];
    private final long[] closedTotal = new long[Cause.values().length];
    private long lastLogNanos;
    private boolean loggedOnce;

    /**
     * @param limit bytes; 0 = no bound (the bytes are still counted)
     */
    public IncompletePacketBudget(long limit) {
        this(limit, System::nanoTime);
    }

    /**
     * @param limit bytes; 0 = no bound (the bytes are still counted)
     * @param nanoClock the clock of the log's rate limit
     */
    public IncompletePacketBudget(long limit, LongSupplier nanoClock) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must not be negative");
        }
        this.limit = limit;
        this.nanoClock = nanoClock;
    }

    /** A budget without a bound, for tests and tools. */
    public static IncompletePacketBudget unbounded() {
        return new IncompletePacketBudget(0);
    }

    /** The bound in bytes; 0 = none. */
    public long limit() {
        return limit;
    }

    /** Bytes reserved now by connections holding incomplete packets. */
    public long heldBytes() {
        return held.get();
    }

    /** How many connections were closed for this cause since the start. */
    public synchronized long closed(Cause cause) {
        return closedTotal[cause.ordinal()];
    }

    /** Reserves {@code bytes} more; false (and nothing reserved) if that would exceed the bound. */
    boolean tryReserve(long bytes) {
        while (true) {
            long current = held.get();
            long next = current + bytes;
            if (limit > 0 && next > limit) {
                return false;
            }
            if (held.compareAndSet(current, next)) {
                return true;
            }
        }
    }

    void release(long bytes) {
        held.addAndGet(-bytes);
    }

    /** Counts a connection closed for {@code cause} and logs, at most once per interval. */
    void closed(Cause cause, SocketAddress remote, String detail) {
        long now = nanoClock.getAsLong();
        String line = null;
        long bytes = 0;
        long timeouts = 0;
        synchronized (this) {
            closedSinceLog[cause.ordinal()]++;
            closedTotal[cause.ordinal()]++;
            if (!loggedOnce || now - lastLogNanos >= LOG_INTERVAL_NANOS) {
                loggedOnce = true;
                lastLogNanos = now;
                bytes = closedSinceLog[Cause.BYTES.ordinal()];
                timeouts = closedSinceLog[Cause.TIMEOUT.ordinal()];
                closedSinceLog[Cause.BYTES.ordinal()] = 0;
                closedSinceLog[Cause.TIMEOUT.ordinal()] = 0;
                line = detail;
            }
        }
        if (line != null) {
            LOG.warn("Connections closed with an incomplete packet ({} over max-incomplete-packet-bytes-total of {} bytes,"
                    + " {} over incomplete-packet-timeout-seconds); latest {}: {}; at most one such line every {} s",
                    bytes, limit, timeouts, remote, line, LOG_INTERVAL_NANOS / 1_000_000_000L);
        }
    }

    @Override
    public String toString() {
        return "IncompletePacketBudget[" + held.get() + " of " + (limit == 0 ? "unbounded" : limit) + " bytes]";
    }
}
