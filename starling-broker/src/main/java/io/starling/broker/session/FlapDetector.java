package io.starling.broker.session;

import io.starling.broker.config.BrokerConfig;
import io.starling.broker.time.Clock;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Flapping detection ({@code flapping-*} keys): counts the connects of each client id in a fixed window; one that
 * connects more than the maximum within it is refused until its ban ends. This is a safety net against two clients
 * fighting over one client id or a client stuck in a reconnect loop; what keeps such churn from hurting others is
 * that a take-over is cheap, not this.
 *
 * <p>Memory: one small entry per client id that connected within about the last two windows: entries whose window
 * has passed (and whose ban, if any, has ended) are swept once a window, on a connect, so a long-lived connection
 * does not keep one. Beyond {@link #MAX_TRACKED} ids they are swept at once, and if that is not enough new ids are
 * not tracked (detection fails open).
 *
 * <p>Thread-safety: any thread; one map operation per CONNECT.
 */
public final class FlapDetector {

    private static final Logger LOG = LoggerFactory.getLogger(FlapDetector.class);
    static final int MAX_TRACKED = 100_000;

    private final Clock clock;
    private final int maxConnects;
    private final long windowNanos;
    private final long banNanos;
    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
    private final AtomicLong lastSweep = new AtomicLong();

    private static final class Entry {
        long windowStart;
        int count;
        /** Written under the map's lock (in compute), read without it by {@link #banned()}. */
        volatile long bannedUntil;
    }

    public FlapDetector(BrokerConfig.Flapping config, Clock clock) {
        this.clock = clock;
        this.maxConnects = config.maxConnects();
        this.windowNanos = config.window().toNanos();
        this.banNanos = config.ban().toNanos();
        this.lastSweep.set(clock.nanos());
    }

    /**
     * Counts a connect of {@code clientId} now (the broker's clock); returns 0 when it may go on, otherwise the
     * nanoseconds left of its ban.
     */
    public long connect(String clientId) {
        if (maxConnects == 0) {
            return 0;
        }
        long nowNanos = clock.nanos();
        if (nowNanos - lastSweep.get() > windowNanos) {
            sweep(nowNanos); // once a window: ids that have not connected for a window hold no entry
        }
        if (entries.size() >= MAX_TRACKED && !entries.containsKey(clientId)) {
            sweep(nowNanos);
            if (entries.size() >= MAX_TRACKED) {
                return 0;
            }
        }
        long[] banned = {0};
        entries.compute(clientId, (id, e) -> {
            if (e == null) {
                e = new Entry();
                e.windowStart = nowNanos;
            }
            if (e.bannedUntil != 0) {
                if (nowNanos - e.bannedUntil < 0) {
                    banned[0] = e.bannedUntil - nowNanos;
                    return e;
                }
                e.bannedUntil = 0;
                e.windowStart = nowNanos;
                e.count = 0;
            }
            if (nowNanos - e.windowStart > windowNanos) {
                e.windowStart = nowNanos;
                e.count = 0;
            }
            if (++e.count > maxConnects) {
                e.bannedUntil = nowNanos + banNanos;
                banned[0] = banNanos;
                LOG.warn("Client id '{}' connected more than {} times within {} s: its connections are refused for {} s",
                        id, maxConnects, windowNanos / 1_000_000_000L, banNanos / 1_000_000_000L);
            }
            return e;
        });
        return banned[0];
    }

    /** Client ids whose connections are refused now; walks the tracked ids (at most {@link #MAX_TRACKED}). */
    public int banned() {
        long nowNanos = clock.nanos();
        int n = 0;
        for (Entry e : entries.values()) {
            long until = e.bannedUntil;
            if (until != 0 && nowNanos - until < 0) {
                n++;
            }
        }
        return n;
    }

    /** Client ids tracked now. */
    public int tracked() {
        return entries.size();
    }

    private void sweep(long nowNanos) {
        long last = lastSweep.get();
        if (nowNanos - last < windowNanos / 10 || !lastSweep.compareAndSet(last, nowNanos)) {
            return;
        }
        entries.values().removeIf(e -> e.bannedUntil == 0 ? nowNanos - e.windowStart > windowNanos
                : nowNanos - e.bannedUntil >= 0);
    }
}
