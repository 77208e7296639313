package io.starling.broker.retain;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.broker.message.Message;
import io.starling.broker.time.ManualClock;
import io.starling.broker.topic.Topics;
import io.starling.codec.Properties;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The retained index: wildcard matching through the trie, paging, limits, expiry, payloads held in the heap. */
class RetainedStoreTest {

    private final RetainedStore sut = RetainedStore.inMemory();

    private static Message msg(String topic, String payload) {
        return new Message(topic, 1, true, payload.getBytes(StandardCharsets.UTF_8), Properties.EMPTY, "p", Message.NEVER);
    }

    private static Message expiring(String topic, long expiresAt) {
        return new Message(topic, 1, true, new byte[] {1}, Properties.builder().messageExpiryInterval(1L).build(), "p",
                expiresAt);
    }

    /** Every topic the filter matches, walking with pages of {@code pageSize}. */
    private Set<String> match(String filter, int pageSize) {
        Set<String> out = new TreeSet<>();
        RetainedStore.Cursor c = sut.cursor(filter);
        int pages = 0;
        while (!c.exhausted()) {
            List<RetainedStore.Hit> page = sut.next(c, pageSize, Long.MAX_VALUE);
            assertThat(page.size()).isLessThanOrEqualTo(pageSize);
            for (RetainedStore.Hit h : page) {
                assertThat(out.add(h.topic())).as("%s returned twice for %s", h.topic(), filter).isTrue();
                assertThat(h.message()).as("in the heap without persistence").isNotNull();
            }
            assertThat(++pages).as("the walk ends").isLessThan(100_000);
        }
        return out;
    }

    private Set<String> match(String filter) {
        return match(filter, 1000);
    }

    private void retain(String... topics) {
        for (String t : topics) {
            assertThat(sut.update(msg(t, "v"))).isTrue();
        }
    }

    @ParameterizedTest
    @CsvSource({
        "a/b, a/b", "a/+, a/b", "a/#, a/b", "a/#, a", "#, a/b/c", "+/b, a/b", "+/+/+, a/b/c", "a/+/#, a/b",
        "$SYS/+, $SYS/a", "/+, /x", "+/+, /x", "a/+, a/", "a//b, a//b", "+//+, a//b", "$SYS/#, $SYS", "+/+, /"
    })
    void matchesLikeTopicsMatches_MQTT_4_7_1_2_MQTT_4_7_1_3(String filter, String topic) {
        List<String> others = List.of("other/level/entirely", "$SYS/other", "a", "a/b/c/d", "/");
        retain(topic);
        others.forEach(this::retain);
        Set<String> expected = new TreeSet<>(Set.of(topic));
        others.stream().filter(t -> Topics.matches(filter, t)).forEach(expected::add);
        assertThat(match(filter)).isEqualTo(expected);
        assertThat(Topics.matches(filter, topic)).isTrue();
    }

    @Test
    void leadingWildcardsDoNotMatchDollarTopics_MQTT_4_7_2_1() {
        retain("$SYS/broker/load", "$SYS", "$other/x", "a/$notfirst", "x");
        assertThat(match("#")).containsExactly("a/$notfirst", "x");
        assertThat(match("+/+")).containsExactly("a/$notfirst");
        assertThat(match("+/+/+")).isEmpty();
        assertThat(match("$SYS/#")).containsExactly("$SYS", "$SYS/broker/load");
        assertThat(match("$SYS/+/+")).containsExactly("$SYS/broker/load");
        assertThat(match("$other/+")).containsExactly("$other/x");
        assertThat(match("+/$notfirst")).containsExactly("a/$notfirst");
    }

    @Test
    void singleLevelWildcardMatchesExactlyOneLevel_MQTT_4_7_1_3() {
        retain("sport/tennis/player1", "sport/tennis/player1/ranking", "sport/tennis", "sport", "sport/", "/finance");
        assertThat(match("sport/tennis/+")).containsExactly("sport/tennis/player1");
        assertThat(match("sport/+")).containsExactly("sport/", "sport/tennis");
        assertThat(match("+")).containsExactly("sport");
        assertThat(match("+/+")).containsExactly("/finance", "sport/", "sport/tennis");
        assertThat(match("/+")).containsExactly("/finance");
    }

