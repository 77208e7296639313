package io.starling.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three broker processes: a message published on one node reaches subscribers on the others over the node link, at
 * QoS 1 in order and at QoS 2 once, and a shared group with members on two nodes gets each message once. Each
 * node's admin overview shows its members, the node links up and the messages each link carried.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class CrossNodeMessagingTest {

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    static Path dir;

    private static ClusterHarness cluster;
    private final List<MqttClient> clients = new ArrayList<>();

    @BeforeAll
    static void startCluster() throws Exception {
        assertThat(ClusterHarness.JAR).as("the broker jar (built by starling-cli)").exists();
        cluster = new ClusterHarness(dir, 3, 2);
        cluster.node(0).withAdmin();
        cluster.node(1).withAdmin();
        cluster.startAll();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @AfterEach
    void closeClients() {
        for (MqttClient c : clients) {
            try {
                if (c.isConnected()) {
                    c.disconnect();
                }
                c.close();
            } catch (MqttException e) {
                // closing
            }
        }
    }

    private MqttClient connect(ClusterHarness.Node n, String id) throws MqttException {
        MqttClient c = new MqttClient(n.uri(), id, new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(true);
        o.setMaxInflight(1000);
        c.connect(o);
        clients.add(c);
        return c;
    }

    /** Publishes probes on {@code probeTopic} until {@code got} has one: the route has reached the publisher's node. */
    private static void awaitRoute(MqttClient pub, String probeTopic, List<String> got) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            pub.publish(probeTopic, "probe".getBytes(StandardCharsets.UTF_8), 0, false);
            return got.contains("probe");
        });
    }

    @Test
    void qos1CrossesNodesInOrderAndQos2Once() throws Exception {
        List<String> got = new CopyOnWriteArrayList<>();
        List<Integer> qos = new CopyOnWriteArrayList<>();
        MqttClient sub = connect(cluster.node(1), "x-sub");
        sub.subscribe("x/#", 2, (topic, m) -> {
            if (!topic.equals("x/probe")) {
                got.add(new String(m.getPayload(), StandardCharsets.UTF_8));
                qos.add(m.getQos());
            } else {
                got.add("probe");
                qos.add(-1);
            }
        });
        MqttClient pub = connect(cluster.node(0), "x-pub");
        awaitRoute(pub, "x/probe", got);
        got.clear();
        qos.clear();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            pub.publish("x/one", Integer.toString(i).getBytes(StandardCharsets.UTF_8), 1, false);
            expected.add(Integer.toString(i));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> got.stream().filter(p -> !p.equals("probe")).count() >= 200);
        got.removeIf("probe"::equals);
        qos.removeIf(q -> q == -1);
        assertThat(got).isEqualTo(expected);
        assertThat(qos).containsOnly(1);
        MqttClient pub3 = connect(cluster.node(2), "x-pub3");
        got.clear();
        qos.clear();
        awaitRoute(pub3, "x/probe", got);
        got.clear();
        qos.clear();
        pub3.publish("x/two", "exactly-once".getBytes(StandardCharsets.UTF_8), 2, false);
        await().atMost(Duration.ofSeconds(30)).until(() -> got.contains("exactly-once"));
        // a later message from the same publisher arrives after it, and the QoS 2 one is not there twice
        pub3.publish("x/two", "after".getBytes(StandardCharsets.UTF_8), 1, false);
        await().atMost(Duration.ofSeconds(30)).until(() -> got.contains("after"));
        assertThat(got.stream().filter("exactly-once"::equals)).hasSize(1);
        assertThat(qos.get(got.indexOf("exactly-once"))).isEqualTo(2);
    }

    private static org.eclipse.paho.client.mqttv3.MqttCallback collect(List<String> into) {
        return new org.eclipse.paho.client.mqttv3.MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
            }

            @Override
            public void messageArrived(String topic, org.eclipse.paho.client.mqttv3.MqttMessage m) {
                if (!topic.equals("jobs/probe")) {
                    into.add(new String(m.getPayload(), StandardCharsets.UTF_8));
                }
            }

            @Override
            public void deliveryComplete(org.eclipse.paho.client.mqttv3.IMqttDeliveryToken token) {
            }
        };
    }

    @Test
    void aSharedGroupWithMembersOnTwoNodesGetsEachMessageOnce() throws Exception {
        List<String> got2 = new CopyOnWriteArrayList<>();
        List<String> got3 = new CopyOnWriteArrayList<>();
        List<String> probes = new CopyOnWriteArrayList<>();
        // the client-wide callback: Paho matches a per-subscription listener against the filter, $share/ prefix included
        MqttClient m2 = connect(cluster.node(1), "g-m2");
        m2.setCallback(collect(got2));
        m2.subscribe("$share/workers/jobs/#", 1);
        MqttClient m3 = connect(cluster.node(2), "g-m3");
        m3.setCallback(collect(got3));
        m3.subscribe("$share/workers/jobs/#", 1);
        MqttClient watch2 = connect(cluster.node(1), "g-w2");
        watch2.subscribe("jobs/probe", 0, (t, m) -> probes.add("n2"));
        MqttClient watch3 = connect(cluster.node(2), "g-w3");
        watch3.subscribe("jobs/probe", 0, (t, m) -> probes.add("n3"));
        MqttClient pub = connect(cluster.node(0), "g-pub");
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            pub.publish("jobs/probe", "probe".getBytes(StandardCharsets.UTF_8), 0, false);
            return probes.contains("n2") && probes.contains("n3");
        });
        got2.clear();
        got3.clear();
        for (int i = 0; i < 200; i++) {
            pub.publish("jobs/work", Integer.toString(i).getBytes(StandardCharsets.UTF_8), 1, false);
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(got2.size() + got3.size())
                .as("n2 got %s, n3 got %s", got2.size(), got3.size()).isGreaterThanOrEqualTo(200));
        Set<String> all = new HashSet<>(got2);
        all.addAll(got3);
        assertThat(got2.size() + got3.size()).isEqualTo(200);
        assertThat(all).hasSize(200);
        assertThat(got2).isNotEmpty();
        assertThat(got3).isNotEmpty();
    }

    @Test
    void theClientIdsOfTheClustersOwnRecordsAreRefused() {
        // $cluster/... name a node's stored outboxes and what it applied from its peers: no client may take them over
        // [MQTT-3.1.3-5] the server may refuse a client id it does not accept: 5.0 0x85, 3.1.1 return code 2
        assertThat(Raw.connackCode(cluster.node(0), 5, "$cluster/outbox/n2")).isEqualTo(0x85);
        assertThat(Raw.connackCode(cluster.node(1), 4, "$cluster/inbox/n1")).isEqualTo(0x02);
        assertThat(Raw.connackCode(cluster.node(2), 5, "cluster-is-fine")).isZero();
    }

    /** The overview's figures of the link with {@code peer}. */
    private static com.fasterxml.jackson.databind.JsonNode peer(com.fasterxml.jackson.databind.JsonNode overview,
            String peer) {
        for (com.fasterxml.jackson.databind.JsonNode p : overview.get("cluster").get("peers")) {
            if (p.get("name").asText().equals(peer)) {
                return p;
            }
        }
        throw new AssertionError("no peer " + peer + " in " + overview.get("cluster"));
    }

    @Test
    void theAdminOverviewShowsTheMembersTheLinksAndTheTrafficPerPeer() throws Exception {
        ClusterHarness.Node n1 = cluster.node(0);
        ClusterHarness.Node n2 = cluster.node(1);
        // the links connect as the members appear: both of n1's peers are up
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            com.fasterxml.jackson.databind.JsonNode o = n1.overview();
            return o.get("cluster").get("peers").size() == 2 && peer(o, "n2").get("linkUp").asBoolean()
                    && peer(o, "n3").get("linkUp").asBoolean();
        });
        com.fasterxml.jackson.databind.JsonNode c = n1.overview().get("cluster");
        assertThat(c.get("node").asText()).isEqualTo("n1");
        assertThat(c.get("acceptsConnections").asBoolean()).isTrue();
        assertThat(c.get("minSize").asInt()).isEqualTo(2);
        assertThat(c.get("members")).hasSize(3);
        for (int i = 0; i < 3; i++) {
            com.fasterxml.jackson.databind.JsonNode m = c.get("members").get(i);
            ClusterHarness.Node n = cluster.node(i);
            assertThat(m.get("name").asText()).isEqualTo(n.name);
            assertThat(m.get("address").asText()).isEqualTo("127.0.0.1:" + n.membershipPort);
            assertThat(m.get("link").asText()).isEqualTo("127.0.0.1:" + n.linkPort);
            assertThat(m.get("local").asBoolean()).as("%s is n1", n).isEqualTo(i == 0);
        }
        assertThat(c.get("peers").findValuesAsText("name")).containsExactly("n2", "n3");

        // traffic from n1 to a subscriber on n2: n1 counts it sent to n2, n2 counts it received from n1
        List<String> got = new CopyOnWriteArrayList<>();
        MqttClient sub = connect(n2, "ov-sub");
        sub.subscribe("ov/#", 1, (topic, m) -> got.add(topic.equals("ov/probe") ? "probe"
                : new String(m.getPayload(), StandardCharsets.UTF_8)));
        MqttClient pub = connect(n1, "ov-pub");
        awaitRoute(pub, "ov/probe", got);
        long sent = peer(n1.overview(), "n2").get("messagesSent").asLong();
        long received = peer(n2.overview(), "n1").get("messagesReceived").asLong();
        for (int i = 0; i < 20; i++) {
            pub.publish("ov/data", Integer.toString(i).getBytes(StandardCharsets.UTF_8), 1, false);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> got.stream().filter(p -> !p.equals("probe")).count() >= 20);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            com.fasterxml.jackson.databind.JsonNode toN2 = peer(n1.overview(), "n2");
            assertThat(toN2.get("messagesSent").asLong()).as("n1: sent to n2").isGreaterThanOrEqualTo(sent + 20);
            assertThat(toN2.get("waiting").asLong()).as("n1: waiting for n2's acknowledgement").isZero();
            assertThat(peer(n2.overview(), "n1").get("messagesReceived").asLong()).as("n2: received from n1")
                    .isGreaterThanOrEqualTo(received + 20);
        });
        com.fasterxml.jackson.databind.JsonNode toN2 = peer(n1.overview(), "n2");
        assertThat(toN2.get("connects").asLong()).isPositive();
        assertThat(toN2.get("bytesSent").asLong()).isPositive();
        assertThat(toN2.fieldNames()).toIterable().contains("resent", "duplicatesDropped", "overflowDropped",
                "bytesReceived");
        assertThat(n2.overview().get("cluster").get("node").asText()).isEqualTo("n2");
    }
}
