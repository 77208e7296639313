package io.starling.broker.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

class RateLimitedLogTest {

    private static final Duration TEN_S = Duration.ofSeconds(10);

    /** The clock: starts far from 0 so that the first event does not depend on a zero start. */
    private final AtomicLong now = new AtomicLong(123_456_789_000L);
    private final RecordingLogger logger = new RecordingLogger(Level.INFO);

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void firstEventIsLoggedWithItsDetail() {
        RateLimitedLog log = new RateLimitedLog(logger, Level.WARN, TEN_S, now::get);

        assertThat(log.log("Client '{}' may not publish to '{}'", "c1", "a/b")).isTrue();

        assertThat(logger.lines).containsExactly(
                "WARN Client 'c1' may not publish to 'a/b' (at most one such line every 10 s)");
    }

    @Test
    void eventsWithinTheIntervalAreCountedAndReportedWithTheNextLine() {
        RateLimitedLog log = new RateLimitedLog(logger, Level.INFO, TEN_S, now::get);
        log.log("dropped {}", 1);
        for (int i = 2; i <= 4; i++) {
            advance(Duration.ofSeconds(3));
            assertThat(log.log("dropped {}", i)).isFalse();
        }
        assertThat(log.suppressed()).isEqualTo(3);
        assertThat(logger.lines).hasSize(1);

        advance(Duration.ofSeconds(1)); // 10 s after the first line
        assertThat(log.log("dropped {}", 5)).isTrue();

        assertThat(logger.lines).containsExactly(
                "INFO dropped 1 (at most one such line every 10 s)",
                "INFO dropped 5 (and 3 more since the last line; at most one such line every 10 s)");
        assertThat(log.suppressed()).isZero();
        assertThat(log.total()).isEqualTo(5);
    }

    @Test
    void intervalCountsFromTheLastLineNotFromTheLastEvent() {
        RateLimitedLog log = new RateLimitedLog(logger, Level.INFO, TEN_S, now::get);
        log.log("e");
        advance(Duration.ofSeconds(9));
        log.log("e");
        advance(Duration.ofSeconds(9)); // 18 s after the first line, 9 s after the suppressed event
        assertThat(log.log("e")).isTrue();
        advance(Duration.ofMillis(9_999));
        assertThat(log.log("e")).isFalse();
        advance(Duration.ofMillis(1));
        assertThat(log.log("e")).isTrue();

        assertThat(logger.lines).containsExactly(
                "INFO e (at most one such line every 10 s)",
                "INFO e (and 1 more since the last line; at most one such line every 10 s)",
                "INFO e (and 1 more since the last line; at most one such line every 10 s)");
    }

    @Test
    void aClockStartingAtZeroStillLogsTheFirstEvent() {
        now.set(0);
        RateLimitedLog log = new RateLimitedLog(logger, Level.INFO, TEN_S, now::get);

        assertThat(log.log("e")).isTrue();
        assertThat(log.log("e")).isFalse();
    }

    @Test
    void kindsAreCountedSeparatelyInTheOrderFirstSeen() {
        RateLimitedLog log = new RateLimitedLog(logger, Level.WARN, TEN_S, now::get);
        log.logKind("over max-connections", "refused {}", "/10.0.0.1:1");
        log.logKind("over connection-rate", "refused {}", "/10.0.0.2:1");
        log.logKind("over max-connections", "refused {}", "/10.0.0.3:1");
        log.logKind("over max-connections", "refused {}", "/10.0.0.4:1");
        advance(TEN_S);
        log.logKind("over connection-rate", "refused {}", "/10.0.0.5:1");

        assertThat(logger.lines).containsExactly(
                "WARN refused /10.0.0.1:1 (since the last line: 1 over max-connections; at most one such line every 10 s)",
                "WARN refused /10.0.0.5:1 (since the last line: 2 over connection-rate, 2 over max-connections;"
                        + " at most one such line every 10 s)");
    }

    @Test
    void aThrowableLastArgumentStaysTheCause() {
        RateLimitedLog log = new RateLimitedLog(logger, Level.WARN, TEN_S, now::get);
        IOException boom = new IOException("boom");

        log.log("write to {} failed", "x", boom);

        assertThat(logger.lines).containsExactly("WARN write to x failed (at most one such line every 10 s)");
        assertThat(logger.causes).containsExactly(boom);
    }

    @Test
    void aDisabledLevelWritesNothingButStillCounts() {
        RateLimitedLog log = new RateLimitedLog(logger, Level.DEBUG, TEN_S, now::get);
        log.log("e");
        log.log("e");

        assertThat(logger.lines).isEmpty();
        assertThat(log.total()).isEqualTo(2);
        assertThat(log.suppressed()).isEqualTo(1);
    }

    @Test
    void intervalIsWrittenInMillisecondsWhenNotWholeSeconds() {
        RateLimitedLog log = new RateLimitedLog(logger, Level.INFO, Duration.ofMillis(1500), now::get);
        log.log("e");

        assertThat(logger.lines).containsExactly("INFO e (at most one such line every 1500 ms)");
    }

    @Test
    void intervalMustBePositive() {
        assertThatThrownBy(() -> new RateLimitedLog(logger, Level.INFO, Duration.ZERO, now::get))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RateLimitedLog(logger, Level.INFO, Duration.ofSeconds(-1), now::get))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void concurrentEventsAreEachEitherLoggedOrCounted() throws InterruptedException {
        RateLimitedLog log = new RateLimitedLog(logger, Level.INFO, TEN_S, now::get);
        int threads = 4;
        int perThread = 10_000;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> started = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    if (i % 1000 == 0) {
                        advance(Duration.ofSeconds(1));
                    }
                    log.log("e");
                }
            });
            th.start();
            started.add(th);
        }
        start.countDown();
        for (Thread th : started) {
            th.join();
        }

        long reported = 0;
        for (String line : logger.lines) {
            reported++;
            int at = line.indexOf("(and ");
            if (at >= 0) {
                reported += Long.parseLong(line.substring(at + 5, line.indexOf(' ', at + 5)));
            }
        }
        assertThat(reported + log.suppressed()).isEqualTo((long) threads * perThread);
        assertThat(log.total()).isEqualTo((long) threads * perThread);
    }

    /** A logger that keeps its lines ("LEVEL message") and causes. */
    private static final class RecordingLogger extends LegacyAbstractLogger {
        private static final long serialVersionUID = 1L;
        private final transient Level threshold;
        final transient List<String> lines = new ArrayList<>();
        final transient List<Throwable> causes = new ArrayList<>();

        RecordingLogger(Level threshold) {
            this.threshold = threshold;
            this.name = "test";
        }

        private boolean enabled(Level level) {
            return level.toInt() >= threshold.toInt();
        }

        @Override
        public boolean isTraceEnabled() {
            return enabled(Level.TRACE);
        }

        @Override
        public boolean isDebugEnabled() {
            return enabled(Level.DEBUG);
        }

        @Override
        public boolean isInfoEnabled() {
            return enabled(Level.INFO);
        }

        @Override
        public boolean isWarnEnabled() {
            return enabled(Level.WARN);
        }

        @Override
        public boolean isErrorEnabled() {
            return enabled(Level.ERROR);
        }

        @Override
        protected String getFullyQualifiedCallerName() {
            return null;
        }

        @Override
        protected synchronized void handleNormalizedLoggingCall(Level level, Marker marker, String messagePattern,
                Object[] arguments, Throwable throwable) {
            lines.add(level + " " + MessageFormatter.basicArrayFormat(messagePattern, arguments));
            if (throwable != null) {
                causes.add(throwable);
            }
        }
    }
}