    @Test
    void multiLevelWildcardMatchesTheParentAndEverythingBelow_MQTT_4_7_1_2() {
        retain("sport", "sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking", "sports", "x/sport");
        assertThat(match("sport/#")).containsExactly("sport", "sport/tennis", "sport/tennis/player1",
                "sport/tennis/player1/ranking");
        assertThat(match("sport/tennis/#")).containsExactly("sport/tennis", "sport/tennis/player1",
                "sport/tennis/player1/ranking");
        assertThat(match("#")).hasSize(6);
        assertThat(match("+/tennis/#")).containsExactly("sport/tennis", "sport/tennis/player1",
                "sport/tennis/player1/ranking");
    }

    /** The trie agrees with Topics.matches on random topics and filters (fixed seed, so every run is the same). */
    @Test
    void agreesWithTopicsMatchesOnRandomTopics() {
        Random random = new Random(20261127L);
        String[] words = {"a", "b", "c", "", "$s", "d$"};
        List<String> topics = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            topics.add(randomName(random, words));
        }
        Set<String> stored = new HashSet<>(topics);
        stored.remove("");
        stored.forEach(this::retain);
        for (int i = 0; i < 300; i++) {
            StringBuilder f = new StringBuilder();
            int levels = 1 + random.nextInt(4);
            for (int l = 0; l < levels; l++) {
                if (l > 0) {
                    f.append('/');
                }
                int k = random.nextInt(10);
                if (k < 3) {
                    f.append('+');
                } else if (k == 3 && l == levels - 1) {
                    f.append('#');
                } else {
                    f.append(words[random.nextInt(words.length)]);
                }
            }
            String filter = f.toString();
            if (!Topics.isValidFilter(filter)) {
                continue;
            }
            Set<String> expected = new TreeSet<>();
            for (String t : stored) {
                if (Topics.matches(filter, t)) {
                    expected.add(t);
                }
            }
            assertThat(match(filter, 1 + random.nextInt(7))).as("filter '%s'", filter).isEqualTo(expected);
        }
    }

    private static String randomName(Random random, String[] words) {
        StringBuilder t = new StringBuilder();
        int levels = 1 + random.nextInt(4);
        for (int l = 0; l < levels; l++) {
            if (l > 0) {
                t.append('/');
            }
            t.append(words[random.nextInt(words.length)]);
        }
        return t.toString();
    }

    @Test
    void pagesAreBoundedAndResumeWhereTheyStopped() {
        for (int i = 0; i < 1000; i++) {
            retain("p/" + i);
        }
        RetainedStore.Cursor c = sut.cursor("p/#");
        Set<String> seen = new HashSet<>();
        int pages = 0;
        while (!c.exhausted()) {
            List<RetainedStore.Hit> page = sut.next(c, 64, 10 * 4); // about 10 entries of 4 bytes
            assertThat(page.size()).isLessThanOrEqualTo(10);
            page.forEach(h -> seen.add(h.topic()));
            pages++;
        }
        assertThat(seen).hasSize(1000);
        assertThat(pages).isGreaterThanOrEqualTo(100);
    }

    @Test
    void aFilterMatchingNothingStopsAfterItsVisitBudget() {
        for (int i = 0; i < 3 * RetainedStore.MAX_VISITS; i++) {
            retain("n/" + i + "/x");
        }
        RetainedStore.Cursor c = sut.cursor("n/+/nothing");
        List<RetainedStore.Hit> first = sut.next(c, 100, Long.MAX_VALUE);
        assertThat(first).isEmpty();
        assertThat(c.exhausted()).as("more to walk, in a later call").isFalse();
        int calls = 1;
        while (!c.exhausted()) {
            assertThat(sut.next(c, 100, Long.MAX_VALUE)).isEmpty();
            calls++;
        }
        assertThat(calls).isGreaterThan(2);
    }

    /**
     * A topic removed and retained again during a walk, while the map holding it grows, is returned at most once;
     * topics created during the walk are left to the subscription's live routing.
     */
    @Test
    void aTopicRemovedAndAddedAgainDuringAWalkIsReturnedOnce() {
        for (int i = 0; i < 8; i++) {
            retain("r/" + i);
        }
        RetainedStore.Cursor c = sut.cursor("r/+");
        List<String> got = new ArrayList<>();
        List<RetainedStore.Hit> first = sut.next(c, 1, Long.MAX_VALUE);
        assertThat(first).hasSize(1);
        String seen = first.get(0).topic();
        got.add(seen);
        assertThat(sut.update(msg(seen, ""))).isTrue();
        for (int i = 100; i < 400; i++) {
            retain("r/" + i); // the children map is resized under the walk
        }
        retain(seen);
        while (!c.exhausted()) {
            sut.next(c, 3, Long.MAX_VALUE).forEach(h -> got.add(h.topic()));
        }
        assertThat(got).doesNotHaveDuplicates();
        Set<String> expected = new TreeSet<>();
        for (int i = 0; i < 8; i++) {
            expected.add("r/" + i);
        }
        assertThat(new TreeSet<>(got)).isEqualTo(expected);
    }

    /**
     * An entry written after a walk began is not returned by it: that update is routed to the new subscription live,
     * behind live messages of the topic that may be older than it.
     */
    @Test
    void aWalkReturnsOnlyEntriesWrittenBeforeItBegan() {
        retain("u/1", "u/2", "u/3");
        RetainedStore.Cursor c = sut.cursor("u/+");
        assertThat(sut.update(msg("u/2", "newer"))).isTrue();
        retain("u/4");
        List<String> got = new ArrayList<>();
        while (!c.exhausted()) {
            sut.next(c, 10, Long.MAX_VALUE).forEach(h -> got.add(h.topic()));
        }
        assertThat(got).containsExactlyInAnyOrder("u/1", "u/3");
        assertThat(match("u/+")).containsExactly("u/1", "u/2", "u/3", "u/4");
    }

    /** Topics added and removed during a walk: no exception, nothing twice, everything untouched is found. */
    @Test
    void aWalkSurvivesConcurrentChanges() throws Exception {
        for (int i = 0; i < 5000; i++) {
            retain("w/keep/" + i);
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch stop = new CountDownLatch(1);
        Thread writer = new Thread(() -> {
            try {
                for (int i = 0; stop.getCount() > 0; i++) {
                    sut.update(msg("w/churn/" + (i % 300) + "/x", "v"));
                    sut.update(msg("w/churn/" + ((i + 150) % 300) + "/x", ""));
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        writer.start();
        try {
            for (int round = 0; round < 20; round++) {
                Set<String> got = match("w/#", 37);
                for (int i = 0; i < 5000; i += 499) {
                    assertThat(got).contains("w/keep/" + i);
                }
            }
        } finally {
            stop.countDown();
            writer.join(10_000);
        }
        assertThat(failure.get()).isNull();
        assertThat(match("w/keep/+")).hasSize(5000);
    }

    /**
     * Several threads add, replace and remove topics that share their upper levels, so that removing one prunes nodes
     * another is adding below: afterwards every counted entry is found by a walk (none was set on a node cut off from
     * the trie) and the counters agree with what is there.
     */
    @Test
    void concurrentAddsAndRemovesKeepTheTrieAndTheCountersConsistent() throws Exception {
        int threads = 4;
        List<Thread> workers = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch start = new CountDownLatch(1);
        for (int t = 0; t < threads; t++) {
            long seed = 1000 + t;
            Thread w = new Thread(() -> {
                Random random = new Random(seed);
                try {
                    start.await();
                    for (int i = 0; i < 40_000; i++) {
                        String topic = "c/" + random.nextInt(20) + "/" + random.nextInt(3) + (random.nextBoolean() ? "" : "/d");
                        sut.update(msg(topic, random.nextInt(3) == 0 ? "" : "x".repeat(1 + random.nextInt(5))));
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            w.start();
            workers.add(w);
        }
        start.countDown();
        for (Thread w : workers) {
            w.join(60_000);
        }
        assertThat(failure.get()).isNull();
        List<RetainedStore.Hit> all = new ArrayList<>();
        RetainedStore.Cursor c = sut.cursor("#");
        while (!c.exhausted()) {
            all.addAll(sut.next(c, 1000, Long.MAX_VALUE));
        }
        assertThat(sut.size()).as("entries counted = entries reachable").isEqualTo(all.size());
        assertThat(sut.bytes()).isEqualTo(all.stream().mapToLong(RetainedStore.Hit::size).sum());
        assertThat(sut.heldPayloadBytes()).isEqualTo(all.stream().mapToLong(h -> h.message().payload().length).sum());
        for (RetainedStore.Hit h : all) {
            assertThat(match(h.topic())).containsExactly(h.topic());
        }
    }

    @Test
    void limitsRefuseGrowthButNotReplacementOrRemoval() {
        sut.limits(3, 3 * ("t/1".length() + 4));
        assertThat(sut.update(msg("t/1", "aaaa"))).isTrue();
        assertThat(sut.update(msg("t/2", "bbbb"))).isTrue();
        assertThat(sut.update(msg("t/3", "cccc"))).isTrue();
        assertThat(sut.update(msg("t/4", "d"))).as("a fourth topic").isFalse();
        assertThat(sut.update(msg("t/1", "eeee"))).as("same size").isTrue();
        assertThat(sut.update(msg("t/2", "ff"))).as("smaller").isTrue();
        assertThat(sut.update(msg("t/2", "ffff"))).as("back to the size it had").isTrue();
        assertThat(sut.update(msg("t/3", "ccccc"))).as("growing beyond the bytes").isFalse();
        assertThat(match("t/#")).containsExactly("t/1", "t/2", "t/3");
        assertThat(sut.size()).isEqualTo(3);
        assertThat(sut.update(msg("t/3", ""))).as("removal").isTrue();
        assertThat(sut.update(msg("t/4", "dddd"))).as("room again").isTrue();
        assertThat(match("t/#")).containsExactly("t/1", "t/2", "t/4");
        assertThat(sut.bytes()).isEqualTo(3 * ("t/1".length() + 4));
        assertThat(sut.heldPayloadBytes()).as("storage: memory keeps every payload").isEqualTo(12);

        sut.limits(0, 0);
        assertThat(sut.update(msg("t/5", "unlimited"))).isTrue();
    }

    @Test
    void aRefusedNewTopicLeavesNothingBehind() {
        sut.limits(1, 0);
        retain("keep");
        assertThat(sut.update(msg("deep/new/topic/path", "x"))).isFalse();
        assertThat(match("#")).containsExactly("keep");
        assertThat(match("deep/#")).isEmpty();
        assertThat(sut.size()).isEqualTo(1);
    }

    /** 5.0 3.3.2.3.3: an expired retained message is never returned and is removed. */
    @Test
    void expiredMessagesAreNeverReturnedAndAreRemoved() {
        long now = System.currentTimeMillis();
        assertThat(sut.update(expiring("e/past", now - 1))).isTrue();
        assertThat(sut.update(expiring("e/future", now + 3_600_000))).isTrue();
        assertThat(sut.size()).isEqualTo(2);
        assertThat(match("e/past")).isEmpty();
        assertThat(sut.size()).as("removed when the walk found it").isEqualTo(1);
        assertThat(match("e/#")).containsExactly("e/future");
    }

    /** 5.0 3.3.2.3.3 on the broker's clock: a retained message is returned until its expiry, not after. */
    @Test
    void aRetainedMessageExpiresAtItsDeadlineAndNotBefore() {
        ManualClock clock = new ManualClock(1_700_000_000_000L);
        sut.clock(clock);
        assertThat(sut.update(expiring("d/x", clock.millis() + 10_000))).isTrue();
        clock.advance(9_999, TimeUnit.MILLISECONDS);
        assertThat(match("d/#")).containsExactly("d/x");
        clock.advance(1, TimeUnit.MILLISECONDS);
        assertThat(match("d/#")).as("expired at its deadline").isEmpty();
        assertThat(sut.size()).isZero();
    }

    /** Expired messages are purged before the limits refuse an update, on the broker's clock. */
    @Test
    void thePurgeBeforeARefusalUsesTheBrokersClock() {
        ManualClock clock = new ManualClock(1_700_000_000_000L);
        sut.clock(clock);
        sut.limits(1, 0);
        assertThat(sut.update(expiring("p/1", clock.millis() + 5_000))).isTrue();
        clock.advance(4_999, TimeUnit.MILLISECONDS);
        assertThat(sut.update(msg("p/2", "v"))).as("p/1 has not expired: the limit refuses p/2").isFalse();
        clock.advance(2, TimeUnit.MILLISECONDS);
        assertThat(sut.update(msg("p/2", "v"))).as("p/1 expired: purged to make room").isTrue();
        assertThat(match("p/#")).containsExactly("p/2");
    }

    @Test
    void expiredMessagesMakeRoomBeforeAnUpdateIsRefused() {
        long now = System.currentTimeMillis();
        sut.limits(2, 0);
        assertThat(sut.update(expiring("x/1", now - 1))).isTrue();
        assertThat(sut.update(expiring("x/2", now - 1))).isTrue();
        assertThat(sut.size()).isEqualTo(2);
        // nobody matched them: the limit is reached, the expired ones go first
        assertThat(sut.update(msg("x/3", "v"))).isTrue();
        assertThat(sut.size()).isEqualTo(1);
        assertThat(match("x/#")).containsExactly("x/3");
    }

    @Test
    void aHitIsStaleOnceItsTopicIsUpdatedAgain() {
        retain("s/t");
        RetainedStore.Cursor c = sut.cursor("s/t");
        RetainedStore.Hit h = sut.next(c, 10, Long.MAX_VALUE).get(0);
        assertThat(sut.isCurrent(h)).isTrue();
        sut.update(msg("s/t", "newer"));
        assertThat(sut.isCurrent(h)).isFalse();
        assertThat(new String(h.message().payload(), StandardCharsets.UTF_8)).as("the hit keeps what it read").isEqualTo("v");
    }

    /** Persistence: the payload is held until the store says the write is durable, then read back from it. */
    @Test
    void withPersistenceThePayloadIsHeldOnlyUntilItsWriteIsDurable() throws Exception {
        List<Runnable> durable = new ArrayList<>();
        java.util.Map<String, Message> disk = new java.util.concurrent.ConcurrentHashMap<>();
        RetainedStore store = new RetainedStore(new RetainedPersistence() {
            @Override
            public void write(String topic, Message message, Runnable onDurable, Runnable onFailed) {
                durable.add(() -> {
                    disk.put(topic, message);
                    onDurable.run();
                });
            }

            @Override
            public void delete(String topic, Runnable onFailed) {
                durable.add(() -> disk.remove(topic));
            }

            @Override
            public void read(List<String> topics, java.util.function.Consumer<List<Message>> onRead) {
                Thread t = new Thread(() -> onRead.accept(topics.stream().map(disk::get).toList()));
                t.start();
            }
        });
        store.update(msg("d/1", "12345"));
        assertThat(store.heldPayloadBytes()).isEqualTo(5);
        RetainedStore.Cursor c = store.cursor("d/#");
        List<RetainedStore.Hit> page = store.next(c, 10, Long.MAX_VALUE);
        assertThat(RetainedStore.inHeap(page)).as("not written yet: read from the heap").isTrue();
        durable.forEach(Runnable::run);
        durable.clear();
        assertThat(store.heldPayloadBytes()).isZero();
        page = store.next(store.cursor("d/#"), 10, Long.MAX_VALUE);
        assertThat(RetainedStore.inHeap(page)).isFalse();
        CountDownLatch read = new CountDownLatch(1);
        store.read(page, read::countDown);
        assertThat(read.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(page.get(0).message().payload(), StandardCharsets.UTF_8)).isEqualTo("12345");
    }
    /** A write or delete the store fails to commit is undone: the index goes back to what the store still holds. */
    @Test
    void aFailedWriteOrDeleteIsUndone() {
        List<Runnable> failures = new ArrayList<>();
        RetainedStore store = new RetainedStore(new RetainedPersistence() {
            @Override
            public void write(String topic, Message message, Runnable onDurable, Runnable onFailed) {
                failures.add(onFailed);
            }

            @Override
            public void delete(String topic, Runnable onFailed) {
                failures.add(onFailed);
            }

            @Override
            public void read(List<String> topics, java.util.function.Consumer<List<Message>> onRead) {
                onRead.accept(topics.stream().map(t -> (Message) null).toList());
            }
        });
        store.update(msg("f/a", "old"));
        failures.clear(); // "old" counts as committed
        store.update(msg("f/a", "newer"));
        store.update(msg("f/b", "new topic"));
        failures.forEach(Runnable::run);
        failures.clear();
        assertThat(store.size()).as("the new topic is gone again, the old one stays").isEqualTo(1);
        assertThat(texts(store, "f/#")).as("f/a is back to the entry the store holds, read from there")
                .containsExactly("(on disk)");
        store.update(msg("f/a", ""));
        assertThat(store.size()).isZero();
        failures.forEach(Runnable::run);
        assertThat(store.size()).as("a delete not stored: the entry is back").isEqualTo(1);
        assertThat(texts(store, "f/#")).containsExactly("(on disk)");
    }

    private static List<String> texts(RetainedStore store, String filter) {
        return store.next(store.cursor(filter), 10, Long.MAX_VALUE).stream()
                .map(h -> h.message() == null ? "(on disk)" : new String(h.message().payload(), StandardCharsets.UTF_8))
                .toList();
    }
}
