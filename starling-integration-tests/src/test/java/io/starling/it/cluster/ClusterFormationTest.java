package io.starling.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three broker processes on 127.0.0.1 form one cluster from their static member list; a process that does not hold
 * the cluster's secret is not admitted; a broker without a {@code cluster} section loads no class of the cluster and
 * its admin overview has no {@code cluster} object.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ClusterFormationTest {

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    static Path dir;

    private static ClusterHarness cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        assertThat(ClusterHarness.JAR).as("the broker jar (built by starling-cli)").exists();
        cluster = new ClusterHarness(dir, 3, 2);
        cluster.node(0).jvmOptions("-Xlog:class+load=info:file=" + dir.resolve("n1-classes.log"));
        cluster.startAll();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void threeNodesFormOneClusterAndEachAcceptsClients() throws Exception {
        for (ClusterHarness.Node n : cluster.nodes()) {
            assertThat(n.memberCount()).as("%s sees every node", n).isEqualTo(3);
            assertThat(n.memberList()).as("%s's member list", n).contains("n1@", "n2@", "n3@");
            MqttClient c = new MqttClient(n.uri(), "formation-" + n.name, new MemoryPersistence());
            MqttConnectOptions o = new MqttConnectOptions();
            o.setCleanSession(true);
            c.connect(o);
            assertThat(c.isConnected()).isTrue();
            c.disconnect();
            c.close();
        }
        // the cluster name admits a member (see ClusterSecret): it must not be readable in the logs
        String clusterName = io.starling.cluster.membership.ClusterSecret.of(
                ClusterHarness.SECRET.getBytes(StandardCharsets.UTF_8)).clusterName();
        for (ClusterHarness.Node n : cluster.nodes()) {
            assertThat(n.log()).as("%s's log", n).doesNotContain(clusterName);
        }
        // the positive control of the class-loading test below: a node of a cluster loads Hazelcast
        assertThat(Files.readString(dir.resolve("n1-classes.log"))).contains("com.hazelcast.core.Hazelcast ");
    }

    @Test
    void aProcessWithoutTheSecretIsNotAdmitted() throws Exception {
        Path wrong = ClusterHarness.writeSecret(dir.resolve("wrong.secret"), "not-the-secret-of-this-cluster");
        List<String> members = new java.util.ArrayList<>();
        for (ClusterHarness.Node n : cluster.nodes()) {
            members.add("127.0.0.1:" + n.membershipPort);
        }
        ClusterHarness.Node rogue = new ClusterHarness.Node("rogue", dir.resolve("rogue"), ClusterHarness.freePort(),
                ClusterHarness.freePort(), ClusterHarness.freePort(), members, 2, wrong);
        // it lists the cluster's members and its own address: only the secret is wrong
        try {
            rogue.withAdmin().start();
            // it joined nothing: it formed a cluster of its own ...
            assertThat(rogue.memberCount()).as("members the rogue sees").isEqualTo(1);
            // ... which is below its min-size, so it refuses clients: 5.0 0x88 Server unavailable, 3.1.1 0x03
            // [MQTT-3.2.2-6] (5.0) / return code 3 (3.1.1)
            assertThat(Raw.connackCode(rogue, 5, "to-rogue-5")).isEqualTo(0x88);
            assertThat(Raw.connackCode(rogue, 4, "to-rogue-4")).isEqualTo(0x03);
            // its admin overview says so: one member (itself), no peer, not accepting connections below min-size 2
            com.fasterxml.jackson.databind.JsonNode c = rogue.overview().get("cluster");
            assertThat(c.get("node").asText()).isEqualTo("rogue");
            assertThat(c.get("acceptsConnections").asBoolean()).isFalse();
            assertThat(c.get("minSize").asInt()).isEqualTo(2);
            assertThat(c.get("members").findValuesAsText("name")).containsExactly("rogue");
            assertThat(c.get("members").get(0).get("local").asBoolean()).isTrue();
            assertThat(c.get("peers")).isEmpty();
        } finally {
            rogue.kill();
        }
        for (ClusterHarness.Node n : cluster.nodes()) {
            assertThat(n.memberCount()).as("%s still sees three members", n).isEqualTo(3);
            assertThat(n.log()).as("%s's log", n).doesNotContain("rogue@");
        }
    }

    @Test
    void garbageStalledPeersAndHazelcastClientsOnTheMembershipPortDoNotDisturbTheCluster() throws Exception {
        ClusterHarness.Node n1 = cluster.node(0);
        // a peer that stalls in the middle of a member protocol header and stays connected
        try (java.net.Socket stalled = new java.net.Socket("127.0.0.1", n1.membershipPort);
                java.net.Socket garbage = new java.net.Socket("127.0.0.1", n1.membershipPort);
                java.net.Socket client = new java.net.Socket("127.0.0.1", n1.membershipPort)) {
            stalled.getOutputStream().write("HZ".getBytes(StandardCharsets.US_ASCII));
            stalled.getOutputStream().flush();
            // a peer that answers garbage
            byte[] junk = new byte[4096];
            new java.util.Random(42).nextBytes(junk);
            garbage.getOutputStream().write(junk);
            garbage.getOutputStream().flush();
            // a Hazelcast client: the port speaks the member protocol only, so the connection is closed
            client.getOutputStream().write("CP2".getBytes(StandardCharsets.US_ASCII));
            client.getOutputStream().write(new byte[64]);
            client.getOutputStream().flush();
            client.setSoTimeout(20_000);
            assertThat(readToEnd(client)).as("the Hazelcast client's connection is closed").isTrue();
            garbage.setSoTimeout(20_000);
            assertThat(readToEnd(garbage)).as("the garbage peer's connection is closed").isTrue();
            // meanwhile the cluster is whole and serves clients
            for (ClusterHarness.Node n : cluster.nodes()) {
                assertThat(n.memberCount()).as("%s's members", n).isEqualTo(3);
                assertThat(Raw.connackCode(n, 5, "after-garbage-" + n.name)).isZero();
            }
        }
    }

    @Test
    void aNodeWhoseLinkPortIsTakenDoesNotStartAndLeavesTheMembership() throws Exception {
        List<String> members = new java.util.ArrayList<>();
        for (ClusterHarness.Node n : cluster.nodes()) {
            members.add("127.0.0.1:" + n.membershipPort);
        }
        ClusterHarness.Node clash = new ClusterHarness.Node("clash", dir.resolve("clash"), ClusterHarness.freePort(),
                ClusterHarness.freePort(), cluster.node(0).linkPort, members, 2, dir.resolve("cluster.secret"));
        org.assertj.core.api.Assertions.assertThatThrownBy(clash::start).hasMessageContaining("is not running");
        assertThat(clash.exitValue()).as("the exit code of a broker that cannot start").isEqualTo(1);
        for (ClusterHarness.Node n : cluster.nodes()) {
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                    .until(() -> n.memberCount() == 3 && !n.memberList().contains("clash@"));
            assertThat(Raw.connackCode(n, 4, "after-clash-" + n.name)).isZero();
        }
    }

    /** Reads until the peer closes; true if it did (EOF or reset) before the socket's timeout. */
    private static boolean readToEnd(java.net.Socket s) {
        try {
            byte[] buf = new byte[1024];
            while (s.getInputStream().read(buf) >= 0) {
                // whatever it answers
            }
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (java.io.IOException e) {
            return true; // reset by the peer
        }
    }

    @Test
    void aBrokerWithoutAClusterSectionLoadsNoClusterClass() throws Exception {
        ClusterHarness.Node single = new ClusterHarness.Node("single", dir.resolve("single"), ClusterHarness.freePort(),
                ClusterHarness.freePort(), ClusterHarness.freePort(), List.of("127.0.0.1:1"), 1, null);
        Path config = single.home.resolve("plain.yaml");
        Files.writeString(config, String.join("\n", "bind: 127.0.0.1", "port: " + single.mqttPort,
                "data-dir: " + single.home.resolve("data"), "storage: memory", ""), StandardCharsets.UTF_8);
        Path classes = dir.resolve("single-classes.log");
        single.jvmOptions("-Xlog:class+load=info:file=" + classes).withAdmin();
        try {
            single.startWith(config);
            assertThat(Raw.connackCode(single, 4, "single-node")).isZero();
            // its admin overview has no cluster object, and serving it loads no class of the cluster either
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                    .until(() -> single.overview().has("counts"));
            assertThat(single.overview().has("cluster")).as("a single node's overview has a cluster object").isFalse();
            String loaded = Files.readString(classes);
            assertThat(loaded).as("classes loaded").contains("io.starling.server.StarlingServer ");
            assertThat(loaded).as("classes loaded").doesNotContain("com.hazelcast.").doesNotContain("io.starling.cluster.");
        } finally {
            single.kill();
        }
    }
}
