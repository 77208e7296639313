package io.starling.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client id is unique cluster-wide: a client connecting to one node with the id of a client connected to another
 * takes over [MQTT-3.1.4-2]; the old connection gets DISCONNECT 0x8E Session taken over (5.0), the persistent session
 * moves with its subscriptions and the messages queued for it, and the client gets Session Present 1 [MQTT-3.2.2-2].
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SessionsAcrossNodesTest {

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

    @Test
    void aClientConnectingToAnotherNodeTakesTheSessionOverWithItsSubscriptions() throws Exception {
        V5 first = client(0, "mover").persistent().connect().subscribe("move/a", 1).subscribe("move/b/+", 2);
        assertThat(first.sessionPresent()).isFalse();

        V5 second = client(1, "mover").persistent().connect();
        assertThat(second.sessionPresent()).as("Session Present after a take-over from another node").isTrue();
        assertThat(first.disconnects.poll(10, TimeUnit.SECONDS)).as("the old connection's DISCONNECT reason")
                .isEqualTo(0x8E);

        // the subscriptions moved with the session: a message published on the new node reaches it
        V5 pub = client(1, "mover-pub").connect();
        pub.publish("move/a", "one", 1);
        pub.publish("move/b/x", "two", 2);
        assertThat(second.received.poll(10, TimeUnit.SECONDS)).isEqualTo("move/a=one");
        assertThat(second.received.poll(10, TimeUnit.SECONDS)).isEqualTo("move/b/x=two");

        // and back again, to a third node
        V5 third = client(2, "mover").persistent().connect();
        assertThat(third.sessionPresent()).isTrue();
        assertThat(second.disconnects.poll(10, TimeUnit.SECONDS)).isEqualTo(0x8E);
        V5 pub3 = client(2, "mover-pub3").connect();
        pub3.publish("move/a", "three", 1);
        assertThat(third.received.poll(10, TimeUnit.SECONDS)).isEqualTo("move/a=three");
    }

    @Test
    void theMessagesQueuedForASessionMoveWithItInOrder() throws Exception {
        V5 first = client(0, "queued").persistent().connect().subscribe("queue/one", 1).subscribe("queue/two", 2);
        first.client.disconnect(); // a normal DISCONNECT: the session stays on n1, and queues what comes
        V5 pub = client(0, "queued-pub").connect();
        for (int i = 0; i < 10; i++) {
            pub.publish("queue/one", "q1-" + i, 1); // returns on PUBACK: queued in n1's store by then
        }
        for (int i = 0; i < 5; i++) {
            pub.publish("queue/two", "q2-" + i, 2);
        }

        V5 moved = client(1, "queued").persistent().connect();
        assertThat(moved.sessionPresent()).isTrue();
        List<String> got = new ArrayList<>();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> {
            moved.received.drainTo(got);
            return got.size() >= 15;
        });
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            expected.add("queue/one=q1-" + i);
        }
        for (int i = 0; i < 5; i++) {
            expected.add("queue/two=q2-" + i);
        }
        // in order per topic [MQTT-4.6.0-6], each once (QoS 2 exactly once [MQTT-4.3.3-2])
        assertThat(got).containsExactlyElementsOf(expected);
    }

    @Test
    void aQos2PublishAwaitingPubrelIsNotRoutedAgainAfterMovingToAnotherNode() throws Exception {
        V5 sub = client(1, "q2in-sub").connect().subscribe("q2in/t", 2);
        V5 probe = client(0, "q2in-probe").connect();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .pollInterval(java.time.Duration.ofMillis(200)).until(() -> {
                    probe.publish("q2in/t", "probe", 1);
                    return sub.received.contains("q2in/t=probe");
                });
        sub.received.clear();
        // 3.1.1 raw client on n1: a persistent session, a QoS 2 PUBLISH (packet id 7), PUBREC, then gone before PUBREL
        try (io.starling.testkit.RawClient c = io.starling.testkit.RawClient.connect("127.0.0.1", cluster.node(0).mqttPort)) {
            c.send(io.starling.it.Packets.connect(4, "q2in", 0, 60));
            c.expectPacket(0x20, 0x02, 0x00, 0x00);
            c.send(io.starling.it.Packets.publish(0x34, "q2in/t", 7, "once"));
            c.expectPacket(0x50, 0x02, 0x00, 0x07); // PUBREC
        }
        // the same client id on n2 resends the PUBLISH with DUP=1 [MQTT-4.3.3-2]: acknowledged, not routed again
        try (io.starling.testkit.RawClient c = io.starling.testkit.RawClient.connect("127.0.0.1", cluster.node(1).mqttPort)) {
            c.send(io.starling.it.Packets.connect(4, "q2in", 0, 60));
            c.expectPacket(0x20, 0x02, 0x01, 0x00); // Session Present 1
            c.send(io.starling.it.Packets.publish(0x3C, "q2in/t", 7, "once"));
            c.expectPacket(0x50, 0x02, 0x00, 0x07);
            c.send(0x62, 0x02, 0x00, 0x07); // PUBREL
            c.expectPacket(0x70, 0x02, 0x00, 0x07); // PUBCOMP
            c.send(io.starling.it.Packets.publish(0x32, "q2in/t", 8, "marker"));
            c.expectPacket(0x40, 0x02, 0x00, 0x08);
        }
        List<String> got = new ArrayList<>();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> {
            sub.received.drainTo(got);
            return got.contains("q2in/t=marker");
        });
        got.removeIf("q2in/t=probe"::equals); // probes still under way when the route was found
        assertThat(got).as("the QoS 2 message once, then the marker").containsExactly("q2in/t=once", "q2in/t=marker");
    }

    @Test
    void cleanStartOnAnotherNodeDiscardsTheSession() throws Exception {
        V5 first = client(0, "cleaner").persistent().connect().subscribe("clean/a", 1);
        V5 second = new V5(cluster.node(2), "cleaner");
        clients.add(second);
        second.connect(); // Clean Start 1 (Paho's default)
        assertThat(second.sessionPresent()).as("Session Present with Clean Start [MQTT-3.2.2-2]").isFalse();
        assertThat(first.disconnects.poll(10, TimeUnit.SECONDS)).isEqualTo(0x8E);
        // nothing of the old subscription is left on the new node
        V5 pub = client(2, "cleaner-pub").connect();
        second.subscribe("clean/marker", 1);
        pub.publish("clean/a", "old-subscription", 1);
        pub.publish("clean/marker", "marker", 1);
        assertThat(second.received.poll(10, TimeUnit.SECONDS)).isEqualTo("clean/marker=marker");
    }
}
