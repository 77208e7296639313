package io.starling.broker.session;

import io.netty.util.concurrent.EventExecutor;
import io.starling.broker.time.Clock;
import java.util.concurrent.TimeUnit;

/**
 * The two deadlines of a session without a connection: its delayed Will (5.0 Will Delay Interval) and its end (Session
 * Expiry Interval). Each is scheduled on the session's owner with the broker's {@link Clock}, and cancelled when a
 * connection resumes the session first. Confined to the session's owner loop.
 */
final class SessionTimers {

    private final Clock clock;
    private Clock.Timer willTimer;
    private Runnable pendingWill;
    private Clock.Timer expiryTimer;

    SessionTimers(Clock clock) {
        this.clock = clock;
    }

    /** Publishes the Will after {@code delaySeconds} ({@code publish}) unless cancelled or fired first. */
    void scheduleWill(EventExecutor owner, Runnable publish, long delaySeconds) {
        cancelWill();
        pendingWill = publish;
        willTimer = clock.schedule(owner, this::fireWill, delaySeconds, TimeUnit.SECONDS);
    }

    /** A connection resumed the session before the Will Delay Interval passed: no Will [MQTT-3.1.3-9]. */
    void cancelWill() {
        if (willTimer != null) {
            willTimer.cancel();
            willTimer = null;
        }
        pendingWill = null;
    }

    /** Publishes the pending Will now, if there is one: its delay passed, or the session ends first (5.0 3.1.2.5). */
    void fireWill() {
        Runnable w = pendingWill;
        cancelWill();
        if (w != null) {
            w.run();
        }
    }

    boolean hasPendingWill() {
        return pendingWill != null;
    }

    /** Ends the session ({@code onExpiry}) after {@code delaySeconds} unless cancelled first. */
    void scheduleExpiry(EventExecutor owner, Runnable onExpiry, long delaySeconds) {
        cancelExpiry();
        expiryTimer = clock.schedule(owner, onExpiry, delaySeconds, TimeUnit.SECONDS);
    }

    void cancelExpiry() {
        if (expiryTimer != null) {
            expiryTimer.cancel();
            expiryTimer = null;
        }
    }
}
