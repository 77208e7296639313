package io.starling.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGKILL of a node in the middle of QoS 1 and QoS 2 traffic from a publisher on one node to a persistent subscriber
 * on another: whether the subscriber's node or the publisher's node is killed, once it is back every message
 * acknowledged to the publisher before the kill has been delivered, each topic in order [MQTT-4.6.0-6]. QoS 2 exactly
 * once through the kill of the subscriber's node is a known gap (a disabled test below; docs/cluster.md).
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class CrashDuringTrafficTest {

    private static final Logger LOG = LoggerFactory.getLogger(CrashDuringTrafficTest.class);

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    private ClusterHarness cluster;
    private final List<V5> clients = new ArrayList<>();

    @AfterEach
    void tearDown() {
        clients.forEach(V5::close);
        if (cluster != null) {
            cluster.close();
        }
    }

    private V5 client(int node, String id) throws Exception {
        V5 c = new V5(cluster.node(node), id);
        clients.add(c);
        return c;
    }

    private static List<Integer> numbers(List<String> received, String topic) {
        List<Integer> out = new ArrayList<>();
        for (String s : received) {
            if (s.startsWith(topic + "=")) {
                out.add(Integer.parseInt(s.substring(topic.length() + 1)));
            }
        }
        return out;
    }

    /** What the subscriber received, and what was acknowledged before the kill (per QoS). */
    private record Outcome(List<Integer> got1, List<Integer> got2, List<Integer> before1, List<Integer> before2,
            List<String> dups) {
    }

    @Test
    void whatWasAcknowledgedBeforeTheKillReachesTheSubscriberOnceItsNodeIsBack() throws Exception {
        Outcome o = killTheSubscribersNodeDuringTraffic();
        assertThat(o.got1()).as("QoS 1: every message acknowledged before the kill").containsAll(o.before1());
        assertThat(o.got2()).as("QoS 2: every message acknowledged before the kill").containsAll(o.before2());
        assertThat(firstOccurrences(o.got1())).as("QoS 1 in order (first deliveries)").isSorted();
        assertThat(firstOccurrences(o.got2())).as("QoS 2 in order (first deliveries)").isSorted();
    }

    @Test
    @Disabled("the node link now stores what each node applied from each peer and drops a resend after a restart"
            + " (AppliedAcrossRestartTest, OutboxAcrossRestartTest); this three-process run still sees an occasional"
            + " single duplicate near the kill, cause not found yet (docs/cluster.md)")
    void qos2StaysExactlyOnceThroughTheKill() throws Exception {
        Outcome o = killTheSubscribersNodeDuringTraffic();
        assertThat(o.got2()).as("QoS 2 exactly once [MQTT-4.3.3-2]; arrived with DUP=1: %s", o.dups())
                .doesNotHaveDuplicates();
    }

    @Test
    void whatWasAcknowledgedBeforeThePublishersNodeWasKilledReachesTheSubscriberOnceThatNodeIsBack() throws Exception {
        cluster = new ClusterHarness(dir, 3, 2).startAll();
        V5 sub = client(1, "pk-sub").persistent().connect().subscribe("pk/q1", 1).subscribe("pk/q2", 2);
        V5 pub = client(0, "pk-pub").connect();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            pub.publish("pk/q1", "-1", 1);
            return sub.received.contains("pk/q1=-1");
        });
        List<Integer> acked1 = new CopyOnWriteArrayList<>();
        List<Integer> acked2 = new CopyOnWriteArrayList<>();
        Thread publisher = new Thread(() -> {
            for (int i = 0; ; i++) {
                try {
                    pub.publish("pk/q1", String.valueOf(i), 1); // returns on PUBACK
                    acked1.add(i);
                    pub.publish("pk/q2", String.valueOf(i), 2); // returns on PUBCOMP
                    acked2.add(i);
                } catch (Exception e) {
                    return; // its node is gone
                }
            }
        }, "pk-publisher");
        publisher.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> acked2.size() >= 200);
        cluster.node(0).kill(); // SIGKILL of the publisher's node, mid-traffic
        publisher.join(60_000);
        assertThat(publisher.isAlive()).isFalse();
        cluster.node(0).start();
        ClusterHarness.awaitMembers(3, cluster.node(0), cluster.node(1), cluster.node(2));
        List<String> received = new ArrayList<>();
        int last1 = acked1.get(acked1.size() - 1);
        int last2 = acked2.get(acked2.size() - 1);
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            sub.received.drainTo(received);
            return numbers(received, "pk/q1").contains(last1) && numbers(received, "pk/q2").contains(last2);
        });
        List<Integer> got1 = numbers(received, "pk/q1");
        List<Integer> got2 = numbers(received, "pk/q2");
        got1.removeIf(n -> n < 0);
        assertThat(got1).as("QoS 1: every message acknowledged before the kill").containsAll(acked1);
        assertThat(got2).as("QoS 2: every message acknowledged before the kill").containsAll(acked2);
        assertThat(firstOccurrences(got1)).as("QoS 1 in order (first deliveries)").isSorted();
        assertThat(firstOccurrences(got2)).as("QoS 2 in order (first deliveries)").isSorted();
    }

    private static List<Integer> firstOccurrences(List<Integer> got) {
        List<Integer> firsts = new ArrayList<>();
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int n : got) {
            if (seen.add(n)) {
                firsts.add(n);
            }
        }
        return firsts;
    }

    private Outcome killTheSubscribersNodeDuringTraffic() throws Exception {
        cluster = new ClusterHarness(dir, 3, 2).startAll();
        V5 sub = client(1, "traffic-sub").persistent().connect().subscribe("traffic/q1", 1).subscribe("traffic/q2", 2);
        V5 pub = client(0, "traffic-pub").connect();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            pub.publish("traffic/probe", "p", 0);
            sub.subscribe("traffic/probe", 0);
            return sub.received.contains("traffic/probe=p");
        });
        List<String> received = new CopyOnWriteArrayList<>();
        List<Integer> acked1 = new CopyOnWriteArrayList<>();
        List<Integer> acked2 = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        Thread publisher = new Thread(() -> {
            for (int i = 0; !stop.get(); i++) {
                try {
                    pub.publish("traffic/q1", String.valueOf(i), 1); // returns on PUBACK
                    acked1.add(i);
                    pub.publish("traffic/q2", String.valueOf(i), 2); // returns on PUBCOMP
                    acked2.add(i);
                } catch (Exception e) {
                    return;
                }
            }
        }, "traffic-publisher");
        publisher.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> acked2.size() >= 200);
        List<Integer> before1 = List.copyOf(acked1);
        List<Integer> before2 = List.copyOf(acked2);
        cluster.node(1).kill(); // SIGKILL of the subscriber's node, mid-traffic
        sub.received.drainTo(received);
        int target = acked2.size() + 50;
        await().atMost(Duration.ofSeconds(60)).until(() -> acked2.size() >= target); // the publisher's node goes on
        stop.set(true);
        publisher.join(30_000);

        cluster.node(1).start();
        ClusterHarness.awaitMembers(3, cluster.node(0), cluster.node(1), cluster.node(2));
        // the same client (its packet-id state of QoS 2 messages it received is part of exactly once)
        await().atMost(Duration.ofSeconds(30)).until(() -> !sub.client.isConnected());
        V5 back = sub.connect();
        assertThat(back.sessionPresent()).as("the session survived on its node's disk").isTrue();
        int last1 = before1.get(before1.size() - 1);
        int last2 = before2.get(before2.size() - 1);
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            back.received.drainTo(received);
            return numbers(received, "traffic/q1").contains(last1) && numbers(received, "traffic/q2").contains(last2);
        });
        List<Integer> got1 = numbers(received, "traffic/q1");
        List<Integer> got2 = numbers(received, "traffic/q2");
        LOG.info("acknowledged before the kill: {} + {}; received: {} + {} (of {} + {} acknowledged in all)",
                before1.size(), before2.size(), got1.size(), got2.size(), acked1.size(), acked2.size());
        return new Outcome(got1, got2, before1, before2, List.copyOf(sub.duplicates));
    }
}
