package io.starling.cluster.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.cluster.link.PeerStats;
import io.starling.codec.ReasonCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three nodes in one JVM (a broker, an embedded Hazelcast member and the cluster messaging each; the node link on
 * real sockets): routes replicated, messages crossing nodes once per node, in order, at every QoS, shared groups
 * across nodes, and members leaving.
 */
class ClusterMessagingTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static ClusterTestNode a;
    private static ClusterTestNode b;
    private static ClusterTestNode c;

    @BeforeAll
    static void startCluster() throws Exception {
        List<Integer> ports = List.of(ClusterTestNode.freePort(), ClusterTestNode.freePort(), ClusterTestNode.freePort());
        a = new ClusterTestNode("a", ports.get(0), null);
        b = new ClusterTestNode("b", ports.get(1), null);
        c = new ClusterTestNode("c", ports.get(2), null);
        String name = "starling-" + UUID.randomUUID();
        CompletableFuture.allOf(CompletableFuture.runAsync(() -> a.start(name, ports)),
                CompletableFuture.runAsync(() -> b.start(name, ports)),
                CompletableFuture.runAsync(() -> c.start(name, ports))).join();
        await().atMost(Duration.ofSeconds(60)).until(() -> a.hz.getCluster().getMembers().size() == 3
                && b.hz.getCluster().getMembers().size() == 3 && c.hz.getCluster().getMembers().size() == 3);
        for (ClusterTestNode n : List.of(a, b, c)) {
            for (ClusterTestNode m : List.of(a, b, c)) {
                n.messaging.memberUp(m.name, m.link());
            }
        }
    }

    @AfterAll
    static void stopCluster() {
        for (ClusterTestNode n : new ClusterTestNode[] {a, b, c}) {
            if (n != null) {
                n.close();
            }
        }
    }

    private static PeerStats stats(ClusterTestNode from, ClusterTestNode to) {
        return from.messaging.peers().stream().filter(p -> p.peer().equals(to.name)).findFirst().orElse(null);
    }

    private static long sent(ClusterTestNode from, ClusterTestNode to) {
        PeerStats s = stats(from, to);
        return s == null ? 0 : s.messagesSent();
    }

    private static void awaitRoute(ClusterTestNode at, ClusterTestNode to, String topic, boolean present) {
        await().atMost(WAIT).until(() -> at.messaging.routesTo(to.name, topic) == present);
    }

    @Test
    void qos1MessagesCrossNodesInOrderOncePerSubscriber() throws Exception {
        TestClient sub = TestClient.connect(b, "q1-sub");
        sub.subscribe("q1/#", 1);
        awaitRoute(a, b, "q1/x", true);
        TestClient pub = TestClient.connect(a, "q1-pub");
        long toC = sent(a, c);
        for (int k = 0; k < 5; k++) {
            pub.publishAll("q1/x", 1, k * 400, (k + 1) * 400);
        }
        await().atMost(WAIT).until(() -> sub.received.size() >= 2000);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            expected.add(Integer.toString(i));
        }
        assertThat(sub.payloads()).isEqualTo(expected);
        assertThat(sub.received).allMatch(p -> p.qos() == 1);
        assertThat(sent(a, c)).isEqualTo(toC); // c has no route for it
    }

    @Test
    void aNodeGetsAMessageOnceHoweverManyOfItsClientsSubscribe() throws Exception {
        List<TestClient> subs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            TestClient s = TestClient.connect(b, "fan-b" + i);
            s.subscribe("fan/+", 0);
            subs.add(s);
        }
        for (int i = 0; i < 2; i++) {
            TestClient s = TestClient.connect(c, "fan-c" + i);
            s.subscribe(i == 0 ? "fan/x" : "fan/#", 1);
            subs.add(s);
        }
        awaitRoute(a, b, "fan/x", true);
        awaitRoute(a, c, "fan/x", true);
        long toB = sent(a, b);
        long toC = sent(a, c);
        long bToC = sent(b, c);
        TestClient pub = TestClient.connect(a, "fan-pub");
        pub.publishAll("fan/x", 1, 0, 100);
        await().atMost(WAIT).until(() -> subs.stream().allMatch(s -> s.received.size() >= 100));
        assertThat(subs).allMatch(s -> s.received.size() == 100);
        await().atMost(WAIT).until(() -> stats(a, b).waiting() == 0 && stats(a, c).waiting() == 0);
        assertThat(sent(a, b) - toB).isEqualTo(100);
        assertThat(sent(a, c) - toC).isEqualTo(100);
        // what b received from a is not forwarded again, though c subscribes too
        assertThat(sent(b, c)).isEqualTo(bToC);
    }

    @Test
    void qos0AndQos2CrossNodesExactlyAsPublished() throws Exception {
        TestClient sub = TestClient.connect(c, "q2-sub");
        sub.subscribe("q2/+", 2);
        awaitRoute(b, c, "q2/x", true);
        TestClient pub = TestClient.connect(b, "q2-pub");
        assertThat(pub.publish("q2/zero", 0, "z")).isEqualTo(ReasonCode.SUCCESS);
        assertThat(pub.publish("q2/two", 2, "t")).isEqualTo(ReasonCode.SUCCESS);
        await().atMost(WAIT).until(() -> sub.received.size() >= 2);
        assertThat(sub.received).extracting(p -> p.topic() + ":" + p.qos())
                .containsExactly("q2/zero:0", "q2/two:2");
    }

    @Test
    void aRemoteSubscriberCountsAsAMatchAndAnUnsubscribeRemovesTheRoute() throws Exception {
        TestClient pub = TestClient.connect(a, "m-pub");
        assertThat(pub.publish("match/x", 1, "nobody")).isEqualTo(ReasonCode.NO_MATCHING_SUBSCRIBERS);
        TestClient sub = TestClient.connect(c, "m-sub");
        sub.subscribe("match/x", 1);
        awaitRoute(a, c, "match/x", true);
        // 5.0: a subscriber on another node is a matching subscriber (no 0x10)
        assertThat(pub.publish("match/x", 1, "one")).isEqualTo(ReasonCode.SUCCESS);
        await().atMost(WAIT).until(() -> sub.received.size() == 1);
        sub.unsubscribe("match/x");
        awaitRoute(a, c, "match/x", false);
        long toC = sent(a, c);
        assertThat(pub.publish("match/x", 1, "two")).isEqualTo(ReasonCode.NO_MATCHING_SUBSCRIBERS);
        assertThat(sent(a, c)).isEqualTo(toC);
        assertThat(sub.payloads()).containsExactly("one");
    }

    @Test
    void aSharedGroupAcrossNodesGetsEachMessageOnceAndPrefersLocalMembers() throws Exception {
        List<TestClient> members = new ArrayList<>();
        for (String id : List.of("g-b1", "g-b2")) {
            TestClient m = TestClient.connect(b, id);
            m.subscribe("$share/grp/sh/#", 1);
            members.add(m);
        }
        TestClient onC = TestClient.connect(c, "g-c1");
        onC.subscribe("$share/grp/sh/#", 1);
        members.add(onC);
        awaitRoute(a, b, "sh/x", true);
        awaitRoute(a, c, "sh/x", true);
        TestClient pub = TestClient.connect(a, "g-pub");
        pub.publishAll("sh/x", 1, 0, 300);
        await().atMost(WAIT).until(() -> members.stream().mapToInt(m -> m.received.size()).sum() >= 300);
        Set<String> seen = new HashSet<>();
        int total = 0;
        for (TestClient m : members) {
            seen.addAll(m.payloads());
            total += m.received.size();
        }
        assertThat(total).isEqualTo(300); // each message to exactly one member cluster-wide
        assertThat(seen).hasSize(300);
        assertThat(members.get(0).received.size() + members.get(1).received.size()).isPositive();
        assertThat(onC.received).isNotEmpty();
        // with a member on the publisher's node, it takes every message
        TestClient onA = TestClient.connect(a, "g-a1");
        onA.subscribe("$share/grp/sh/#", 1);
        int before = total;
        pub.publishAll("sh/x", 1, 300, 350);
        await().atMost(WAIT).until(() -> onA.received.size() >= 50);
        assertThat(members.stream().mapToInt(m -> m.received.size()).sum()).isEqualTo(before);
        assertThat(onA.received).hasSize(50);
    }

    @Test
    void nothingIsRoutedToAMemberThatLeftAndItsRoutesComeBackWithIt() throws Exception {
        TestClient sub = TestClient.connect(c, "down-sub");
        sub.subscribe("down/x", 1);
        awaitRoute(b, c, "down/x", true);
        b.messaging.memberDown("c");
        assertThat(b.messaging.routesTo("c", "down/x")).isFalse();
        TestClient pub = TestClient.connect(b, "down-pub");
        assertThat(pub.publish("down/x", 1, "lost")).isEqualTo(ReasonCode.NO_MATCHING_SUBSCRIBERS);
        b.messaging.memberUp("c", c.link());
        awaitRoute(b, c, "down/x", true);
        await().atMost(WAIT).until(() -> stats(b, c).isUp());
        assertThat(pub.publish("down/x", 1, "back")).isEqualTo(ReasonCode.SUCCESS);
        await().atMost(WAIT).until(() -> sub.received.size() >= 1);
        assertThat(sub.payloads()).containsExactly("back");
    }
}
