package io.starling.broker.log;

import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.event.Level;

/**
 * A log line for an event that may repeat in a flood (refused connections, dropped messages, denied publishes): the
 * event is logged at most once every {@code interval}, and the events in between are counted, not logged. The line
 * that ends a quiet spell carries the detail of the event that triggered it (the latest one) and says how many were
 * left out since the previous line, and that at most one such line is written per interval. So an attacker or a
 * misbehaving client cannot fill the log, and an operator still learns how often it happened.
 *
 * <p>The first event is always logged. An event is logged when {@code interval} or more has passed since the last
 * line; otherwise it is counted as suppressed. Lines look like
 * <pre>
 *   Client 'c1' may not publish to 'a/b': dropped (and 12 more since the last line; at most one such line every 10 s)
 * </pre>
 * or, with kinds ({@link #logKind(String, String, Object...)}), like
 * <pre>
 *   Connection refused ... (since the last line: 3 over max-connections, 1 over connection-rate;
 *   at most one such line every 10 s)
 * </pre>
 * where the counts per kind include the event being logged.
 *
 * <p>Time comes from a {@link LongSupplier} of nanoseconds, {@link System#nanoTime} by default, so tests can drive
 * it by hand.
 *
 * <p>Thread-safety: thread-safe. An event that is only counted costs a clock read, a volatile read and a
 * {@link LongAdder} increment: no lock and, for up to three arguments, no allocation (the fixed-arity overloads
 * build the argument array only for a line that is written), so it may sit on a path that a flood drives. The
 * kinds of {@link #logKind} are counted under this object's lock. Owned by whatever produces the events: one per
 * kind of line, kept for the life of its owner (one per connection for a per-connection limit, one per broker for a
 * global one).
 */
public final class RateLimitedLog {

    private final Logger logger;
    private final Level level;
    private final long intervalNanos;
    private final String suffix;
    private final LongSupplier nanoClock;

    /** The earliest time the next line may be written; taken (moved on by the interval) by the event that writes. */
    private final AtomicLong nextLineNanos;
    private final LongAdder suppressed = new LongAdder();
    private final LongAdder total = new LongAdder();
    /** Events per kind since the last line (the kinds seen in that time, in the order first seen). */
    private final Map<String, long[]> kinds = new LinkedHashMap<>();

    /**
     * @param logger where the lines go
     * @param level the level of the lines
     * @param interval at most one line per this interval; positive
     * @param nanoClock {@link System#nanoTime}, or a test clock
     */
    public RateLimitedLog(Logger logger, Level level, Duration interval, LongSupplier nanoClock) {
        this.logger = Objects.requireNonNull(logger, "logger");
        this.level = Objects.requireNonNull(level, "level");
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval must be positive: " + interval);
        }
        this.intervalNanos = interval.toNanos();
        this.suffix = "at most one such line every " + describe(interval);
        this.nextLineNanos = new AtomicLong(nanoClock.getAsLong());
    }

    /** A log with the system clock ({@link System#nanoTime}). */
    public RateLimitedLog(Logger logger, Level level, Duration interval) {
        this(logger, level, interval, System::nanoTime);
    }

    /**
     * Counts one event and logs it if no line was written within the interval: {@code format} and {@code args} as in
     * SLF4J ({@code {}} placeholders; a last {@link Throwable} argument is logged as the cause), followed by the
     * number of events left out since the last line.
     *
     * @return true if a line was written (or would have been, had the level been enabled)
     */
    public boolean log(String format, Object... args) {
        if (!due()) {
            return false;
        }
        write(format, args, tail(suppressed.sumThenReset()));
        return true;
    }

    /** {@link #log(String, Object...)} without an argument. */
    public boolean log(String format) {
        if (!due()) {
            return false;
        }
        write(format, new Object[0], tail(suppressed.sumThenReset()));
        return true;
    }

    /** {@link #log(String, Object...)} with one argument, which allocates nothing for an event only counted. */
    public boolean log(String format, Object arg) {
        if (!due()) {
            return false;
        }
        write(format, new Object[] {arg}, tail(suppressed.sumThenReset()));
        return true;
    }

    /** {@link #log(String, Object...)} with two arguments, which allocates nothing for an event only counted. */
    public boolean log(String format, Object arg1, Object arg2) {
        if (!due()) {
            return false;
        }
        write(format, new Object[] {arg1, arg2}, tail(suppressed.sumThenReset()));
        return true;
    }

    /** {@link #log(String, Object...)} with three arguments, which allocates nothing for an event only counted. */
    public boolean log(String format, Object arg1, Object arg2, Object arg3) {
        if (!due()) {
            return false;
        }
        write(format, new Object[] {arg1, arg2, arg3}, tail(suppressed.sumThenReset()));
        return true;
    }

    private String tail(long left) {
        return left == 0 ? "(" + suffix + ")" : "(and " + left + " more since the last line; " + suffix + ")";
    }

    /**
     * Like {@link #log(String, Object...)} for an event of one of several kinds that share the line (such as the
     * limits that refuse a connection): the line counts the events of each kind since the last line, this one
     * included, in the order the kinds were first seen.
     *
     * @param kind the kind of this event, as it should read in the line (such as {@code "over max-connections"})
     * @return true if a line was written (or would have been, had the level been enabled)
     */
    public boolean logKind(String kind, String format, Object... args) {
        Objects.requireNonNull(kind, "kind");
        String counts;
        synchronized (this) {
            kinds.computeIfAbsent(kind, k -> new long[1])[0]++;
            if (!due()) {
                return false;
            }
            StringBuilder sb = new StringBuilder("(since the last line: ");
            String sep = "";
            for (Map.Entry<String, long[]> e : kinds.entrySet()) {
                sb.append(sep).append(e.getValue()[0]).append(' ').append(e.getKey());
                sep = ", ";
            }
            counts = sb.append("; ").append(suffix).append(')').toString();
            kinds.clear();
            suppressed.reset();
        }
        write(format, args, counts);
        return true;
    }

    /** Events counted but not logged since the last line. */
    public long suppressed() {
        return suppressed.sum();
    }

    /** All events counted, logged or not. */
    public long total() {
        return total.sum();
    }

    /**
     * Counts the event and tells whether a line is due for it: the interval has passed since the last line (or none
     * was written) and no other thread took this line first. An event with no line is counted as suppressed.
     */
    private boolean due() {
        total.increment();
        long now = nanoClock.getAsLong();
        long next = nextLineNanos.get();
        if (now - next < 0 || !nextLineNanos.compareAndSet(next, now + intervalNanos)) {
            suppressed.increment();
            return false;
        }
        return true;
    }

    /** Writes the line: the caller's format with {@code tail} appended, a last {@link Throwable} kept last. */
    private void write(String format, Object[] args, String tail) {
        Object[] all = Arrays.copyOf(args, args.length + 1);
        if (args.length > 0 && args[args.length - 1] instanceof Throwable cause) {
            all[args.length - 1] = tail;
            all[args.length] = cause;
        } else {
            all[args.length] = tail;
        }
        logger.atLevel(level).log(format + " {}", all);
    }

    private static String describe(Duration interval) {
        if (interval.getNano() == 0) {
            return interval.getSeconds() + " s";
        }
        return interval.toMillis() + " ms";
    }

    @Override
    public String toString() {
        return "RateLimitedLog[every " + describe(Duration.ofNanos(intervalNanos)) + ", " + suppressed()
                + " suppressed, " + total() + " in all]";
    }
}
