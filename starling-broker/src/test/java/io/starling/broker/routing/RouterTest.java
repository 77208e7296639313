package io.starling.broker.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.EventExecutor;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.message.Delivery;
import io.starling.broker.message.Message;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.retain.RetainedStore;
import io.starling.broker.session.Session;
import io.starling.broker.session.SessionContext;
import io.starling.broker.store.InMemoryStore;
import io.starling.broker.topic.Subscription;
import io.starling.broker.topic.SubscriptionIndex;
import io.starling.codec.Properties;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The router on real event loops with offline sessions (every delivery is queued, so what each session got can be
 * read back): fan-out, overlapping subscriptions merged into one delivery, No Local, and the hand-off between loops.
 */
class RouterTest {

    private final DefaultEventExecutorGroup loops = new DefaultEventExecutorGroup(2);
    private final EventExecutor loopA;
    private final EventExecutor loopB;
    private final BrokerConfig config = BrokerConfig.builder().queueQos0Messages(true).maxQueuedMessages(10_000)
            .maxQueuedBytes(100_000_000L).build();
    private final BrokerMetrics metrics = new BrokerMetrics();
    private final SessionContext context = SessionContext.of(config, metrics);
    private final SubscriptionIndex index = new SubscriptionIndex();
    private final Map<String, Session> sessions = new HashMap<>();
    private final DeliveryGovernor governor = new DeliveryGovernor(1000, 100);
    private final Router router;

    RouterTest() {
        Iterator<EventExecutor> it = loops.iterator();
        loopA = it.next();
        loopB = it.next();
        router = new Router(index, RetainedStore.inMemory(), sessions::get, loops, metrics, governor,
                BrokerConfig.SharedSubscriptionStrategy.ROUND_ROBIN, new InMemoryStore());
    }

