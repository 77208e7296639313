package io.starling.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL of the publisher's node in the middle of QoS 1 and QoS 2 traffic to a persistent subscriber on another
 * node: every message acknowledged to the publisher before the kill reaches the subscriber once the node is back (its
 * stored outbox is sent again; the subscriber's node drops what it already had), each topic in order
 * [MQTT-4.6.0-6], QoS 2 once [MQTT-4.3.3-2].
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class PublisherCrashTest {

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

    @Test
    void whatWasAcknowledgedBeforeThePublishersNodeIsKilledArrivesOnceItIsBack() throws Exception {
        cluster = new ClusterHarness(dir, 3, 2).startAll();
        V5 sub = client(1, "pk-sub").persistent().connect().subscribe("pk/q1", 1).subscribe("pk/q2", 2);
        V5 pub = client(0, "pk-pub").connect();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            pub.publish("pk/probe", "p", 0);
            sub.subscribe("pk/probe", 0);
            return sub.received.contains("pk/probe=p");
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
        publisher.join(30_000);
        assertThat(publisher.isAlive()).isFalse();
        int last1 = acked1.get(acked1.size() - 1);
        int last2 = acked2.get(acked2.size() - 1);

        cluster.node(0).start();
        ClusterHarness.awaitMembers(3, cluster.node(0), cluster.node(1), cluster.node(2));
        List<String> received = new CopyOnWriteArrayList<>();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            sub.received.drainTo(received);
            return numbers(received, "pk/q1").contains(last1) && numbers(received, "pk/q2").contains(last2);
        });
        List<Integer> got1 = numbers(received, "pk/q1");
        List<Integer> got2 = numbers(received, "pk/q2");
        assertThat(got1).as("QoS 1: every message acknowledged before the kill").containsAll(acked1);
        assertThat(got2).as("QoS 2: every message acknowledged before the kill").containsAll(acked2);
        assertThat(got2).as("QoS 2 exactly once [MQTT-4.3.3-2]").doesNotHaveDuplicates();
        assertThat(got1.stream().distinct().toList()).as("QoS 1 in order [MQTT-4.6.0-6]").isSorted();
        assertThat(got2).as("QoS 2 in order [MQTT-4.6.0-6]").isSorted();
    }
}
