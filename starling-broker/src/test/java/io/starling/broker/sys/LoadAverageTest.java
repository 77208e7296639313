package io.starling.broker.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.starling.broker.time.ManualClock;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LoadAverageTest {

    private final ManualClock clock = new ManualClock(1_700_000_000_000L);

    @Test
    void nothingCountedIsNoLoad() {
        LoadAverage load = new LoadAverage(0, clock.nanos());
        for (int i = 0; i < 10; i++) {
            clock.advance(10, TimeUnit.SECONDS);
            load.update(0, clock.nanos());
        }
        for (int i = 0; i < 3; i++) {
            assertThat(load.average(i)).isZero();
        }
    }

    @Test
    void oneIntervalMovesEachAverageByItsShareOfTheRate() {
        LoadAverage load = new LoadAverage(100, clock.nanos());
        clock.advance(10, TimeUnit.SECONDS);
        load.update(110, clock.nanos()); // 10 in 10 s = 60 per minute
        assertThat(load.average(0)).isCloseTo(60 * (1 - Math.exp(-10.0 / 60)), within(1e-9));
        assertThat(load.average(1)).isCloseTo(60 * (1 - Math.exp(-10.0 / 300)), within(1e-9));
        assertThat(load.average(2)).isCloseTo(60 * (1 - Math.exp(-10.0 / 900)), within(1e-9));
        assertThat(load.average(0)).isGreaterThan(load.average(1));
        assertThat(load.average(1)).isGreaterThan(load.average(2));
    }

    @Test
    void aSteadyRateIsReachedByTheShortWindowFirstThenByAll() {
        LoadAverage load = new LoadAverage(0, clock.nanos());
        long count = 0;
        for (int i = 0; i < 30; i++) { // 5 minutes at 120 per minute
            clock.advance(10, TimeUnit.SECONDS);
            count += 20;
            load.update(count, clock.nanos());
        }
        assertThat(load.average(0)).isCloseTo(120, within(1.0));
        assertThat(load.average(1)).isCloseTo(120 * (1 - Math.exp(-1)), within(0.5));
        assertThat(load.average(2)).isLessThan(load.average(1));
        for (int i = 0; i < 540; i++) { // 90 minutes more
            clock.advance(10, TimeUnit.SECONDS);
            count += 20;
            load.update(count, clock.nanos());
        }
        for (int i = 0; i < 3; i++) {
            assertThat(load.average(i)).isCloseTo(120, within(0.5)); // the 15-minute one: e^(-95/15) of the way left
        }
    }

    @Test
    void theAveragesFallBackWhenTheCounterStops() {
        LoadAverage load = new LoadAverage(0, clock.nanos());
        clock.advance(60, TimeUnit.SECONDS);
        load.update(600, clock.nanos());
        double oneMinute = load.average(0);
        clock.advance(60, TimeUnit.SECONDS);
        load.update(600, clock.nanos());
        assertThat(load.average(0)).isCloseTo(oneMinute * Math.exp(-1), within(1e-9));
    }

    @Test
    void noTimePassedChangesNothing() {
        LoadAverage load = new LoadAverage(0, clock.nanos());
        load.update(1000, clock.nanos());
        assertThat(load.average(0)).isZero();
        clock.advance(60, TimeUnit.SECONDS);
        load.update(1000, clock.nanos()); // the growth still counts, over the time that passed
        assertThat(load.average(0)).isCloseTo(1000 * (1 - Math.exp(-1)), within(1e-9));
    }
}
