package io.starling.store.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.concurrent.DefaultEventExecutor;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.EventExecutor;
import io.starling.broker.message.Message;
import io.starling.codec.Properties;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RocksDbRetainedStoreTest {

    @TempDir
    Path dir;

    private final DefaultEventExecutor loop = new DefaultEventExecutor();

    @AfterEach
    void stopLoop() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static Message full(String topic, String payload) {
        Properties props = Properties.builder()
                .payloadFormatIndicator(1)
                .messageExpiryInterval(3600L)
                .contentType("text/plain; charset=utf-8")
                .responseTopic("reply/to/ü")
                .correlationData(new byte[] {0, 1, 2, (byte) 0xFF})
                .addUserProperty("k", "v")
                .addUserProperty("k", "v2")
                .addUserProperty("名前", "")
                .build();
        return new Message(topic, 2, true, payload.getBytes(StandardCharsets.UTF_8), props, "publisher-1",
                System.currentTimeMillis() + 3_600_000L);
    }

    private static Message plain(String topic, String payload) {
        return new Message(topic, 0, true, payload.getBytes(StandardCharsets.UTF_8), Properties.EMPTY, null, Message.NEVER);
    }

    private static Message clear(String topic) {
        return new Message(topic, 0, true, new byte[0], Properties.EMPTY, null, Message.NEVER);
    }

    /** Updates on the event loop and waits for whenDurable, as the broker does. */
    private void updateDurably(RocksDbStore store, Message... messages) {
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        loop.execute(() -> {
            for (Message m : messages) {
                store.retained().update(m);
            }
            store.whenDurable(() -> done.complete(loop.inEventLoop()));
        });
        assertThat(done.orTimeout(10, TimeUnit.SECONDS).join()).as("action ran on the calling loop").isTrue();
    }

    private static List<Message> all(RocksDbStore store) {
        return Retained.match(store.retained(), "#");
    }

    private static void assertSame(Message actual, Message expected) {
        assertThat(actual.topic()).isEqualTo(expected.topic());
        assertThat(actual.qos()).isEqualTo(expected.qos());
        assertThat(actual.retain()).isEqualTo(expected.retain());
        assertThat(actual.payload()).isEqualTo(expected.payload());
        assertThat(actual.properties()).isEqualTo(expected.properties());
        assertThat(actual.publisherId()).isEqualTo(expected.publisherId());
        assertThat(actual.expiresAtMillis()).isEqualTo(expected.expiresAtMillis());
    }

    @Test
    void roundTripsEveryFieldAcrossReopen() {
        Message full = full("a/full", "payload ✓");
        Message plain = plain("a/plain", "x");
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            updateDurably(store, full, plain);
            assertThat(store.retained().size()).isEqualTo(2);
        }
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            List<Message> got = all(store);
            assertThat(got).hasSize(2);
            assertSame(got.get(0), full);
            assertSame(got.get(1), plain);
        }
    }

    @Test
    void codecRoundTripsEveryField() {
        Message full = full("t", "p");
        assertSame(MessageCodec.decode(MessageCodec.encode(full)), full);
        Message plain = plain("t", "");
        assertSame(MessageCodec.decode(MessageCodec.encode(plain)), plain);
    }

    @Test
    void replaceAndDeleteByEmptyPayloadAreKeptAcrossReopen() {
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            updateDurably(store, plain("x/1", "one"), plain("x/2", "two"), plain("x/3", "three"));
            updateDurably(store, plain("x/1", "one again"), clear("x/2"), clear("x/never-set"));
            List<Message> now = all(store);
            assertThat(now).extracting(Message::topic).containsExactly("x/1", "x/3");
        }
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            List<Message> got = all(store);
            assertThat(got).extracting(Message::topic).containsExactly("x/1", "x/3");
            assertThat(new String(got.get(0).payload(), StandardCharsets.UTF_8)).isEqualTo("one again");
            assertThat(store.retained().size()).isEqualTo(2);
            assertThat(Retained.match(store.retained(), "x/3")).hasSize(1);
            assertThat(Retained.match(store.retained(), "x/2")).isEmpty();
        }
    }

    @Test
    void expiryIsKeptAcrossReopenAndExpiredMessagesAreDropped() {
        long now = System.currentTimeMillis();
        Message later = new Message("e/later", 1, true, new byte[] {1}, Properties.builder().messageExpiryInterval(60L).build(),
                "p", now + 60_000);
        // expired by the time the store opens again (and already now: an expired message is never returned)
        Message gone = new Message("e/gone", 1, true, new byte[] {2}, Properties.builder().messageExpiryInterval(1L).build(),
                "p", now - 1);
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            updateDurably(store, later, gone);
            assertThat(store.retained().size()).isEqualTo(2);
            assertThat(all(store)).extracting(Message::topic).containsExactly("e/later");
            assertThat(store.retained().size()).as("the walk removed the expired one").isEqualTo(1);
            updateDurably(store, gone); // stored again, not matched again before the reopen
        }
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            assertThat(store.retained().size()).isEqualTo(1);
            List<Message> got = all(store);
            assertThat(got).hasSize(1);
            assertSame(got.get(0), later);
            assertThat(got.get(0).expiresAtMillis()).isEqualTo(now + 60_000);
            // the expired record and its index entry were deleted from disk when the store opened
            assertThat(store.get(KeySpace.RETAINED, "e/gone".getBytes(StandardCharsets.UTF_8))).isNull();
            assertThat(store.get(KeySpace.RETAINED_INDEX, "e/gone".getBytes(StandardCharsets.UTF_8))).isNull();
        }
    }

    /** Concurrent updates of the same topics from several loops: the disk ends up with what the map shows. */
    @Test
    void concurrentUpdatesOfOneTopicReachTheDiskInMapOrder() throws Exception {
        int loops = 6;
        int updates = 2_000;
        DefaultEventExecutorGroup group = new DefaultEventExecutorGroup(loops);
        Map<String, String> before = new HashMap<>();
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            CountDownLatch done = new CountDownLatch(loops);
            int l = 0;
            for (EventExecutor executor : group) {
                int loopNo = l++;
                executor.execute(() -> {
                    for (int i = 0; i < updates; i++) {
                        String topic = "same/" + (i % 4);
                        store.retained().update(i % 97 == 0 ? clear(topic) : plain(topic, loopNo + ":" + i));
                    }
                    store.whenDurable(done::countDown);
                });
            }
            assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
            for (Message m : all(store)) {
                before.put(m.topic(), new String(m.payload(), StandardCharsets.UTF_8));
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            Map<String, String> after = new HashMap<>();
            for (Message m : all(store)) {
                after.put(m.topic(), new String(m.payload(), StandardCharsets.UTF_8));
            }
            assertThat(after).isEqualTo(before);
        }
    }

    @Test
    void manyTopicsSurviveReopen() {
        List<Message> batch = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            batch.add(plain("many/" + i, "v" + i));
        }
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            updateDurably(store, batch.toArray(new Message[0]));
        }
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            assertThat(store.retained().size()).isEqualTo(5_000);
            List<Message> one = Retained.match(store.retained(), "many/4321");
            assertThat(new String(one.get(0).payload(), StandardCharsets.UTF_8)).isEqualTo("v4321");
        }
    }

    /**
     * The heap holds a retained payload only until its write is committed, and start-up reads the index alone: a
     * record damaged on disk does not stop it (before the index, start-up decoded every record and refused the
     * directory), and is skipped, with one log line, when a subscription reads it.
     */
    @Test
    void payloadsLeaveTheHeapOnceCommittedAndStartUpReadsOnlyTheIndex() {
        int n = 3_000;
        byte[] payload = new byte[2048];
        List<Message> batch = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            payload[0] = (byte) i;
            batch.add(new Message("heap/" + i, 1, true, payload.clone(), Properties.EMPTY, "p", Message.NEVER));
        }
        long bytes = batch.stream().mapToLong(m -> m.payload().length + m.topic().length()).sum();
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            updateDurably(store, batch.toArray(new Message[0]));
            // the payloads were dropped from the heap once committed (before the whenDurable action ran)
            assertThat(store.retained().heldPayloadBytes()).isZero();
            assertThat(store.retained().bytes()).isEqualTo(bytes);
            assertThat(all(store)).hasSize(n);
            // damage one record (not its index entry)
            store.put(KeySpace.RETAINED, "heap/7".getBytes(StandardCharsets.UTF_8), new byte[] {7, 7});
            CompletableFuture<Void> done = new CompletableFuture<>();
            loop.execute(() -> store.whenDurable(() -> done.complete(null)));
            done.orTimeout(10, TimeUnit.SECONDS).join();
        }
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            assertThat(store.retained().size()).isEqualTo(n);
            assertThat(store.retained().bytes()).isEqualTo(bytes);
            assertThat(store.retained().heldPayloadBytes()).as("no payload read at start-up").isZero();
            List<Message> got = all(store);
            assertThat(got).hasSize(n - 1).extracting(Message::topic).doesNotContain("heap/7");
            assertThat(got.get(0).payload()).hasSize(2048);
            assertThat(store.retained().heldPayloadBytes()).as("reading does not keep payloads").isZero();
        }
    }

    /**
     * Read-your-writes: an update queued to the committer but not committed is what a subscription reads; a removal
     * too. The committer is held back by a task until the reads are done.
     */
    @Test
    void anUpdateNotYetCommittedIsWhatIsRead() throws Exception {
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            updateDurably(store, plain("ryw/t", "old"), plain("ryw/gone", "here"));
            CountDownLatch hold = new CountDownLatch(1);
            CountDownLatch held = new CountDownLatch(1);
            store.committer().task(b -> {
                held.countDown();
                try {
                    hold.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Void> updated = new CompletableFuture<>();
            loop.execute(() -> {
                store.retained().update(plain("ryw/t", "new"));
                store.retained().update(plain("ryw/u", "added"));
                store.retained().update(clear("ryw/gone"));
                updated.complete(null);
            });
            updated.orTimeout(10, TimeUnit.SECONDS).join();
            try {
                assertThat(store.get(KeySpace.RETAINED, "ryw/u".getBytes(StandardCharsets.UTF_8))).as("not committed")
                        .isNull();
                assertThat(store.retained().heldPayloadBytes()).isEqualTo("new".length() + "added".length());
                assertThat(all(store)).extracting(m -> m.topic() + "=" + new String(m.payload(), StandardCharsets.UTF_8))
                        .containsExactly("ryw/t=new", "ryw/u=added");
            } finally {
                hold.countDown();
            }
            CompletableFuture<Void> committed = new CompletableFuture<>();
            loop.execute(() -> store.whenDurable(() -> committed.complete(null)));
            committed.orTimeout(10, TimeUnit.SECONDS).join();
            assertThat(store.retained().heldPayloadBytes()).isZero();
            assertThat(all(store)).extracting(m -> m.topic() + "=" + new String(m.payload(), StandardCharsets.UTF_8))
                    .containsExactly("ryw/t=new", "ryw/u=added");
        }
    }

    /**
     * Read-your-writes under load: each of several loops updates its own topic and a shared one and reads both back
     * at once, while the committer commits the others' writes (and drops committed payloads) concurrently. A loop
     * always reads its own last value of its topic, and of the shared topic either its own last value or another
     * loop's, never an older one of its own.
     */
    @Test
    void eachLoopReadsItsOwnLatestUpdateWhileOthersWrite() throws Exception {
        int loops = 4;
        int updates = 1_500;
        DefaultEventExecutorGroup group = new DefaultEventExecutorGroup(loops);
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            CountDownLatch done = new CountDownLatch(loops);
            int l = 0;
            for (EventExecutor executor : group) {
                int loopNo = l++;
                executor.execute(() -> {
                    for (int i = 0; i < updates && failures.isEmpty(); i++) {
                        String value = loopNo + ":" + i;
                        store.retained().update(plain("rw/own/" + loopNo, value));
                        store.retained().update(plain("rw/shared", value));
                        List<Message> own = Retained.match(store.retained(), "rw/own/" + loopNo);
                        if (own.size() != 1 || !new String(own.get(0).payload(), StandardCharsets.UTF_8).equals(value)) {
                            failures.add("loop " + loopNo + " wrote " + value + " and read " + own);
                        }
                        List<Message> shared = Retained.match(store.retained(), "rw/shared");
                        String read = shared.size() == 1 ? new String(shared.get(0).payload(), StandardCharsets.UTF_8) : "";
                        if (read.startsWith(loopNo + ":") && !read.equals(value)) {
                            failures.add("loop " + loopNo + " wrote " + value + " to the shared topic and read " + read);
                        }
                        if (i % 100 == 0) {
                            store.whenDurable(() -> { });
                        }
                    }
                    store.whenDurable(done::countDown);
                });
            }
            assertThat(done.await(120, TimeUnit.SECONDS)).isTrue();
            assertThat(failures).isEmpty();
            assertThat(store.retained().heldPayloadBytes()).isZero();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
