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
            assertThat(off.tryBegin(a)).isEqualTo(AuthFailureLimiter.Admission.ALLOWED);
        }
        assertThat(off.isBlocked(a)).isFalse();
        assertThat(off.enabled()).isFalse();
    }

    // Checks in progress count: with a limit of 3, three concurrent checks are allowed and the fourth is refused
    // before it starts; when the three fail the address is blocked; a check that succeeds gives its place back.
    @Test
    void checksInProgressCountAgainstTheLimit() {
        for (int i = 0; i < 3; i++) {
            assertThat(limiter.tryBegin(a)).isEqualTo(AuthFailureLimiter.Admission.ALLOWED);
        }
        assertThat(limiter.tryBegin(a)).as("three in progress").isEqualTo(AuthFailureLimiter.Admission.BUSY);
        assertThat(limiter.tryBegin(b)).as("another address").isEqualTo(AuthFailureLimiter.Admission.ALLOWED);
        assertThat(limiter.isBlocked(a)).isFalse();
        assertThat(limiter.end(a, false)).as("a success").isFalse();
        assertThat(limiter.tryBegin(a)).as("its place is free again").isEqualTo(AuthFailureLimiter.Admission.ALLOWED);
        assertThat(limiter.end(a, true)).isFalse();
        assertThat(limiter.end(a, true)).isFalse();
        assertThat(limiter.tryBegin(a)).as("2 failures + 1 in progress").isEqualTo(AuthFailureLimiter.Admission.BUSY);
        assertThat(limiter.end(a, true)).as("the third failure starts the block").isTrue();
        assertThat(limiter.inFlight(a)).isZero();
        assertThat(limiter.isBlocked(a)).isTrue();
        assertThat(limiter.tryBegin(a)).isEqualTo(AuthFailureLimiter.Admission.BLOCKED);
        advance(Duration.ofSeconds(31));
        assertThat(limiter.tryBegin(a)).as("after the block").isEqualTo(AuthFailureLimiter.Admission.ALLOWED);
    }

    // Many threads beginning checks at once for one address: never more in progress than the limit.
    @Test
    void concurrentAttemptsNeverExceedTheLimit() throws Exception {
        AuthFailureLimiter l = new AuthFailureLimiter(10, Duration.ofSeconds(60), Duration.ofSeconds(60));
        java.util.concurrent.atomic.AtomicInteger allowed = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        java.util.List<Thread> threads = new java.util.ArrayList<>();
        for (int i = 0; i < 100; i++) {
            Thread t = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                if (l.tryBegin(a) == AuthFailureLimiter.Admission.ALLOWED) {
                    allowed.incrementAndGet();
                }
            });
            t.start();
            threads.add(t);
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertThat(allowed.get()).isEqualTo(10);
        assertThat(l.inFlight(a)).isEqualTo(10);
    }

    @Test
    void entriesWithChecksInProgressAreNotCleanedUp() throws Exception {
        assertThat(limiter.tryBegin(a)).isEqualTo(AuthFailureLimiter.Admission.ALLOWED);
        for (int i = 0; i <= AuthFailureLimiter.CLEANUP_THRESHOLD; i++) {
            limiter.recordFailure(InetAddress.getByAddress(new byte[] {10, (byte) (i >> 16), (byte) (i >> 8), (byte) i}));
        }
        advance(Duration.ofSeconds(61));
        limiter.recordFailure(b);
        assertThat(limiter.tracked()).isEqualTo(2);
        assertThat(limiter.inFlight(a)).isEqualTo(1);
    }

    @Test
    void blockedAddressesCountsTheBlocksInForceNow() {
        assertThat(limiter.blockedAddresses()).isZero();
        for (int i = 0; i < 3; i++) {
            limiter.recordFailure(a);
        }
        limiter.recordFailure(b);
        assertThat(limiter.blockedAddresses()).as("a is blocked, b has one failure").isEqualTo(1);
        for (int i = 0; i < 2; i++) {
            limiter.recordFailure(b);
        }
        assertThat(limiter.blockedAddresses()).isEqualTo(2);
        advance(Duration.ofSeconds(31));
        assertThat(limiter.blockedAddresses()).as("the blocks have ended").isZero();
    }
}
