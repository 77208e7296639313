package io.starling.broker.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.concurrent.ImmediateEventExecutor;
import io.starling.broker.time.ManualClock;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The Will delay and the session expiry, on a clock moved by hand: a millisecond before and after each deadline. */
class SessionTimersTest {

    private final ManualClock clock = new ManualClock(1_000_000);
    private final SessionTimers timers = new SessionTimers(clock);
    private final AtomicInteger wills = new AtomicInteger();
    private final AtomicInteger expiries = new AtomicInteger();

    @Test
    void theWillIsPublishedWhenItsDelayHasPassedAndNotBefore() {
        timers.scheduleWill(ImmediateEventExecutor.INSTANCE, wills::incrementAndGet, 5);
        clock.advance(4_999, TimeUnit.MILLISECONDS);
        assertThat(wills).hasValue(0);
        assertThat(timers.hasPendingWill()).isTrue();
        clock.advance(2, TimeUnit.MILLISECONDS);
        assertThat(wills).hasValue(1);
        assertThat(timers.hasPendingWill()).isFalse();
    }

    @Test
    void aResumedSessionPublishesNoWill() {
        timers.scheduleWill(ImmediateEventExecutor.INSTANCE, wills::incrementAndGet, 5);
        timers.cancelWill(); // [MQTT-3.1.3-9] a connection resumed the session within the delay
        clock.advance(1, TimeUnit.HOURS);
        assertThat(wills).hasValue(0);
        assertThat(clock.pendingTimers()).isZero();
    }

    @Test
    void aSessionThatEndsFirstPublishesItsWillAtOnceAndOnce() {
        timers.scheduleWill(ImmediateEventExecutor.INSTANCE, wills::incrementAndGet, 60);
        timers.fireWill(); // 5.0 3.1.2.5: the session ends before the delay passed
        assertThat(wills).hasValue(1);
        clock.advance(61, TimeUnit.SECONDS);
        assertThat(wills).hasValue(1);
        timers.fireWill();
        assertThat(wills).as("nothing pending any more").hasValue(1);
    }

    @Test
    void aNewWillReplacesThePendingOne() {
        timers.scheduleWill(ImmediateEventExecutor.INSTANCE, wills::incrementAndGet, 5);
        timers.scheduleWill(ImmediateEventExecutor.INSTANCE, () -> wills.addAndGet(10), 10);
        clock.advance(5_001, TimeUnit.MILLISECONDS);
        assertThat(wills).hasValue(0);
        clock.advance(5, TimeUnit.SECONDS);
        assertThat(wills).hasValue(10);
    }

    @Test
    void theSessionExpiresAtItsExpiryIntervalAndNotBefore() {
        timers.scheduleExpiry(ImmediateEventExecutor.INSTANCE, expiries::incrementAndGet, 120);
        clock.advance(119_999, TimeUnit.MILLISECONDS);
        assertThat(expiries).hasValue(0);
        clock.advance(2, TimeUnit.MILLISECONDS);
        assertThat(expiries).hasValue(1);
    }

    @Test
    void aConnectionCancelsTheExpiry() {
        timers.scheduleExpiry(ImmediateEventExecutor.INSTANCE, expiries::incrementAndGet, 120);
        clock.advance(60, TimeUnit.SECONDS);
        timers.cancelExpiry();
        clock.advance(1, TimeUnit.HOURS);
        assertThat(expiries).hasValue(0);
    }
}
