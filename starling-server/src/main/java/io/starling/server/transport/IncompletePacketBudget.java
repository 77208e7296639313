package io.starling.server.transport;

import io.starling.broker.log.RateLimitedLog;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The broker-wide bound of {@code max-incomplete-packet-bytes-total}: bytes received and buffered for packets (and
 * WebSocket frames) whose last byte has not arrived yet, over all connections. Each connection reserves from it in
 * {@link IncompletePacketGuard#CHUNK}s while it holds an incomplete packet, so the shared counter is touched once
 * per chunk of growth, not per read or per message; a connection whose reservation would take the total over the
 * bound is closed. Also the one place that logs such closes (and those of {@code incomplete-packet-timeout-seconds}):
 * one WARN line at most every {@link #LOG_INTERVAL} ({@link RateLimitedLog}), with the counts of each cause since
 * the last line.
 *
 * <p>Thread-safety: thread-safe; a CAS loop on one counter; a close is counted under the log's lock.
 */
public final class IncompletePacketBudget {

    private static final Logger LOG = LoggerFactory.getLogger(IncompletePacketBudget.class);

    /** Closes are logged at most once per this interval. */
    static final Duration LOG_INTERVAL = Duration.ofSeconds(10);

    /** Why a connection was closed with an incomplete packet. */
    public enum Cause {
        /** Its incomplete packet would have taken the total over {@code max-incomplete-packet-bytes-total}. */
        BYTES,
        /** Its packet was not complete within {@code incomplete-packet-timeout-seconds}. */
        TIMEOUT
    }

    private final long limit;
    private final AtomicLong held = new AtomicLong();
    private final AtomicLongArray closedTotal = new AtomicLongArray(Cause.values().length);
    private final RateLimitedLog closedLog;
    /** How each cause reads in the log line. */
    private final String[] kinds = new String[Cause.values().length];

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
        this.closedLog = new RateLimitedLog(LOG, Level.WARN, LOG_INTERVAL, nanoClock);
        kinds[Cause.BYTES.ordinal()] = "over max-incomplete-packet-bytes-total of " + limit + " bytes";
        kinds[Cause.TIMEOUT.ordinal()] = "over incomplete-packet-timeout-seconds";
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
    public long closed(Cause cause) {
        return closedTotal.get(cause.ordinal());
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
        closedTotal.incrementAndGet(cause.ordinal());
        closedLog.logKind(kinds[cause.ordinal()], "Connections closed with an incomplete packet; latest {}: {}", remote,
                detail);
    }

    @Override
    public String toString() {
        return "IncompletePacketBudget[" + held.get() + " of " + (limit == 0 ? "unbounded" : limit) + " bytes]";
    }
}
