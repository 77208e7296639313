package io.starling.store.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.concurrent.DefaultEventExecutor;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.EventExecutor;
import io.starling.broker.routing.Message;
import io.starling.codec.Properties;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
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
        List<Message> out = new ArrayList<>();
        store.retained().match("#", out::add);
        out.sort(Comparator.comparing(Message::topic));
        return out;
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
            List<Message> exact = new ArrayList<>();
            store.retained().match("x/3", exact::add);
            assertThat(exact).hasSize(1);
            store.retained().match("x/2", exact::add);
            assertThat(exact).hasSize(1);
        }
    }

    @Test
    void expiryIsKeptAcrossReopenAndExpiredMessagesAreDropped() throws Exception {
        long now = System.currentTimeMillis();
        Message later = new Message("e/later", 1, true, new byte[] {1}, Properties.builder().messageExpiryInterval(60L).build(),
                "p", now + 60_000);
        Message soon = new Message("e/soon", 1, true, new byte[] {2}, Properties.builder().messageExpiryInterval(1L).build(),
                "p", now + 300);
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            updateDurably(store, later, soon);
        }
        Thread.sleep(400);
        try (RocksDbStore store = RocksDbStore.open(dir)) {
            List<Message> got = all(store);
            assertThat(got).hasSize(1);
            assertSame(got.get(0), later);
            assertThat(got.get(0).expiresAtMillis()).isEqualTo(now + 60_000);
            // the expired record was deleted from disk when the store opened
            assertThat(store.get(KeySpace.RETAINED, "e/soon".getBytes(StandardCharsets.UTF_8))).isNull();
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
            List<Message> one = new ArrayList<>();
            store.retained().match("many/4321", one::add);
            assertThat(new String(one.get(0).payload(), StandardCharsets.UTF_8)).isEqualTo("v4321");
        }
    }
}
