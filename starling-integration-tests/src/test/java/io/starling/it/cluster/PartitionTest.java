package io.starling.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * A silent partition: node n3 runs in a network namespace of its own, and the network between it and the other two
 * starts dropping every packet without closing a socket. The minority (n3 alone, below min-size 2) refuses new
 * CONNECTs (5.0 0x88 Server unavailable, 3.1.1 0x03) and keeps serving the client it has; the majority goes on; after
 * the heal n3 merges back into the cluster and accepts connections again, a client id that connected on each side
 * during the partition stays connected on the majority side only, and messages cross between the two sides again,
 * also to a subscription made on the majority side during the partition (the routes' union).
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class PartitionTest {

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    private SilentPartition partition;
    private ClusterHarness cluster;
    private MqttClient client;
    private final List<V5> clients = new java.util.ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        clients.forEach(V5::close);
        if (client != null && client.isConnected()) {
            client.disconnectForcibly(0, 50);
        }
        if (cluster != null) {
            cluster.close();
        }
        if (partition != null) {
            partition.close();
        }
    }

    @Test
    void theMinorityRefusesConnectsKeepsItsClientsAndRejoinsAfterTheHeal() throws Exception {
        Assumptions.assumeTrue(SilentPartition.available(), "needs root and iproute2 for network namespaces");
        partition = new SilentPartition();
        String host = partition.hostClusterAddress();
        cluster = new ClusterHarness(dir, List.of("127.0.0.1", "127.0.0.1", partition.nodeClientAddress()),
                List.of(host, host, partition.nodeClusterAddress()), 2);
        ClusterHarness.Node n1 = cluster.node(0);
        ClusterHarness.Node n2 = cluster.node(1);
        ClusterHarness.Node n3 = cluster.node(2);
        n3.prefix(partition.exec());
        cluster.startAll();

        // a client of n3, connected before the partition, subscribed to its own topic
        client = new MqttClient(n3.uri(), "partition-client", new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(true);
        o.setKeepAliveInterval(60);
        o.setAutomaticReconnect(false);
        client.connect(o);
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        client.subscribe("partition/own", 1, (t, m) -> received.add(new String(m.getPayload(), StandardCharsets.UTF_8)));

        // a persistent client of n3 that will connect again on the majority side during the partition
        V5 twice = new V5(n3, "partition-twice").persistent().connect().subscribe("partition/twice", 1);
        clients.add(twice);

        partition.isolate();
        // a silent network: each side finds out by missing heartbeats only
        ClusterHarness.awaitMembers(1, n3);
        ClusterHarness.awaitMembers(2, n1, n2);

        // the minority refuses new connections: 5.0 CONNACK 0x88 Server unavailable, 3.1.1 return code 3
        // ([MQTT-3.2.2-6] (5.0): a CONNACK with a reason code >= 0x80 is followed by closing the connection)
        assertThat(Raw.connackCode(n3, 5, "minority-5")).isEqualTo(0x88);
        assertThat(Raw.connackCode(n3, 4, "minority-4")).isEqualTo(0x03);
        // the majority accepts them
        assertThat(Raw.connackCode(n1, 5, "majority-1")).isZero();
        assertThat(Raw.connackCode(n2, 4, "majority-2")).isZero();
        // the majority took n3's sessions out of its hands: the client connects there and finds its session
        V5 moved = new V5(n1, "partition-twice").persistent().connect();
        clients.add(moved);
        assertThat(moved.sessionPresent()).isTrue();
        moved.subscribe("partition/new", 1); // made on the majority side while n3 cannot hear of it
        // and the minority keeps serving the client it has
        assertThat(client.isConnected()).isTrue();
        client.publish("partition/own", "during".getBytes(StandardCharsets.UTF_8), 1, false);
        assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo("during");

        partition.heal();
        ClusterHarness.awaitMembers(3, n1, n2, n3);
        await().atMost(Duration.ofSeconds(30)).until(() -> Raw.connackCode(n3, 5, "after-heal") == 0);
        assertThat(Raw.connackCode(n3, 4, "after-heal-4")).isZero();
        assertThat(client.isConnected()).as("the client of n3 through the partition and the merge").isTrue();
        // the client id connected on both sides: after the merge, n3 ends its stale connection [MQTT-3.1.4-2]
        assertThat(twice.disconnects.poll(30, TimeUnit.SECONDS)).as("n3's old connection of partition-twice")
                .isEqualTo(0x8E);
        assertThat(moved.client.isConnected()).as("the connection on the majority side stays").isTrue();
        // the routes merged both ways, with the subscription made on the majority side during the partition
        V5 pub = new V5(n1, "partition-pub").connect();
        clients.add(pub);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            pub.publish("partition/own", "after", 1);
            return received.contains("after");
        });
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            client.publish("partition/new", "after".getBytes(StandardCharsets.UTF_8), 1, false);
            return moved.received.contains("partition/new=after");
        });
    }
}
