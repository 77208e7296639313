package io.starling.broker.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.broker.config.BrokerConfig;
import io.starling.broker.time.ManualClock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Flapping detection on a clock moved by hand: the window and the ban, a millisecond before and after each end. */
class FlapDetectorTest {

    private final ManualClock clock = new ManualClock(1_000_000);
    private final FlapDetector detector = new FlapDetector(
            new BrokerConfig.Flapping(3, Duration.ofSeconds(10), Duration.ofSeconds(60)), clock);

    private void connectAllowed(int times) {
        for (int i = 0; i < times; i++) {
            assertThat(detector.connect("c")).isZero();
        }
    }

    @Test
    void moreConnectsThanTheMaximumWithinTheWindowAreBanned() {
        connectAllowed(3);
        clock.advance(9_999, TimeUnit.MILLISECONDS);
        assertThat(detector.connect("c")).as("still within the window").isEqualTo(TimeUnit.SECONDS.toNanos(60));
    }

    @Test
    void theCountStartsAgainAfterTheWindow() {
        connectAllowed(3);
        clock.advance(10_001, TimeUnit.MILLISECONDS);
        connectAllowed(3);
    }

    @Test
    void theBanEndsAfterItsDurationAndNotBefore() {
        connectAllowed(3);
        assertThat(detector.connect("c")).isPositive();
        clock.advance(59_999, TimeUnit.MILLISECONDS);
        assertThat(detector.connect("c")).isEqualTo(TimeUnit.MILLISECONDS.toNanos(1));
        clock.advance(1, TimeUnit.MILLISECONDS);
        connectAllowed(3);
    }

    @Test
    void clientIdsAreCountedApart() {
        connectAllowed(3);
        assertThat(detector.connect("other")).isZero();
        assertThat(detector.tracked()).isEqualTo(2);
    }

    // an idle long-lived connection keeps no entry: once a window has passed, the next connect of anyone sweeps it
    @Test
    void idsThatDidNotConnectForAWindowAreForgotten() {
        connectAllowed(2);
        assertThat(detector.connect("other")).isZero();
        assertThat(detector.tracked()).isEqualTo(2);
        clock.advance(10_001, TimeUnit.MILLISECONDS);
        assertThat(detector.connect("third")).isZero();
        assertThat(detector.tracked()).as("only the id that just connected").isEqualTo(1);
    }

    @Test
    void aBannedIdIsKeptUntilItsBanEnds() {
        connectAllowed(3);
        assertThat(detector.connect("c")).isPositive();
        clock.advance(30_000, TimeUnit.MILLISECONDS);
        assertThat(detector.connect("other")).isZero();
        assertThat(detector.connect("c")).as("the sweep kept the ban").isEqualTo(TimeUnit.SECONDS.toNanos(30));
    }

    @Test
    void offDetectsNothing() {
        FlapDetector off = new FlapDetector(BrokerConfig.Flapping.OFF, clock);
        for (int i = 0; i < 1000; i++) {
            assertThat(off.connect("c")).isZero();
        }
    }

    @Test
    void bannedCountsTheBansInForceNow() {
        assertThat(detector.banned()).isZero();
        connectAllowed(3);
        assertThat(detector.banned()).isZero();
        assertThat(detector.connect("c")).isPositive();
        for (int i = 0; i < 4; i++) {
            detector.connect("d");
        }
        assertThat(detector.banned()).isEqualTo(2);
        clock.advance(60, TimeUnit.SECONDS);
        assertThat(detector.banned()).as("both bans have ended").isZero();
    }
}
