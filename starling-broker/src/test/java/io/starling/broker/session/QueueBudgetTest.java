package io.starling.broker.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.util.concurrent.DefaultEventExecutor;
import io.netty.util.concurrent.EventExecutor;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.store.InMemoryStore;
import io.starling.broker.time.Clock;
import io.starling.broker.message.Delivery;
import io.starling.broker.message.Message;
import io.starling.codec.Properties;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The queue budget's decisions on real sessions (offline, so that every delivery queues) on a real event executor:
 * which queues it cuts and what it drops from them, and how long it pauses a publisher when it cannot shed.
 */
class QueueBudgetTest {

    /** Payload size that makes a message on topic "t" weigh exactly 1000 bytes (payload + topic + 64). */
    private static final int PAYLOAD = 1000 - 1 - 64;

    private final EventExecutor loop = new DefaultEventExecutor();
    private final BrokerMetrics metrics = new BrokerMetrics();
    private final LargeQueues largeQueues = new LargeQueues();
    private final List<Session> sessions = new ArrayList<>();

    @AfterEach
    void stop() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private QueueBudget budget(long bytes) {
        return new QueueBudget(metrics, largeQueues, sessions, bytes);
    }

    private Session session(String id, long budget) throws Exception {
        BrokerConfig config = BrokerConfig.builder().maxQueuedBytesTotal(budget).maxQueuedMessages(100_000)
                .queueQos0Messages(true).build();
        Session s = new Session(id, loop, new SessionContext(config, metrics, largeQueues, new InMemoryStore(), Clock.SYSTEM));
        sessions.add(s);
        return s;
    }

    private void deliver(Session s, int index, int qos) throws Exception {
        byte[] payload = new byte[PAYLOAD];
        ByteBuffer.wrap(payload).putInt(index);
        Message m = Message.published("t", qos, false, payload, Properties.EMPTY, "pub", System.currentTimeMillis());
        assertThat(m.weight()).isEqualTo(1000);
        loop.submit(() -> s.deliver(new Delivery(m, qos, false, List.of()))).get();
    }

    private List<Integer> queued(Session s, int qos) throws Exception {
        return loop.submit(() -> s.queuedDeliveries().stream().filter(d -> qos < 0 || d.qos() == qos)
                .map(d -> ByteBuffer.wrap(d.message().payload()).getInt()).toList()).get();
    }

    private long bytes(Session s) {
        return s.queuedBytesFromAnyThread();
    }

    @Test
    void shedsQos0FirstThenTheOldest() throws Exception {
        Session s = session("big", 100_000);
        for (int i = 0; i < 90; i++) {
            deliver(s, i, i % 2); // QoS 0 at even indexes, QoS 1 at odd ones: 90,000 bytes
        }
        assertThat(largeQueues).containsExactly(s);
        QueueBudget budget = budget(100_000); // shed at 87,500 down to 75,000
        budget.onRouted(loop);
        await().atMost(Duration.ofSeconds(10)).until(() -> bytes(s) <= 75_000);
        // 15,000 bytes: the 15 oldest QoS 0 messages, nothing of QoS 1
        assertThat(queued(s, 1)).hasSize(45);
        assertThat(queued(s, 0)).first().isEqualTo(30);
        assertThat(queued(s, 0)).hasSize(30);
        assertThat(loop.submit(s::droppedCount).get()).isEqualTo(15);
        assertThat(metrics.messagesShed.sum()).isEqualTo(15);
        assertThat(metrics.messagesDropped.sum()).isEqualTo(15);
        assertThat(metrics.queuedBytes.sum()).isEqualTo(75_000);
    }

    @Test
    void aSessionShedsWholeMessagesQos0FirstThenTheOldestOfAnyQos() throws Exception {
        Session s = session("direct", 100_000);
        for (int i = 0; i < 20; i++) {
            deliver(s, i, i < 10 ? 1 : 0); // 10 QoS 1, then 10 QoS 0
        }
        assertThat(loop.submit(() -> s.shed(0)).get()).isZero(); // nothing asked, nothing done
        assertThat(loop.submit(() -> s.shed(1)).get()).isEqualTo(1000); // a whole message: the oldest QoS 0
        assertThat(queued(s, 0)).first().isEqualTo(11);
        assertThat(loop.submit(() -> s.shed(9000)).get()).isEqualTo(9000); // the other nine QoS 0
        assertThat(queued(s, 0)).isEmpty();
        assertThat(loop.submit(() -> s.shed(2500)).get()).isEqualTo(3000); // then the oldest: three QoS 1
        assertThat(queued(s, -1)).containsExactly(3, 4, 5, 6, 7, 8, 9);
        assertThat(loop.submit(s::droppedCount).get()).isEqualTo(13);
        assertThat(loop.submit(() -> s.shed(100_000)).get()).isEqualTo(7000); // all it has
        assertThat(largeQueues).isEmpty(); // empty again: no longer a candidate
        assertThat(metrics.queuedBytes.sum()).isZero();
    }

