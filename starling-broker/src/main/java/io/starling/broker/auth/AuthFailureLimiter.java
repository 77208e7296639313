package io.starling.broker.auth;

import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.LongSupplier;

/**
 * Limits password guessing per source address: after {@code maxFailures} failed logins (bad user name or password)
 * from one address within {@code window}, that address is blocked for {@code block}: its CONNECTs are refused at
 * once (CONNACK 0x8A Banned on 5.0, 0x05 Not authorized on 3.x) without looking at the credentials. The failures
 * counted start afresh after a block or once the window has passed. Successful logins do not reset the count, so
 * one valid account does not buy an attacker more guesses.
 *
 * <p>Thread-safety: thread-safe; one concurrent map of small immutable entries, cleaned of stale ones when it
 * grows past {@link #CLEANUP_THRESHOLD} addresses. Cost: {@link #isBlocked} is one map lookup.
 */
public final class AuthFailureLimiter {

    /** Above this many tracked addresses, stale entries are removed on the next failure. */
    static final int CLEANUP_THRESHOLD = 10_000;

    private record Entry(long windowStart, int failures, long blockedUntil) {
    }

    private final int maxFailures;
    private final long windowNanos;
    private final long blockNanos;
    private final LongSupplier nanoClock;
    private final ConcurrentMap<InetAddress, Entry> entries = new ConcurrentHashMap<>();

    /**
     * @param maxFailures failures within the window that start a block; 0 disables the limiter
     * @param window the window in which failures are counted
     * @param block how long an address stays blocked
     * @param nanoClock {@link System#nanoTime}, or a test clock
     */
    public AuthFailureLimiter(int maxFailures, Duration window, Duration block, LongSupplier nanoClock) {
        if (maxFailures < 0) {
            throw new IllegalArgumentException("maxFailures must not be negative");
        }
        this.maxFailures = maxFailures;
        this.windowNanos = window.toNanos();
        this.blockNanos = block.toNanos();
        this.nanoClock = nanoClock;
    }

    /** A limiter with the system clock. */
    public AuthFailureLimiter(int maxFailures, Duration window, Duration block) {
        this(maxFailures, window, block, System::nanoTime);
    }

    /** A limiter that never blocks. */
    public static AuthFailureLimiter disabled() {
        return new AuthFailureLimiter(0, Duration.ZERO, Duration.ZERO);
    }

    public boolean enabled() {
        return maxFailures > 0;
    }

    /** Whether CONNECTs from this address are refused now. */
    public boolean isBlocked(InetAddress address) {
        if (maxFailures == 0 || address == null) {
            return false;
        }
        Entry e = entries.get(address);
        return e != null && e.blockedUntil != 0 && e.blockedUntil - nanoClock.getAsLong() > 0;
    }

    /**
     * Counts a failed login from the address; true if it is the failure that starts a block (the caller logs it).
     */
    public boolean recordFailure(InetAddress address) {
        if (maxFailures == 0 || address == null) {
            return false;
        }
        long now = nanoClock.getAsLong();
        if (entries.size() > CLEANUP_THRESHOLD) {
            entries.values().removeIf(e -> isStale(e, now));
        }
        Entry e = entries.compute(address, (a, old) -> {
            if (old == null || isStale(old, now) || (old.blockedUntil != 0 && old.blockedUntil - now <= 0)) {
                old = new Entry(now, 0, 0);
            }
            int failures = old.failures + 1;
            long blockedUntil = old.blockedUntil != 0 ? old.blockedUntil
                    : failures >= maxFailures ? now + blockNanos : 0;
            return new Entry(old.windowStart, failures, blockedUntil);
        });
        return e.failures == maxFailures;
    }

    /** The number of addresses tracked (for tests). */
    int tracked() {
        return entries.size();
    }

    private boolean isStale(Entry e, long now) {
        boolean windowOver = now - e.windowStart > windowNanos;
        boolean notBlocked = e.blockedUntil == 0 || e.blockedUntil - now <= 0;
        return windowOver && notBlocked;
    }

    @Override
    public String toString() {
        return maxFailures == 0 ? "AuthFailureLimiter[off]" : "AuthFailureLimiter[" + maxFailures + " failures in "
                + Duration.ofNanos(windowNanos).toSeconds() + " s block for " + Duration.ofNanos(blockNanos).toSeconds()
                + " s]";
    }
}
