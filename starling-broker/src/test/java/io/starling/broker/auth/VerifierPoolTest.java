package io.starling.broker.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link VerifierPool}: keys are served in turn, and one key cannot take more than its share of the queue. */
class VerifierPoolTest {

    private final VerifierPool pool = new VerifierPool(1, 20, 8);
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void stop() {
        release.countDown();
        pool.shutdownNow();
    }

    /** Occupies the one thread until {@link #release} opens. */
    private void block() throws InterruptedException {
        CountDownLatch running = new CountDownLatch(1);
        pool.execute("blocker", () -> {
            running.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void keysAreServedInTurn() throws Exception {
        block();
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < 5; i++) {
            int n = i;
            pool.execute("burst", () -> order.add("burst-" + n));
        }
        pool.execute("other", () -> order.add("other"));
        pool.execute("third", () -> order.add("third"));
        release.countDown();
        pool.shutdown();
        assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        assertThat(order).as("the other keys wait for one task of the burst, not all of it")
                .containsExactly("burst-0", "other", "third", "burst-1", "burst-2", "burst-3", "burst-4");
    }

    @Test
    void oneKeyCannotFillTheQueue() throws Exception {
        block();
        for (int i = 0; i < 8; i++) {
            pool.execute("burst", () -> { });
        }
        assertThatThrownBy(() -> pool.execute("burst", () -> { })).isInstanceOf(RejectedExecutionException.class)
                .hasMessageContaining("one address");
        for (int i = 0; i < 8; i++) {
            pool.execute("key-" + i, () -> { });
        }
        assertThat(pool.queued()).isEqualTo(16);
        for (int i = 0; i < 4; i++) {
            pool.execute("more-" + i, () -> { });
        }
        assertThatThrownBy(() -> pool.execute("late", () -> { })).isInstanceOf(RejectedExecutionException.class)
                .hasMessageContaining("too many password checks queued");
    }

    @Test
    void aRemovedTaskGivesBackItsPlace() throws Exception {
        block();
        List<Runnable> tasks = new ArrayList<>();
        List<String> ran = Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < 8; i++) {
            int n = i;
            Runnable t = () -> ran.add("burst-" + n);
            tasks.add(t);
            pool.execute("burst", t);
        }
        assertThat(pool.remove("burst", tasks.get(3))).isTrue();
        assertThat(pool.remove("burst", tasks.get(3))).as("already removed").isFalse();
        assertThat(pool.remove("other", tasks.get(4))).as("under another key").isFalse();
        assertThat(pool.queued()).isEqualTo(7);
        pool.execute("burst", () -> ran.add("late"));
        release.countDown();
        pool.shutdown();
        assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        assertThat(ran).containsExactly("burst-0", "burst-1", "burst-2", "burst-4", "burst-5", "burst-6", "burst-7",
                "late");
    }

    @Test
    void aKeyWhoseLastTaskIsRemovedLeavesTheTurns() throws Exception {
        block();
        Runnable only = () -> { };
        pool.execute("gone", only);
        List<String> ran = Collections.synchronizedList(new ArrayList<>());
        pool.execute("stays", () -> ran.add("stays"));
        assertThat(pool.remove("gone", only)).isTrue();
        release.countDown();
        pool.shutdown();
        assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        assertThat(ran).containsExactly("stays");
        assertThat(pool.queued()).isZero();
    }

    @Test
    void shutdownNowDropsWhatWaits() throws Exception {
        block();
        pool.execute("a", () -> { });
        pool.execute(() -> { });
        assertThat(pool.shutdownNow()).hasSize(2);
        assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        assertThatThrownBy(() -> pool.execute(() -> { })).isInstanceOf(RejectedExecutionException.class);
    }
}