    @Test
    void cutsTheLargestQueuesToACommonLevelAndLeavesTheSmallOnes() throws Exception {
        Session a = session("a", 100_000);
        Session b = session("b", 100_000);
        Session c = session("c", 100_000);
        for (int i = 0; i < 40; i++) {
            deliver(a, i, 1);
        }
        for (int i = 0; i < 35; i++) {
            deliver(b, i, 1);
        }
        for (int i = 0; i < 25; i++) {
            deliver(c, i, 1);
        }
        // 100,000 queued, 25,000 to shed: a and b down to c's 25,000
        QueueBudget budget = budget(100_000);
        budget.onRouted(loop);
        await().atMost(Duration.ofSeconds(10)).until(() -> metrics.queuedBytes.sum() <= 75_000);
        assertThat(bytes(a)).isEqualTo(25_000);
        assertThat(bytes(b)).isEqualTo(25_000);
        assertThat(bytes(c)).isEqualTo(25_000);
        assertThat(queued(a, 1).get(0)).isEqualTo(15);
        assertThat(queued(b, 1).get(0)).isEqualTo(10);
        assertThat(queued(c, 1).get(0)).isEqualTo(0);
        assertThat(budget.shedRounds()).isEqualTo(1);
    }

    @Test
    void smallQueuesAreFoundByLookingAtEverySession() throws Exception {
        // a budget of 256,000: queues from 1,000 bytes are large; these hold 900 (one message of 900 bytes) each
        for (int i = 0; i < 300; i++) {
            Session s = session("s" + i, 256_000);
            Message m = Message.published("t", 1, false, new byte[900 - 65], Properties.EMPTY, "pub", 0);
            loop.submit(() -> s.deliver(new Delivery(m, 1, false, List.of()))).get();
        }
        assertThat(largeQueues).isEmpty();
        assertThat(metrics.queuedBytes.sum()).isEqualTo(270_000);
        QueueBudget budget = budget(256_000);
        budget.onRouted(loop);
        await().atMost(Duration.ofSeconds(10)).until(() -> metrics.queuedBytes.sum() <= budget.lowWaterMark());
        // 78,000 bytes to shed, a whole queue of 900 from each of as few sessions as that takes: 87 of them
        assertThat(metrics.messagesShed.sum()).isEqualTo(87);
    }

    @Test
    void aPauseEndsAtItsLimitWhenNothingCanBeShed() throws Exception {
        QueueBudget budget = budget(1000);
        metrics.queuedBytes.add(2000); // bytes no queue will give up
        CompletableFuture<Boolean> resumed = new CompletableFuture<>();
        budget.pause(resumed::complete, loop);
        assertThat(budget.waiting()).isEqualTo(1);
        assertThat(resumed.get(QueueBudget.MAX_PAUSE_MS * 10, TimeUnit.MILLISECONDS)).as("timed out").isTrue();
        assertThat(budget.pausesTimedOut()).isEqualTo(1);
        assertThat(budget.waiting()).isZero();
    }

    @Test
    void aPauseEndsAsSoonAsTheTotalIsBelowTheShedMark() throws Exception {
        QueueBudget budget = budget(1000);
        metrics.queuedBytes.add(2000);
        CompletableFuture<Boolean> resumed = new CompletableFuture<>();
        budget.pause(resumed::complete, loop);
        metrics.queuedBytes.add(-1200); // 800: below the shed mark of 875
        assertThat(resumed.get(QueueBudget.MAX_PAUSE_MS * 10, TimeUnit.MILLISECONDS)).as("timed out").isFalse();
        assertThat(budget.pausesTimedOut()).isZero();
    }

    @Test
    void aQueueThatBecomesLargeStartsTheCheckWithoutARoutedBatch() throws Exception {
        QueueBudget budget = budget(100_000);
        Session s = session("grows", 100_000);
        for (int i = 0; i < 100; i++) {
            deliver(s, i, 1); // as deliveries handed over from another loop land, after the batch that routed them
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> metrics.queuedBytes.sum() < budget.shedMark());
        assertThat(metrics.messagesShed.sum()).isPositive();
    }

    @Test
    void noBudgetNoCandidates() throws Exception {
        QueueBudget budget = budget(0);
        Session s = session("x", 0);
        for (int i = 0; i < 100; i++) {
            deliver(s, i, 1);
        }
        assertThat(largeQueues).isEmpty();
        assertThat(budget.onRouted(loop)).isZero();
        assertThat(budget.isExhausted()).isFalse();
    }
}
