package io.starling.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.it.Packets;
import io.starling.testkit.RawClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node lost: killed with SIGKILL, the others drop it, publish the Wills of its clients exactly once (a delayed Will
 * after its Will Delay Interval), and its clients find their persistent subscriptions on another node. Stopped with
 * SIGTERM, it leaves gracefully: the Wills of its clients are published once, by itself, and not again by the others.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class NodeLossTest {

    /** Messages queued on a node for sessions whose clients move elsewhere while it is down. */
    private static final int QUEUED = 20;

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

    /** Watchers of {@code will/#} on n1 and n2; returns once messages published on either node reach both. */
    private List<V5> watchers() throws Exception {
        V5 w1 = client(0, "watch-1").connect().subscribe("will/#", 1);
        V5 w2 = client(1, "watch-2").connect().subscribe("will/#", 1);
        V5 p1 = client(0, "probe-1").connect();
        V5 p2 = client(1, "probe-2").connect();
        // routes between nodes are replicated asynchronously: probe until each watcher hears both nodes
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            p1.publish("will/probe", "from-n1", 1);
            p2.publish("will/probe", "from-n2", 1);
            return w1.received.contains("will/probe=from-n2") && w2.received.contains("will/probe=from-n1");
        });
        return List.of(w1, w2);
    }

    /** Sends one more probe from each node and waits for both watchers to have both: what was sent before is in. */
    private static void flush(List<V5> watchers, V5 p1, V5 p2, String tag) throws Exception {
        p1.publish("will/flush", tag + "-n1", 1);
        p2.publish("will/flush", tag + "-n2", 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> watchers.stream().allMatch(w ->
                w.received.contains("will/flush=" + tag + "-n1") && w.received.contains("will/flush=" + tag + "-n2")));
    }

    /** Reads {@code n} packets that must be QoS 1 PUBLISH packets (3.1.1), acknowledging none; their payloads. */
    private static List<String> qos1Payloads(RawClient c, int n) {
        List<String> payloads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] p = c.readPacket(Duration.ofSeconds(10));
            assertThat(p).as("PUBLISH %d of %d", i + 1, n).isNotNull();
            assertThat(p[0] & 0xF6).as("a QoS 1 PUBLISH (DUP and RETAIN aside)").isEqualTo(0x32);
            int at = Packets.bodyOffset(p);
            int payloadAt = at + 2 + ((p[at] & 0xFF) << 8 | (p[at + 1] & 0xFF)) + 2; // topic, packet id
            payloads.add(new String(p, payloadAt, p.length - payloadAt, java.nio.charset.StandardCharsets.UTF_8));
        }
        return payloads;
    }

    private static long count(V5 w, String message) {
        return w.received.stream().filter(message::equals).count();
    }

    @Test
    void sigkillTheOthersPublishTheWillsOnceAndTheClientsResumeElsewhere() throws Exception {
        cluster = new ClusterHarness(dir, 3, 2).startAll();
        List<V5> watchers = watchers();
        V5 victim = client(2, "victim").persistent().will("will/victim", "gone", 0).connect().subscribe("lost/sub", 1);
        client(2, "victim-delayed").persistent().will("will/delayed", "gone-later", 2).connect();
        // two persistent sessions of n3 whose clients are away, with messages queued for them in n3's store (published
        // on n3 itself: a PUBACK from n3 means the message is in n3's store; one from another node would not)
        for (String id : List.of("queued-on", "queued-off")) {
            client(2, id).persistent().connect().subscribe("lost/queued", 1).client.disconnect();
        }
        V5 queuePub = client(2, "queue-pub").connect();
        for (int i = 0; i < QUEUED; i++) {
            queuePub.publish("lost/queued", "m" + i, 1); // returns on PUBACK
        }

        cluster.node(2).kill(); // SIGKILL
        ClusterHarness.awaitMembers(2, cluster.node(0), cluster.node(1));
        for (V5 w : watchers) {
            await().atMost(Duration.ofSeconds(30)).until(() -> w.received.contains("will/victim=gone")
                    && w.received.contains("will/delayed=gone-later"));
        }
        flush(watchers, clients.get(2), clients.get(3), "after-kill");
        for (V5 w : watchers) {
            assertThat(count(w, "will/victim=gone")).as("the Will, once").isEqualTo(1);
            assertThat(count(w, "will/delayed=gone-later")).as("the delayed Will, once").isEqualTo(1);
        }
        assertThat(victim.client.isConnected()).isFalse();

        // the victim's client reconnects to n1: its session and subscription are there [MQTT-3.2.2-2]
        V5 back = client(0, "victim").persistent().connect();
        assertThat(back.sessionPresent()).isTrue();
        V5 pub = client(1, "lost-pub").connect();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            pub.publish("lost/sub", "found", 1);
            return back.received.contains("lost/sub=found");
        });

        // the clients of the queued sessions come back on n2 while n3 is down: their sessions and subscriptions are
        // there [MQTT-3.2.2-2], their queued messages not yet; one stays connected, the other goes away again
        V5 queuedOn = client(1, "queued-on").persistent().connect();
        assertThat(queuedOn.sessionPresent()).isTrue();
        V5 queuedOff = client(1, "queued-off").persistent().connect();
        assertThat(queuedOff.sessionPresent()).isTrue();
        queuedOff.client.disconnect();

        // n3 comes back on its data directory: it publishes none of the Wills again, the session that moved to n1
        // ends on n3 (the other, orphaned one is n3's again), and the messages queued on n3's disk for the sessions
        // that moved to n2 go to n2 before their copies on n3 end
        cluster.node(2).start();
        ClusterHarness.awaitMembers(3, cluster.node(0), cluster.node(1), cluster.node(2));
        assertThat(cluster.node(2).log()).contains("1 restored session(s) registered as this node's, 1 now owned elsewhere"
                + " ended here, 2 now owned elsewhere handing their queued messages");
        flush(watchers, clients.get(2), clients.get(3), "after-restart");
        for (V5 w : watchers) {
            assertThat(count(w, "will/victim=gone")).as("the Will, once, after the restart too").isEqualTo(1);
            assertThat(count(w, "will/delayed=gone-later")).as("the delayed Will, once").isEqualTo(1);
        }
        assertThat(back.client.isConnected()).as("the client that moved to n1 keeps its connection").isTrue();

        // the connected client gets every queued message, in order, once; then a message published on n2 after the
        // hand-over, which is sent after them
        await().atMost(Duration.ofSeconds(30)).until(() -> cluster.node(2).log().split("handed to n2", -1).length == 3);
        V5 pub2 = client(1, "queued-pub2").connect();
        pub2.publish("lost/queued", "after", 1);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < QUEUED; i++) {
            expected.add("lost/queued=m" + i);
        }
        expected.add("lost/queued=after");
        List<String> got = new ArrayList<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            queuedOn.received.drainTo(got);
            return got.contains("lost/queued=after");
        });
        assertThat(got).containsExactlyElementsOf(expected);

        // a session taken over from n1 by a connection to n2 is in n2's store before the CONNACK, with the messages
        // that moved with it: they survive a crash of n2 before the client acknowledged them
        client(0, "mover").persistent().connect().subscribe("moved/t", 1).client.disconnect();
        V5 pub1 = client(0, "mover-pub").connect();
        for (int i = 0; i < 3; i++) {
            pub1.publish("moved/t", "v" + i, 1); // returns on PUBACK: in n1's store
        }
        try (RawClient c = RawClient.connect(cluster.node(1).mqttHost, cluster.node(1).mqttPort)) {
            c.send(Packets.connect(4, "mover", 0, 60)); // 3.1.1, Clean Session 0
            c.expectPacket(0x20, 0x02, 0x01, 0x00); // Session Present 1
            assertThat(qos1Payloads(c, 3)).containsExactly("v0", "v1", "v2"); // and no PUBACK
        }

        // the other client's messages went to n2's store: they survive a crash of n2 and reach the client there
        cluster.node(1).kill();
        ClusterHarness.awaitMembers(2, cluster.node(0), cluster.node(2));
        cluster.node(1).start();
        ClusterHarness.awaitMembers(3, cluster.node(0), cluster.node(1), cluster.node(2));
        try (RawClient c = RawClient.connect(cluster.node(1).mqttHost, cluster.node(1).mqttPort)) {
            c.send(Packets.connect(4, "mover", 0, 60));
            c.expectPacket(0x20, 0x02, 0x01, 0x00);
            // not acknowledged, so sent again [MQTT-4.4.0-1]
            assertThat(qos1Payloads(c, 3)).containsExactly("v0", "v1", "v2");
        }
        V5 offBack = client(1, "queued-off").persistent().connect();
        assertThat(offBack.sessionPresent()).isTrue();
        List<String> gotOff = new ArrayList<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            offBack.received.drainTo(gotOff);
            return gotOff.size() >= expected.size();
        });
        assertThat(gotOff).containsExactlyElementsOf(expected);
    }

    @Test
    void retainedMessagesSurviveAColdRestartOfTheWholeCluster() throws Exception {
        cluster = new ClusterHarness(dir, 3, 2).startAll();
        V5 pub = client(0, "cold-pub").connect();
        pub.client.publish("cold/a", "kept".getBytes(java.nio.charset.StandardCharsets.UTF_8), 1, true);
        // wait until the other nodes have it: a subscriber on n3 gets it as a retained message
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            try (V5 s = new V5(cluster.node(2), "cold-probe")) {
                s.connect().subscribe("cold/a", 1);
                return "cold/a=kept".equals(s.received.poll(2, TimeUnit.SECONDS));
            }
        });
        pub.close();
        for (ClusterHarness.Node n : cluster.nodes()) {
            assertThat(n.stop()).isTrue(); // SIGTERM, one after the other: the whole cluster is down
        }
        // n2 and n3 come back first and alone with the retained message from their own stores
        cluster.node(1).start();
        cluster.node(2).start();
        ClusterHarness.awaitMembers(2, cluster.node(1), cluster.node(2));
        for (int node : new int[] {1, 2}) {
            V5 s = client(node, "cold-sub-" + node).connect().subscribe("cold/+", 1);
            assertThat(s.received.poll(10, TimeUnit.SECONDS)).as("the retained message on n%d", node + 1)
                    .isEqualTo("cold/a=kept");
        }
    }

    @Test
    void sigtermLeavesGracefullyAndNoWillIsPublishedTwice() throws Exception {
        cluster = new ClusterHarness(dir, 3, 2).startAll();
        List<V5> watchers = watchers();
        client(2, "leaver").persistent().will("will/leaver", "bye", 0).connect();
        // a persistent session of n3 with messages queued for it while its client is away
        V5 parked = client(2, "parked").persistent().connect().subscribe("park/t", 1);
        parked.client.disconnect();
        V5 local = client(2, "park-pub").connect();
        for (int i = 0; i < 3; i++) {
            local.publish("park/t", "m" + i, 1); // returns on PUBACK: queued on n3 by then
        }

        assertThat(cluster.node(2).stop()).as("n3 ends after SIGTERM").isTrue(); // SIGTERM
        assertThat(cluster.node(2).log()).as("n3's log").contains("Cluster: node n3 leaves").contains("Starling stopped");
        ClusterHarness.awaitMembers(2, cluster.node(0), cluster.node(1));
        for (V5 w : watchers) {
            await().atMost(Duration.ofSeconds(30)).until(() -> w.received.contains("will/leaver=bye"));
        }
        // the survivors have dealt with n3's sessions by the time they log it; nothing more may come
        await().atMost(Duration.ofSeconds(30)).until(() -> cluster.node(0).log().contains("session(s) of n3 have no owner")
                && cluster.node(1).log().contains("session(s) of n3 have no owner"));
        flush(watchers, clients.get(2), clients.get(3), "after-leave");
        for (V5 w : watchers) {
            assertThat(count(w, "will/leaver=bye")).as("the Will of a client of the node that left, once").isEqualTo(1);
        }
        // the node handed its sessions to the cluster before leaving: the client finds its queue on n1
        assertThat(cluster.node(2).log()).contains("parked 2 session(s)"); // parked and leaver
        V5 back = client(0, "parked").persistent().connect();
        assertThat(back.sessionPresent()).isTrue();
        List<String> got = new ArrayList<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            back.received.drainTo(got);
            return got.size() >= 3;
        });
        assertThat(got).containsExactly("park/t=m0", "park/t=m1", "park/t=m2");

        // n3 comes back with its copy of the parked session on its disk: n1 resumed the parked copy, so n3 ends its
        // own without handing its messages to n1 again (no duplicates); the other parked session is n3's again
        cluster.node(2).start();
        ClusterHarness.awaitMembers(3, cluster.node(0), cluster.node(1), cluster.node(2));
        assertThat(cluster.node(2).log()).contains("1 restored session(s) registered as this node's, 1 now owned elsewhere"
                + " ended here, 0 now owned elsewhere handing");
        client(0, "park-pub2").connect().publish("park/t", "after", 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            back.received.drainTo(got);
            return got.contains("park/t=after");
        });
        assertThat(got).containsExactly("park/t=m0", "park/t=m1", "park/t=m2", "park/t=after");
    }
}
