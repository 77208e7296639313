package io.starling.broker.sys;

/**
 * The load of one counter as {@code $SYS/broker/load/...} shows it: how much it grows per minute, as exponentially
 * weighted moving averages over 1, 5 and 15 minutes. At every {@link #update}, the growth since the last one is
 * turned into a rate per minute, and each average moves towards that rate by {@code 1 - e^(-dt/window)} of the
 * distance, {@code dt} being the time since the last update: a steady rate is reached by all three averages, the
 * 1-minute one within a few minutes, the 15-minute one within an hour; a burst raises the 1-minute average most.
 * Not thread-safe: updated by one task.
 */
final class LoadAverage {

    /** The windows of the averages, in seconds: 1, 5 and 15 minutes. */
    static final int[] WINDOWS_SECONDS = {60, 300, 900};

    private final double[] averages = new double[WINDOWS_SECONDS.length];
    private long lastCount;
    private long lastNanos;

    /** Starts from the counter's value now: growth before it does not count. */
    LoadAverage(long count, long nanos) {
        this.lastCount = count;
        this.lastNanos = nanos;
    }

    /** Takes the counter's value at {@code nanos} (monotonic); nothing changes if no time has passed. */
    void update(long count, long nanos) {
        long elapsed = nanos - lastNanos;
        if (elapsed <= 0) {
            return;
        }
        double seconds = elapsed / 1e9;
        double perMinute = Math.max(0, count - lastCount) * 60.0 / seconds;
        for (int i = 0; i < averages.length; i++) {
            double keep = Math.exp(-seconds / WINDOWS_SECONDS[i]);
            averages[i] = perMinute + keep * (averages[i] - perMinute);
        }
        lastCount = count;
        lastNanos = nanos;
    }

    /** The average over the {@code i}-th window of {@link #WINDOWS_SECONDS}, per minute. */
    double average(int i) {
        return averages[i];
    }
}