    @AfterEach
    void stop() {
        loops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private Session session(String clientId, EventExecutor owner) {
        Session s = new Session(clientId, owner, context);
        sessions.put(clientId, s);
        return s;
    }

    private void subscribe(Session s, String filter, int qos, boolean noLocal, boolean rap, int id) throws Exception {
        Subscription sub = new Subscription(s.clientId(), filter, qos, noLocal, rap, 0, id);
        s.owner().submit(() -> s.addSubscription(sub)).get();
        index.add(sub);
    }

    private void subscribeShared(Session s, String group, String filter) throws Exception {
        Subscription sub = new Subscription(s.clientId(), "$share/" + group + "/" + filter, 1, false, false, 0, 0, group);
        s.owner().submit(() -> s.addSubscription(sub)).get();
        index.add(sub);
    }

    private static Message message(String topic, int qos, boolean retain, String publisher) {
        return new Message(topic, qos, retain, new byte[] {1}, Properties.EMPTY, publisher, Message.NEVER);
    }

    /** Publishes on {@code loop} and waits until every loop has run what the publish handed to it. */
    private PublishOutcome publish(EventExecutor loop, Message... messages) throws Exception {
        List<PublishOutcome> outcomes = new ArrayList<>();
        loop.submit(() -> {
            for (Message m : messages) {
                outcomes.add(router.publish(m, false));
            }
        }).get();
        settle();
        return outcomes.get(outcomes.size() - 1);
    }

    private void settle() throws Exception {
        for (int i = 0; i < 2; i++) {
            loopA.submit(() -> { }).get();
            loopB.submit(() -> { }).get();
        }
    }

    private static List<Delivery> queued(Session s) throws Exception {
        return s.owner().submit(s::queuedDeliveries).get();
    }

    @Test
    void aMessageReachesEveryMatchingSessionOnce() throws Exception {
        Session a = session("a", loopA);
        Session b = session("b", loopB);
        Session c = session("c", loopB);
        Session other = session("other", loopA);
        subscribe(a, "s/+", 1, false, false, 0);
        subscribe(b, "s/x", 1, false, false, 0);
        subscribe(c, "#", 1, false, false, 0);
        subscribe(other, "t/#", 1, false, false, 0);
        assertThat(publish(loopA, message("s/x", 1, false, "p"))).isEqualTo(PublishOutcome.MATCHED);
        for (Session s : List.of(a, b, c)) {
            assertThat(queued(s)).extracting(d -> d.message().topic()).containsExactly("s/x");
        }
        assertThat(queued(other)).isEmpty();
        assertThat(publish(loopA, message("none/x", 1, false, "p"))).isEqualTo(PublishOutcome.MATCHED);
        assertThat(publish(loopA, message("$SYS/x", 1, false, "p"))).isEqualTo(PublishOutcome.NO_MATCH);
    }

    @Test
    void overlappingSubscriptionsOfOneSessionGiveOneDeliveryAtTheHighestQos() throws Exception {
        Session s = session("s", loopB);
        subscribe(s, "m/+", 1, false, false, 1);
        subscribe(s, "m/#", 2, false, false, 2);
        subscribe(s, "m/x", 0, false, true, 0);
        publish(loopA, message("m/x", 2, true, "p"));
        List<Delivery> got = queued(s);
        // [MQTT-3.3.5-1] one copy at the highest QoS granted, with every Subscription Identifier (5.0)
        assertThat(got).hasSize(1);
        Delivery d = got.get(0);
        assertThat(d.qos()).isEqualTo(2);
        assertThat(d.subscriptionIds()).containsExactlyInAnyOrder(1, 2);
        assertThat(d.retain()).as("one of them has Retain As Published").isTrue();
    }

    @Test
    void theDeliveryQosIsTheLowerOfPublishedAndGranted() throws Exception {
        Session s = session("s", loopA);
        subscribe(s, "q", 1, false, false, 0);
        publish(loopA, message("q", 2, false, "p"), message("q", 0, false, "p"));
        // [MQTT-3.8.4-6] QoS 2 published to a QoS 1 subscription arrives at QoS 1; QoS 0 stays 0
        assertThat(queued(s)).extracting(Delivery::qos).containsExactly(1, 0);
        assertThat(queued(s)).extracting(Delivery::retain).containsOnly(false);
    }

    @Test
    void noLocalSubscriptionsDoNotGetThePublishersOwnMessages() throws Exception {
        Session me = session("me", loopA);
        Session you = session("you", loopB);
        subscribe(me, "n/#", 1, true, false, 0);
        subscribe(you, "n/#", 1, true, false, 0);
        // [MQTT-3.8.3-3] not to the publisher's own No Local subscription
        publish(loopA, message("n/1", 1, false, "me"));
        assertThat(queued(me)).isEmpty();
        assertThat(queued(you)).hasSize(1);
    }

    @Test
    void deliversToAnotherLoopInRoutingOrderAndSettlesTheGovernor() throws Exception {
        Session far = session("far", loopB);
        subscribe(far, "o/#", 0, false, false, 0);
        Message[] burst = new Message[20];
        for (int i = 0; i < burst.length; i++) {
            burst[i] = message("o/" + i, 0, false, "p");
        }
        publish(loopA, burst);
        assertThat(queued(far)).extracting(d -> d.message().topic())
                .containsExactly(java.util.Arrays.stream(burst).map(Message::topic).toArray(String[]::new));
        assertThat(governor.pending()).as("the hand-off was processed").isZero();
    }

    /**
     * A long pass of one loop (here one task publishing 2,500 messages) hands its deliveries over every
     * {@link Outbox#MAX_BATCH}, not only at its end: the governor counts them while the pass goes on (so publishers read
     * later in the pass can be paused), the loop's own sessions get theirs during the pass, and both get every message
     * in routing order.
     */
    @Test
    void aLongPassHandsItsDeliveriesOverInBatchesWhileItGoesOn() throws Exception {
        Session far = session("far", loopB);
        Session near = session("near", loopA);
        subscribe(far, "l/#", 0, false, false, 0);
        subscribe(near, "l/#", 0, false, false, 0);
        Message[] burst = new Message[2500];
        for (int i = 0; i < burst.length; i++) {
            burst[i] = message("l/" + i, 0, false, "p");
        }
        // loop B is held busy until the pass on loop A has looked, so that what A hands over stays counted
        java.util.concurrent.CountDownLatch looked = new java.util.concurrent.CountDownLatch(1);
        loopB.execute(() -> {
            try {
                looked.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        long[] pendingMidPass = new long[1];
        int[] nearMidPass = new int[1];
        loopA.submit(() -> {
            for (int i = 0; i < burst.length; i++) {
                router.publish(burst[i], false);
                if (i == Outbox.MAX_BATCH + 10) {
                    pendingMidPass[0] = governor.pending();
                    nearMidPass[0] = near.queuedDeliveries().size();
                }
            }
            looked.countDown();
        }).get();
        settle();
        assertThat(pendingMidPass[0]).as("counted by the governor during the pass").isEqualTo(Outbox.MAX_BATCH);
        assertThat(nearMidPass[0]).as("delivered to this loop's session during the pass").isEqualTo(Outbox.MAX_BATCH);
        String[] topics = java.util.Arrays.stream(burst).map(Message::topic).toArray(String[]::new);
        assertThat(queued(far)).extracting(d -> d.message().topic()).containsExactly(topics);
        assertThat(queued(near)).extracting(d -> d.message().topic()).containsExactly(topics);
        assertThat(governor.pending()).as("the hand-off was processed").isZero();
    }

    @Test
    void anOutboxBatchDeliversInOrderBeyondItsInitialCapacity() throws Exception {
        Session s = session("b", loopA);
        Outbox.Batch batch = new Outbox.Batch(8);
        for (int i = 0; i < 20; i++) {
            batch.add(s, new Delivery(message("b/" + i, 0, false, "p"), 0, false, List.of()));
        }
        assertThat(batch.size()).isEqualTo(20);
        loopA.submit(batch::deliver).get();
        assertThat(queued(s)).extracting(d -> d.message().topic()).hasSize(20).startsWith("b/0", "b/1").endsWith("b/19");
    }

    @Test
    void theClusterHookSeesEachLocalPublishOnceAndNeverAMessageFromAPeer() throws Exception {
        List<String> forwarded = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<Integer> localGroupsSeen = new java.util.concurrent.CopyOnWriteArrayList<>();
        router.cluster((m, groups) -> {
            forwarded.add(m.topic());
            localGroupsSeen.add(groups == null ? 0 : groups.size());
            return m.topic().startsWith("remote/");
        });
        Session g = session("g", loopB);
        subscribeShared(g, "grp", "c/#");
        // a node with only remote subscribers answers as if they were local (no 0x10 on 5.0)
        assertThat(publish(loopA, message("remote/x", 1, false, "p"))).isEqualTo(PublishOutcome.MATCHED);
        assertThat(publish(loopA, message("nowhere/x", 1, false, "p"))).isEqualTo(PublishOutcome.NO_MATCH);
        publish(loopA, message("c/x", 1, false, "p"));
        // a message from a peer and a $SYS message are never forwarded
        loopA.submit(() -> router.routeFromPeer(message("remote/y", 1, false, "p"), null)).get();
        loopA.submit(() -> router.publishSystem(message("$SYS/x", 0, false, null))).get();
        assertThat(forwarded).containsExactly("remote/x", "nowhere/x", "c/x");
        assertThat(localGroupsSeen).containsExactly(0, 0, 1);
        router.cluster(null);
        assertThat(publish(loopA, message("remote/x", 1, false, "p"))).isEqualTo(PublishOutcome.NO_MATCH);
    }

    @Test
    void aMessageFromAPeerReachesOnlyTheSharedGroupsItNames() throws Exception {
        Session plain = session("plain", loopA);
        Session g1 = session("g1", loopB);
        Session g2 = session("g2", loopB);
        subscribe(plain, "p/#", 1, false, false, 0);
        subscribeShared(g1, "one", "p/#");
        subscribeShared(g2, "two", "p/+");
        loopA.submit(() -> router.routeFromPeer(message("p/x", 1, false, "remote-client"),
                java.util.Set.of(Router.groupKey("two", "p/+")))).get();
        settle();
        assertThat(queued(plain)).hasSize(1);
        assertThat(queued(g1)).as("the publishing node served group 'one' elsewhere").isEmpty();
        assertThat(queued(g2)).hasSize(1);
        loopA.submit(() -> router.routeFromPeer(message("p/x", 1, false, "remote-client"), null)).get();
        settle();
        assertThat(queued(plain)).hasSize(2);
        assertThat(queued(g1)).isEmpty();
        assertThat(queued(g2)).hasSize(1);
    }
}
