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
 * <p>Checks in progress count too: a check is begun with {@link #tryBegin} and ended with {@link #end}, and an
 * address may have at most {@code maxFailures} minus its failures so far in progress at once. So a burst of
 * concurrent logins cannot run more checks than the limit before the first of them fails: the rest are refused
 * ({@link Admission#BUSY}) before anything expensive is done, and once the checks in progress have failed, the
 * address is blocked.
 *
 * <p>Thread-safety: thread-safe; one concurrent map of small immutable entries, cleaned of stale ones when it
 * grows past {@link #CLEANUP_THRESHOLD} addresses. Cost: {@link #isBlocked} is one map lookup.
 */
public final class AuthFailureLimiter {

    /** Above this many tracked addresses, stale entries are removed on the next failure. */
    static final int CLEANUP_THRESHOLD = 10_000;

    /**
     * @param inFlight checks begun with {@link #tryBegin} and not ended yet
     */
    private record Entry(long windowStart, int failures, long blockedUntil, int inFlight) {
    }

    /** The answer of {@link #tryBegin}. */
    public enum Admission {
        /** Go ahead with the check; call {@link #end} when it is over. */
        ALLOWED,
        /** The address is blocked after too many failed logins. */
        BLOCKED,
        /** As many checks as the address has failures left are in progress: refused until they end. */
        BUSY
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
     * Begins a check of credentials from the address, if the address may have one more in progress: fewer failures
     * plus checks in progress than the limit, and not blocked. An {@link Admission#ALLOWED} check must be
     * {@link #end ended} exactly once, whatever becomes of it.
     */
    public Admission tryBegin(InetAddress address) {
        if (maxFailures == 0 || address == null) {
            return Admission.ALLOWED;
        }
        long now = nanoClock.getAsLong();
        cleanUp(now);
        Admission[] answer = new Admission[1];
        entries.compute(address, (a, old) -> {
            Entry e = current(old, now);
            if (e.blockedUntil != 0) {
                answer[0] = Admission.BLOCKED;
                return e;
            }
            if (e.failures + e.inFlight >= maxFailures) {
                answer[0] = Admission.BUSY;
                return e;
            }
            answer[0] = Admission.ALLOWED;
            return new Entry(e.windowStart, e.failures, e.blockedUntil, e.inFlight + 1);
        });
        return answer[0];
    }

    /**
     * Ends a check begun with {@link #tryBegin}; {@code failed} if the credentials were bad. True if it is the
     * failure that starts a block (the caller logs it).
     */
    public boolean end(InetAddress address, boolean failed) {
        if (maxFailures == 0 || address == null) {
            return false;
        }
        return count(address, -1, failed);
    }

    /**
     * Counts a failed login from the address that was not begun with {@link #tryBegin} (a failed enhanced
     * authentication); true if it is the failure that starts a block (the caller logs it).
     */
    public boolean recordFailure(InetAddress address) {
        if (maxFailures == 0 || address == null) {
            return false;
        }
        return count(address, 0, true);
    }

    private boolean count(InetAddress address, int inFlightChange, boolean failed) {
        long now = nanoClock.getAsLong();
        cleanUp(now);
        boolean[] startsBlock = new boolean[1];
        entries.compute(address, (a, old) -> {
            Entry e = current(old, now);
            int inFlight = Math.max(0, e.inFlight + inFlightChange);
            if (!failed) {
                return new Entry(e.windowStart, e.failures, e.blockedUntil, inFlight);
            }
            int failures = e.failures + 1;
            long blockedUntil = e.blockedUntil != 0 ? e.blockedUntil : failures >= maxFailures ? now + blockNanos : 0;
            startsBlock[0] = failures == maxFailures;
            return new Entry(e.windowStart, failures, blockedUntil, inFlight);
        });
        return startsBlock[0];
    }

    /** The entry as it is now: a fresh window once the old one is over or its block has ended; checks carry over. */
    private Entry current(Entry old, long now) {
        if (old == null) {
            return new Entry(now, 0, 0, 0);
        }
        if (isStale(old, now) || (old.blockedUntil != 0 && old.blockedUntil - now <= 0)) {
            return new Entry(now, 0, 0, old.inFlight);
        }
        return old;
    }

    private void cleanUp(long now) {
        if (entries.size() > CLEANUP_THRESHOLD) {
            entries.values().removeIf(e -> e.inFlight == 0 && isStale(e, now));
        }
    }

    /** Checks in progress from the address (for tests and tools). */
    public int inFlight(InetAddress address) {
        Entry e = entries.get(address);
        return e == null ? 0 : e.inFlight;
    }

    /** Addresses blocked now; walks the tracked addresses (a few thousand at most), for the metrics. */
    public int blockedAddresses() {
        long now = nanoClock.getAsLong();
        int n = 0;
        for (Entry e : entries.values()) {
            if (e.blockedUntil != 0 && e.blockedUntil - now > 0) {
                n++;
            }
        }
        return n;
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

    /** Failures from one address within the window that start a block (0 = never). */
    public int maxFailures() {
        return maxFailures;
    }

    /** How long a block lasts, in seconds. */
    public long blockSeconds() {
        return Duration.ofNanos(blockNanos).toSeconds();
    }

    @Override
    public String toString() {
        return maxFailures == 0 ? "AuthFailureLimiter[off]" : "AuthFailureLimiter[" + maxFailures + " failures in "
                + Duration.ofNanos(windowNanos).toSeconds() + " s block for " + Duration.ofNanos(blockNanos).toSeconds()
                + " s]";
    }
}
