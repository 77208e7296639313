package io.starling.store.rocksdb;

import io.starling.broker.config.BrokerConfig.Fsync;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultEventExecutor;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.EventExecutor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class RocksDbStoreTest {

    @TempDir
    Path dir;

    private static byte[] key(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Eight event loops each queue rounds of writes back to back, each round followed by a whenDurable action,
     * without waiting for one another. Every action runs exactly once, on its own loop, in round order, after
     * its round's writes are readable; after a reopen every write is there.
     */
    @ParameterizedTest
    @EnumSource(Fsync.class)
    void groupCommitRunsEveryActionOnceAfterItsWrites(Fsync mode) throws Exception {
        int loops = 8;
        int rounds = 300;
        int writesPerRound = 3;
        DefaultEventExecutorGroup group = new DefaultEventExecutorGroup(loops);
        Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
        List<String> problems = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(loops * rounds);
        long commits;
        long writes;
        try (RocksDbStore store = RocksDbStore.open(RocksDbConfig.defaults(dir).withFsync(mode))) {
            List<EventExecutor> executors = new ArrayList<>();
            group.forEach(executors::add);
            for (int l = 0; l < loops; l++) {
                EventExecutor loop = executors.get(l);
                int[] lastRound = {-1};
                for (int r = 0; r < rounds; r++) {
                    String id = "l" + l + "-r" + r;
                    int round = r;
                    loop.execute(() -> {
                        for (int w = 0; w < writesPerRound; w++) {
                            store.put(KeySpace.MESSAGES, key(id + "-w" + w), key(id));
                        }
                        store.whenDurable(() -> {
                            if (!loop.inEventLoop()) {
                                problems.add(id + " ran off its loop");
                            }
                            if (round != lastRound[0] + 1) {
                                problems.add(id + " ran after round " + lastRound[0]);
                            }
                            lastRound[0] = round;
                            for (int w = 0; w < writesPerRound; w++) {
                                if (store.get(KeySpace.MESSAGES, key(id + "-w" + w)) == null) {
                                    problems.add(id + " ran before its write " + w + " was committed");
                                }
                            }
                            runs.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
                            done.countDown();
                        });
                    });
                }
            }
            assertThat(done.await(60, TimeUnit.SECONDS)).as("all actions ran").isTrue();
            long expected = (long) loops * rounds * writesPerRound;
            await().atMost(Duration.ofSeconds(10)).until(() -> store.committedWrites() == expected);
            commits = store.commitCount();
            writes = store.committedWrites();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        assertThat(problems).isEmpty();
        assertThat(runs).hasSize(loops * rounds);
        assertThat(runs.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
        assertThat(writes).isEqualTo((long) loops * rounds * writesPerRound);
        assertThat(commits).as("writes were grouped into fewer commits").isLessThan(writes);
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            int[] count = {0};
            store.forEach(KeySpace.MESSAGES, (k, v) -> count[0]++);
            assertThat(count[0]).isEqualTo(loops * rounds * writesPerRound);
        }
    }

    @Test
    void nothingPendingRunsInlineAndLaterActionsWaitForEarlierOnes() throws Exception {
        DefaultEventExecutor loop = new DefaultEventExecutor();
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            // hold the committer: the action of a thread without an event loop that has writes pending runs on the
            // committer thread (if its writes were committed before it asked, it runs inline: try again)
            CountDownLatch committerHeld = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread holder = new Thread(() -> {
                for (int attempt = 0; attempt < 1000 && committerHeld.getCount() > 0; attempt++) {
                    for (int i = 0; i < 100; i++) {
                        store.put(KeySpace.SESSIONS, key("hold-" + i), key("v"));
                    }
                    store.whenDurable(() -> {
                        if (Thread.currentThread().getName().equals("starling-store-committer")) {
                            committerHeld.countDown();
                            awaitQuietly(release);
                        }
                    });
                }
            }, "holder");
            holder.start();
            assertThat(committerHeld.await(10, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<List<String>> result = new CompletableFuture<>();
            loop.execute(() -> {
                List<String> order = new ArrayList<>();
                store.whenDurable(() -> order.add("inline"));
                order.add("after inline call");
                store.put(KeySpace.SESSIONS, key("s"), key("v"));
                store.whenDurable(() -> order.add("first"));
                release.countDown();
                // wait in this task until "first" has been committed and posted to this (busy) loop
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (store.get(KeySpace.SESSIONS, key("s")) == null && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                sleepQuietly(100);
                // nothing is pending any more, but "first" has not run yet: this one must run after it
                store.whenDurable(() -> order.add("second"));
                order.add("end of task");
                loop.schedule(() -> result.complete(order), 200, TimeUnit.MILLISECONDS);
            });
            assertThat(result.get(20, TimeUnit.SECONDS))
                    .containsExactly("inline", "after inline call", "end of task", "first", "second");
            CompletableFuture<Boolean> later = new CompletableFuture<>();
            loop.execute(() -> {
                boolean[] ran = {false};
                store.whenDurable(() -> ran[0] = true);
                later.complete(ran[0]);
            });
            assertThat(later.get(10, TimeUnit.SECONDS)).as("inline again once everything has run").isTrue();
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void explicitLoopAndPlainThreadsWork() throws Exception {
        DefaultEventExecutor loop = new DefaultEventExecutor();
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            // a thread that is not an event loop, with the loop given explicitly
            CompletableFuture<Boolean> onLoop = new CompletableFuture<>();
            store.put(KeySpace.SESSIONS, key("a"), key("1"));
            store.whenDurable(loop, () -> onLoop.complete(loop.inEventLoop() && store.get(KeySpace.SESSIONS, key("a")) != null));
            assertThat(onLoop.get(10, TimeUnit.SECONDS)).isTrue();
            // without a loop: the action still runs once the write is committed
            CompletableFuture<Boolean> anywhere = new CompletableFuture<>();
            store.put(KeySpace.SESSIONS, key("b"), key("2"));
            store.whenDurable(() -> anywhere.complete(store.get(KeySpace.SESSIONS, key("b")) != null));
            assertThat(anywhere.get(10, TimeUnit.SECONDS)).isTrue();
            // delete and single delete are committed too
            CompletableFuture<Boolean> deleted = new CompletableFuture<>();
            store.delete(KeySpace.SESSIONS, key("a"));
            store.singleDelete(KeySpace.SESSIONS, key("b"));
            store.whenDurable(loop, () -> deleted.complete(store.get(KeySpace.SESSIONS, key("a")) == null
                    && store.get(KeySpace.SESSIONS, key("b")) == null));
            assertThat(deleted.get(10, TimeUnit.SECONDS)).isTrue();
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** The broker's event loops are IO event loops (NIO/epoll): the plain whenDurable finds them too. */
    @Test
    void findsTheLoopOfAnIoEventLoopGroup() throws Exception {
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            EventLoop loop = group.next();
            CompletableFuture<String> result = new CompletableFuture<>();
            loop.execute(() -> {
                store.put(KeySpace.SESSIONS, key("io"), key("v"));
                for (int i = 0; i < 1000; i++) {
                    store.put(KeySpace.MESSAGES, key("io-" + i), key("v"));
                }
                store.whenDurable(() -> result.complete(loop.inEventLoop() ? "on loop" : Thread.currentThread().getName()));
            });
            assertThat(result.get(10, TimeUnit.SECONDS)).isEqualTo("on loop");
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void closeCommitsWhatIsQueuedAndDropsLaterWrites() {
        RocksDbStore store = RocksDbStore.open(RocksDbConfig.defaults(dir).withFsync(Fsync.OS));
        for (int i = 0; i < 1000; i++) {
            store.put(KeySpace.QUEUES, key("q" + i), key("v"));
        }
        store.close();
        store.close();
        store.put(KeySpace.QUEUES, key("after-close"), key("v"));
        try (RocksDbStore reopened = RocksDbStore.open(dir)) {
            int[] count = {0};
            reopened.forEach(KeySpace.QUEUES, (k, v) -> count[0]++);
            assertThat(count[0]).isEqualTo(1000);
            assertThat(reopened.status().writable()).isTrue();
        }
    }

    /**
     * A backlog the committer cannot finish quickly (here 30,000 tasks of 1 ms each, half a minute of work, more than
     * one full batch) does not hold a shutdown: close() commits for at most its deadline, then drops the rest (none of it was
     * acknowledged) and returns; what it did commit is there after a reopen.
     */
    @Test
    void closeGivesUpOnABacklogAfterItsDeadline() throws Exception {
        RocksDbStore store = RocksDbStore.open(RocksDbConfig.defaults(dir).withFsync(Fsync.OS));
        AtomicInteger ran = new AtomicInteger();
        int tasks = 30_000;
        for (int i = 0; i < tasks; i++) {
            byte[] k = key("slow" + i);
            store.committer().task(batch -> {
                batch.put(store.handle(KeySpace.QUEUES), k, k);
                ran.incrementAndGet();
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
            });
        }
        CompletableFuture<Void> closed = CompletableFuture.runAsync(store::close);
        closed.get(10, TimeUnit.SECONDS); // shutdown within 10 s: bounded by the close deadline, not by the backlog
        assertThat(ran.get()).as("the backlog was not worked off").isLessThan(tasks);
        try (RocksDbStore reopened = RocksDbStore.open(dir)) {
            int[] count = {0};
            reopened.forEach(KeySpace.QUEUES, (k, v) -> count[0]++);
            assertThat(count[0]).as("what was committed before the deadline").isPositive().isLessThanOrEqualTo(ran.get());
        }
    }

    @Test
    void fsyncModeParsesConfigValues() {
        assertThat(Fsync.parse("always")).isEqualTo(Fsync.ALWAYS);
        assertThat(Fsync.parse(" OS ")).isEqualTo(Fsync.OS);
        assertThat(Fsync.OS.configValue()).isEqualTo("os");
    }

    /** The figures of {@code stats()}: commits and their bytes as counted, each batch reported, the files' size. */
    @Test
    void statsCountTheCommitsAndTheirBytesAndReportEachBatch() throws Exception {
        DefaultEventExecutor loop = new DefaultEventExecutor();
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            io.starling.broker.store.StoreStats stats = store.stats();
            List<long[]> reported = new CopyOnWriteArrayList<>();
            stats.observeCommits((nanos, operations, bytes) -> reported.add(new long[] {nanos, operations, bytes}));
            long commitsBefore = stats.commits();
            long bytesBefore = stats.bytesWritten();
            CountDownLatch durable = new CountDownLatch(1);
            loop.execute(() -> {
                for (int i = 0; i < 10; i++) {
                    store.put(KeySpace.MESSAGES, key("stats-" + i), new byte[1000]);
                }
                store.whenDurable(durable::countDown);
            });
            assertThat(durable.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(stats.commits()).isGreaterThan(commitsBefore);
            assertThat(stats.bytesWritten() - bytesBefore).as("the 10 KB of values, keys and batch headers")
                    .isGreaterThan(10_000);
            assertThat(reported).isNotEmpty();
            assertThat(reported.stream().mapToLong(r -> r[1]).sum()).as("operations reported").isGreaterThanOrEqualTo(10);
            // reported before the batch's actions run: the batch with the 10 puts is in
            assertThat(reported.stream().mapToLong(r -> r[2]).sum()).isGreaterThan(10_000);
            assertThat(reported).allSatisfy(r -> assertThat(r[0]).isPositive());
            assertThat(stats.diskUsedBytes()).as("the write-ahead log holds them at least").isGreaterThan(10_000);
            assertThat(stats.queuedBytes()).isZero();
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
