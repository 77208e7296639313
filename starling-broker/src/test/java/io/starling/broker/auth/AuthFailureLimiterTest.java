package io.starling.broker.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AuthFailureLimiterTest {

    private final AtomicLong now = new AtomicLong(1_000);
    private final AuthFailureLimiter limiter = new AuthFailureLimiter(3, Duration.ofSeconds(60), Duration.ofSeconds(30),
            now::get);
    private final InetAddress a = InetAddress.getLoopbackAddress();
    private final InetAddress b = address("10.0.0.2");

    private static InetAddress address(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void blocksAfterTheLimitWithinTheWindowPerAddress() {
        assertThat(limiter.recordFailure(a)).isFalse();
        assertThat(limiter.recordFailure(a)).isFalse();
        assertThat(limiter.isBlocked(a)).isFalse();
        assertThat(limiter.recordFailure(a)).as("the third failure starts the block").isTrue();
        assertThat(limiter.isBlocked(a)).isTrue();
        assertThat(limiter.isBlocked(b)).as("other addresses are not affected").isFalse();
        advance(Duration.ofSeconds(29));
        assertThat(limiter.isBlocked(a)).isTrue();
        advance(Duration.ofSeconds(2));
        assertThat(limiter.isBlocked(a)).as("the block ends").isFalse();
        assertThat(limiter.recordFailure(a)).as("counting starts afresh after a block").isFalse();
        assertThat(limiter.isBlocked(a)).isFalse();
    }

    @Test
    void failuresOutsideTheWindowDoNotAddUp() {
        limiter.recordFailure(a);
        limiter.recordFailure(a);
        advance(Duration.ofSeconds(61));
        assertThat(limiter.recordFailure(a)).isFalse();
        assertThat(limiter.isBlocked(a)).isFalse();
        limiter.recordFailure(a);
        assertThat(limiter.recordFailure(a)).isTrue();
        assertThat(limiter.isBlocked(a)).isTrue();
    }

    @Test
    void staleEntriesAreRemovedWhenTheMapGrows() throws Exception {
        for (int i = 0; i <= AuthFailureLimiter.CLEANUP_THRESHOLD; i++) {
            limiter.recordFailure(InetAddress.getByAddress(new byte[] {10, (byte) (i >> 16), (byte) (i >> 8), (byte) i}));
        }
        assertThat(limiter.tracked()).isEqualTo(AuthFailureLimiter.CLEANUP_THRESHOLD + 1);
        advance(Duration.ofSeconds(61));
        limiter.recordFailure(a);
        assertThat(limiter.tracked()).isEqualTo(1);
    }

    @Test
    void disabledNeverBlocks() {
        AuthFailureLimiter off = AuthFailureLimiter.disabled();
        for (int i = 0; i < 100; i++) {
            assertThat(off.recordFailure(a)).isFalse();
        }
        assertThat(off.isBlocked(a)).isFalse();
        assertThat(off.enabled()).isFalse();
    }
}
