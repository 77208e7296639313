package io.starling.broker.session;

import static io.starling.broker.session.Deliveries.delivery;
import static io.starling.broker.session.Deliveries.shared;
import static io.starling.broker.session.Deliveries.stored;
import static io.starling.broker.session.Deliveries.tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.concurrent.ImmediateEventExecutor;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.BrokerConfig.DropPolicy;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.message.Delivery;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The memory queue of a session: its bounds, drop policy, byte accounting and what shedding takes from it. */
class OutboundQueueTest {

    private final BrokerMetrics metrics = new BrokerMetrics();
    private final LargeQueues largeQueues = new LargeQueues();

    private OutboundQueue queue(BrokerConfig config) {
        Session owner = new Session("c", ImmediateEventExecutor.INSTANCE,
                new SessionContext(config, metrics, largeQueues, new io.starling.broker.store.InMemoryStore(),
                        io.starling.broker.time.Clock.SYSTEM));
        return new OutboundQueue(owner, config, metrics, largeQueues);
    }

    private static List<Integer> tags(OutboundQueue q) {
        return q.snapshot().stream().map(Deliveries::tag).toList();
    }

    @Test
    void dropNewRefusesTheNewestWhenFullAndCountsIt() {
        OutboundQueue q = queue(BrokerConfig.builder().maxQueuedMessages(3).dropPolicy(DropPolicy.DROP_NEW).build());
        for (int i = 1; i <= 5; i++) {
            q.offer(delivery(1, i));
        }
        assertThat(tags(q)).containsExactly(1, 2, 3);
        assertThat(q.dropped()).isEqualTo(2);
        assertThat(metrics.messagesDropped.sum()).isEqualTo(2);
    }

    @Test
    void dropOldestMakesRoomForTheNewest() {
        OutboundQueue q = queue(BrokerConfig.builder().maxQueuedMessages(3).dropPolicy(DropPolicy.DROP_OLDEST).build());
        for (int i = 1; i <= 5; i++) {
            q.offer(delivery(1, i));
        }
        assertThat(tags(q)).containsExactly(3, 4, 5);
        assertThat(q.dropped()).isEqualTo(2);
    }

    @Test
    void bytesBoundTheQueueAsMessagesDo() {
        // 250 bytes hold two messages of 100 bytes, not three
        OutboundQueue q = queue(BrokerConfig.builder().maxQueuedBytes(250).build());
        q.offer(delivery(0, 1));
        q.offer(delivery(0, 2));
        q.offer(delivery(0, 3));
        assertThat(tags(q)).containsExactly(1, 2);
        assertThat(q.bytes()).isEqualTo(200);
    }

    @Test
    void bytesMoveWithTheBrokerWideTotal() {
        OutboundQueue q = queue(BrokerConfig.builder().build());
        q.offer(delivery(1, 1));
        q.addStored(stored(1, 2, 7));
        assertThat(q.bytes()).isEqualTo(200);
        assertThat(q.bytesFromAnyThread()).isEqualTo(200);
        assertThat(metrics.queuedBytes.sum()).isEqualTo(200);
        Delivery first = q.poll();
        assertThat(tag(first)).isEqualTo(1);
        assertThat(metrics.queuedBytes.sum()).isEqualTo(100);
        q.clear();
        assertThat(q.isEmpty()).isTrue();
        assertThat(metrics.queuedBytes.sum()).isZero();
    }

    @Test
    void aQueueJoinsTheLargeQueuesAtTheThresholdAndLeavesWhenEmpty() {
        // a budget of 25,600 bytes makes 100 bytes (1/256 of it) a large queue
        BrokerConfig config = BrokerConfig.builder().maxQueuedBytesTotal(25_600).build();
        assertThat(QueueBudget.largeQueueBytes(config)).isEqualTo(100);
        OutboundQueue q = queue(config);
        assertThat(largeQueues.isEmpty()).isTrue();
        q.offer(delivery(1, 1));
        assertThat(largeQueues.size()).isEqualTo(1);
        q.offer(delivery(1, 2));
        q.poll();
        assertThat(largeQueues.size()).as("still holds a message").isEqualTo(1);
        q.poll();
        assertThat(largeQueues.isEmpty()).isTrue();
    }

