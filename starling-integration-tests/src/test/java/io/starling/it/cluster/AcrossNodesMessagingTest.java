package io.starling.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three broker processes as one broker: publish on any node, receive on any node (QoS 0/1/2, order kept per publisher
 * [MQTT-4.6.0-6], QoS 2 exactly once [MQTT-4.3.3-2]); retained messages from any node, the last writer winning; a
 * shared subscription group with members on two nodes gets each message once (5.0 4.8.2).
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class AcrossNodesMessagingTest {

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    static Path dir;

    private static ClusterHarness cluster;
    private final List<V5> clients = new ArrayList<>();

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = new ClusterHarness(dir, 3, 2).startAll();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @AfterEach
    void closeClients() {
        clients.forEach(V5::close);
    }

    private V5 client(int node, String id) throws Exception {
        V5 c = new V5(cluster.node(node), id);
        clients.add(c);
        return c;
    }

    /** Publishes probes on {@code topic} from {@code pub} until {@code sub} has one: the route has reached that node. */
    private static void awaitRoute(V5 pub, V5 sub, String topic) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            pub.publish(topic, "probe", 1);
            return sub.received.contains(topic + "=probe");
        });
        sub.received.clear();
    }

    @Test
    void publishOnOneNodeReceiveOnAnotherAtEveryQos() throws Exception {
        V5 sub = client(1, "x-sub").connect().subscribe("x/q/+", 2);
        V5 pub = client(0, "x-pub").connect();
        awaitRoute(pub, sub, "x/q/probe");
        int n = 100;
        for (int i = 0; i < n; i++) {
            pub.publish("x/q/" + (i % 3), String.valueOf(i), i % 3);
        }
        List<String> got = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            sub.received.drainTo(got);
            return got.size() >= n;
        });
        for (int qos = 0; qos < 3; qos++) {
            List<Integer> seq = new ArrayList<>();
            for (String s : got) {
                if (s.startsWith("x/q/" + qos + "=")) {
                    seq.add(Integer.parseInt(s.substring(s.indexOf('=') + 1)));
                }
            }
            assertThat(seq).as("QoS %d in order, each once", qos).isSorted().doesNotHaveDuplicates();
            if (qos > 0) {
                int q = qos;
                long expected = java.util.stream.IntStream.range(0, n).filter(i -> i % 3 == q).count();
                assertThat(seq).as("QoS %d: every message", qos).hasSize((int) expected);
            }
        }
        assertThat(got).as("nothing twice").doesNotHaveDuplicates();
    }

    @Test
    void retainedFromAnyNodeLastWriterWins() throws Exception {
        V5 p1 = client(0, "r-pub1").connect();
        p1.client.publish("ret/a", "from-n1".getBytes(java.nio.charset.StandardCharsets.UTF_8), 1, true);
        // a subscriber on another node, arriving later, gets it as a retained message [MQTT-3.3.1-6]
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            try (V5 s = new V5(cluster.node(2), "r-sub3")) {
                s.connect().subscribe("ret/a", 1);
                String m = s.received.poll(2, TimeUnit.SECONDS);
                return "ret/a=from-n1".equals(m);
            }
        });
        V5 p2 = client(1, "r-pub2").connect();
        p2.client.publish("ret/a", "from-n2".getBytes(java.nio.charset.StandardCharsets.UTF_8), 1, true);
        for (int node : new int[] {0, 2}) {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
                try (V5 s = new V5(cluster.node(node), "r-sub-" + node)) {
                    s.connect().subscribe("ret/a", 1);
                    return "ret/a=from-n2".equals(s.received.poll(2, TimeUnit.SECONDS));
                }
            });
        }
        // removed from a third node (empty payload [MQTT-3.3.1-10]): gone everywhere
        V5 p3 = client(2, "r-pub3").connect();
        p3.client.publish("ret/a", new byte[0], 1, true);
        p3.client.publish("ret/marker", "m".getBytes(java.nio.charset.StandardCharsets.UTF_8), 1, true);
        for (int node : new int[] {0, 1}) {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
                try (V5 s = new V5(cluster.node(node), "r-check-" + node)) {
                    s.connect().subscribe("ret/+", 1);
                    List<String> got = new ArrayList<>();
                    String m;
                    while ((m = s.received.poll(1, TimeUnit.SECONDS)) != null) {
                        got.add(m);
                    }
                    return got.equals(List.of("ret/marker=m"));
                }
            });
        }
    }

    @Test
    void aSharedGroupAcrossNodesGetsEachMessageOnce() throws Exception {
        V5 m1 = client(0, "g-m1").connect().subscribe("$share/g/sh/t", 1);
        V5 m2 = client(1, "g-m2").connect().subscribe("$share/g/sh/t", 1);
        V5 pub = client(2, "g-pub").connect();
        // the group is known on the publisher's node once a probe reaches a member
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            pub.publish("sh/t", "probe", 1);
            return m1.received.contains("sh/t=probe") || m2.received.contains("sh/t=probe");
        });
        // probes still under way are left out of the count below
        int n = 40;
        for (int i = 0; i < n; i++) {
            pub.publish("sh/t", "g" + i, 1);
        }
        Set<String> seen = new HashSet<>();
        List<String> all = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            m1.received.drainTo(all);
            m2.received.drainTo(all);
            all.removeIf(s -> s.equals("sh/t=probe"));
            seen.addAll(all);
            return seen.size() >= n;
        });
        assertThat(all).as("each message to one member of the group, once").doesNotHaveDuplicates().hasSize(n);
    }
}
