package io.starling.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.it.storage.CrashClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGKILL of a node in the middle of QoS 1 and QoS 2 traffic from a publisher on one node to a persistent subscriber
 * on another: whether the subscriber's node or the publisher's node is killed, once it is back every message
 * acknowledged to the publisher before the kill has been delivered, each topic in order [MQTT-4.6.0-6], and QoS 2
 * exactly once [MQTT-4.3.3-2]. Through the kill of the subscriber's node the subscriber is {@link CrashClient}, a
 * receiver that keeps its QoS 2 packet ids until PUBREL across connections as 4.3.3 asks: the restarted node re-sends
 * an unreleased QoS 2 PUBLISH with its packet id and DUP=1 [MQTT-4.4.0-1], which Paho's 5.0 client would pass to the
 * application a second time.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class CrashDuringTrafficTest {

    private static final Logger LOG = LoggerFactory.getLogger(CrashDuringTrafficTest.class);

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    private ClusterHarness cluster;
    private CrashClient subscriber;
    private final List<V5> clients = new ArrayList<>();

    @AfterEach
    void tearDown() {
        clients.forEach(V5::close);
        if (subscriber != null) {
            subscriber.stop();
        }
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

    @Test
    void whatWasAcknowledgedBeforeTheKillReachesTheSubscriberOnceItsNodeIsBackQos2ExactlyOnce() throws Exception {
        cluster = new ClusterHarness(dir, 3, 2).startAll();
        CrashClient sub = new CrashClient("traffic-sub", cluster.node(1).mqttPort)
                .subscribe("traffic/q1", 1).subscribe("traffic/q2", 2).start();
        subscriber = sub;
        await().atMost(Duration.ofSeconds(30)).until(sub::isConnected);
        V5 pub = client(0, "traffic-pub").connect();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            pub.publish("traffic/q1", "-1", 1); // until node 1 has the subscriber's route
            return sub.received("traffic/q1").contains(-1);
        });
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
        int target = acked2.size() + 50;
        await().atMost(Duration.ofSeconds(60)).until(() -> acked2.size() >= target); // the publisher's node goes on
        stop.set(true);
        publisher.join(30_000);

        cluster.node(1).start(); // the subscriber reconnects to it by itself, to the session on its disk
        ClusterHarness.awaitMembers(3, cluster.node(0), cluster.node(1), cluster.node(2));
        int last1 = before1.get(before1.size() - 1);
        int last2 = before2.get(before2.size() - 1);
        await().atMost(Duration.ofSeconds(60)).until(() -> sub.received("traffic/q1").contains(last1)
                && sub.received("traffic/q2").contains(last2));
        List<Integer> got1 = sub.received("traffic/q1");
        List<Integer> got2 = sub.received("traffic/q2");
        got1.removeIf(n -> n < 0);
        LOG.info("acknowledged before the kill: {} + {}; received: {} + {} (of {} + {} acknowledged in all)",
                before1.size(), before2.size(), got1.size(), got2.size(), acked1.size(), acked2.size());
        assertThat(sub.sessionLost()).as("the session survived on its node's disk [MQTT-3.2.2-2]").isFalse();
        assertThat(got1).as("QoS 1: every message acknowledged before the kill").containsAll(before1);
        assertThat(got2).as("QoS 2: every message acknowledged before the kill").containsAll(before2);
        assertThat(firstOccurrences(got1)).as("QoS 1 in order (first deliveries)").isSorted();
        Integer dup = got2.stream().filter(n -> got2.indexOf(n) != got2.lastIndexOf(n)).findFirst().orElse(null);
        assertThat(got2).as("QoS 2 exactly once [MQTT-4.3.3-2]; the receiver's QoS 2 packets:%n%s",
                dup == null ? "" : sub.eventsAround(dup)).doesNotHaveDuplicates().isSorted();
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
}