    @Test
    void takeSharedRemovesOnlyDeliveriesOfSharedSubscriptions() {
        OutboundQueue q = queue(BrokerConfig.builder().build());
        q.offer(delivery(1, 1));
        q.offer(shared(1, 2));
        q.offer(delivery(0, 3));
        q.offer(shared(0, 4));
        assertThat(q.takeShared()).extracting(Deliveries::tag).containsExactly(2, 4);
        assertThat(tags(q)).containsExactly(1, 3);
        assertThat(q.bytes()).isEqualTo(200);
    }

    @Test
    void sheddingDropsQos0FirstThenTheOldestButNeverStoredOnes() {
        OutboundQueue q = queue(BrokerConfig.builder().build());
        q.offer(delivery(1, 1));
        q.offer(delivery(0, 2));
        q.addStored(stored(1, 3, 10));
        q.offer(delivery(0, 4));
        q.offer(delivery(1, 5));
        assertThat(q.dropUnstored(150, true)).isEqualTo(200); // whole messages: both QoS 0 ones
        assertThat(tags(q)).containsExactly(1, 3, 5);
        assertThat(q.dropUnstored(100, false)).isEqualTo(100);
        assertThat(tags(q)).containsExactly(3, 5);
        assertThat(metrics.messagesShed.sum()).isEqualTo(3);
        assertThat(q.dropped()).isEqualTo(3);
    }

    @Test
    void unloadingStoredDeliveriesTakesTheNewestAndKeepsTheRestInOrder() {
        OutboundQueue q = queue(BrokerConfig.builder().build());
        q.addStored(stored(1, 1, 10));
        q.offer(delivery(0, 2));
        q.addStored(stored(1, 3, 11));
        q.addStored(stored(1, 4, 12));
        assertThat(q.unloadStored(150)).as("the oldest position unloaded").isEqualTo(11);
        assertThat(tags(q)).containsExactly(1, 2);
        assertThat(metrics.storedUnloaded.sum()).isEqualTo(2);
        assertThat(q.unloadStored(1000)).isEqualTo(10);
        assertThat(q.unloadStored(1000)).as("nothing stored is left").isZero();
        assertThat(tags(q)).containsExactly(2);
    }

    @Test
    void aQueueThatNeverHeldAMessageAnswersAsEmpty() {
        OutboundQueue q = queue(BrokerConfig.builder().build());
        assertThat(q.isEmpty()).isTrue();
        assertThat(q.peek()).isNull();
        assertThat(q.snapshot()).isEmpty();
        assertThat(q.takeShared()).isEmpty();
        assertThat(q.unloadStored(100)).isZero();
        assertThat(q.dropUnstored(100, false)).isZero();
        q.clear();
        assertThat(metrics.queuedBytes.sum()).isZero();
    }

    @Test
    void itsDescriptionForTheDropLineIsItsFillWhenWritten() {
        OutboundQueue q = queue(BrokerConfig.builder().maxQueuedMessages(2).build());
        assertThat(q).hasToString("0 messages, 0 bytes");
        q.offer(delivery(1, 1));
        q.offer(delivery(1, 2));
        q.offer(delivery(1, 3)); // dropped, and logged with the fill below
        assertThat(q).hasToString("2 messages, 200 bytes");
        assertThat(q.dropped()).isEqualTo(1);
    }

    @Test
    void theBrokerWideMessageCountFollowsEveryWayInAndOut() {
        OutboundQueue q = queue(BrokerConfig.builder().maxQueuedMessages(6).dropPolicy(DropPolicy.DROP_OLDEST).build());
        for (int i = 1; i <= 7; i++) {
            q.offer(delivery(0, i)); // the 7th drops the oldest
        }
        assertThat(metrics.queuedMessages.sum()).isEqualTo(6);
        assertThat(metrics.droppedQueueFull.sum()).isEqualTo(1);
        q.poll();
        assertThat(metrics.queuedMessages.sum()).isEqualTo(5);
        assertThat(q.dropUnstored(150, false)).isEqualTo(200);
        assertThat(metrics.queuedMessages.sum()).isEqualTo(3);
        q.addStored(stored(1, 10, 10));
        q.addStored(stored(1, 11, 11));
        q.offer(shared(1, 12));
        assertThat(metrics.queuedMessages.sum()).isEqualTo(6);
        assertThat(q.unloadStored(1000)).isEqualTo(10);
        assertThat(q.takeShared()).hasSize(1);
        assertThat(metrics.queuedMessages.sum()).isEqualTo(q.size()).isEqualTo(3);
        q.clear();
        assertThat(metrics.queuedMessages.sum()).isZero();
        assertThat(metrics.queuedBytes.sum()).isZero();
    }
}
