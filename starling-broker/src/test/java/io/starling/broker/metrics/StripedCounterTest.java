package io.starling.broker.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class StripedCounterTest {

    @Test
    void addsUpWhatEveryThreadAddedIncludingThreadsThatShareASlot() throws Exception {
        StripedCounter c = new StripedCounter();
        int threads = 40; // more than the slots: some share one
        int each = 10_000;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = 0; i < each; i++) {
                    c.increment();
                    c.add(3);
                    c.decrement();
                }
            });
            th.start();
            ts.add(th);
        }
        start.countDown();
        for (Thread th : ts) {
            th.join();
        }
        assertThat(c.sum()).isEqualTo((long) threads * each * 3);
    }

    @Test
    void negativeAddsSubtract() {
        StripedCounter c = new StripedCounter();
        c.add(10);
        c.add(-4);
        assertThat(c.sum()).isEqualTo(6);
        assertThat(c).hasToString("6");
    }
}
