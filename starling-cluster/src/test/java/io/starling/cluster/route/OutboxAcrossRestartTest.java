package io.starling.cluster.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.cluster.link.LinkTestSupport.Data;
import io.starling.cluster.link.LinkTestSupport.RawAcceptor;
import io.starling.cluster.link.PeerStats;
import io.starling.codec.ReasonCode;
import io.starling.store.rocksdb.RocksDbConfig;
import io.starling.store.rocksdb.RocksDbStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node with a store that keeps sessions writes each QoS 1/2 message for a peer to its stored outbox in the commit
 * its publisher's PUBACK waits for: a message acknowledged to the publisher and not yet acknowledged by the peer is
 * sent again after the node restarts, under the same incarnation and number, so the peer drops what it had.
 */
class OutboxAcrossRestartTest {

    @TempDir
    Path dir;

    private ClusterTestNode node() throws Exception {
        ClusterTestNode a = new ClusterTestNode("a", ClusterTestNode.freePort(),
                RocksDbStore.open(RocksDbConfig.defaults(dir)));
        a.start("starling-" + UUID.randomUUID(), List.of(a.hzPort));
        // node b's route, as b would write it in the replicated map
        a.hz.getReplicatedMap(ClusterMessaging.ROUTES).put("b\u0000r/#", 1);
        return a;
    }

    private static PeerStats toB(ClusterTestNode a) {
        return a.messaging.peers().stream().filter(p -> p.peer().equals("b")).findFirst().orElseThrow();
    }

    private static List<String> payloads(Data d) {
        return d.messages().stream().map(m -> new String(m.payload(), StandardCharsets.UTF_8)).toList();
    }

    @Test
    void whatThePeerHasNotAcknowledgedIsSentAgainAfterARestart() throws Exception {
        long incarnation;
        long[] seqs;
        ClusterTestNode a = node();
        try (RawAcceptor b = new RawAcceptor()) {
            a.messaging.memberUp("b", b.address());
            b.accept("b", ClusterTestNode.SECRET, 0);
            incarnation = b.dialerIncarnation;
            await().atMost(Duration.ofSeconds(10)).until(() -> a.messaging.routesTo("b", "r/x"));
            TestClient pub = TestClient.connect(a, "pub");
            for (String p : List.of("1", "2", "3")) {
                // PUBACK: the message is in a's store, for b
                assertThat(pub.publish("r/x", 1, p)).isEqualTo(ReasonCode.SUCCESS);
            }
            Data got = b.read(3);
            assertThat(payloads(got)).containsExactly("1", "2", "3");
            seqs = got.seqs().stream().mapToLong(Long::longValue).toArray();
            assertThat(seqs).isSorted();
            b.ack(seqs[0]); // b acknowledges the first; the acknowledgement of the others is lost with a
            await().atMost(Duration.ofSeconds(10)).until(() -> toB(a).waiting() == 2);
        } finally {
            a.close();
        }
        ClusterTestNode a2 = node();
        try (RawAcceptor b = new RawAcceptor()) {
            a2.messaging.memberUp("b", b.address());
            b.accept("b", ClusterTestNode.SECRET, seqs[1]); // b had applied the second one too
            assertThat(b.dialerIncarnation).as("a's incarnation survives its restart").isEqualTo(incarnation);
            Data again = b.read(1);
            assertThat(again.seqs()).containsExactly(seqs[2]);
            assertThat(payloads(again)).containsExactly("3");
            b.ack(seqs[2]);
            await().atMost(Duration.ofSeconds(10)).until(() -> toB(a2).waiting() == 0);
            // what a2 publishes now is numbered after everything before its restart
            await().atMost(Duration.ofSeconds(10)).until(() -> a2.messaging.routesTo("b", "r/x"));
            TestClient pub = TestClient.connect(a2, "pub2");
            assertThat(pub.publish("r/x", 1, "4")).isEqualTo(ReasonCode.SUCCESS);
            Data four = b.read(1);
            assertThat(payloads(four)).containsExactly("4");
            assertThat(four.seqs().get(0)).isGreaterThan(seqs[2]);
            // a QoS 0 message is not stored; its number follows the last one given
            assertThat(pub.publish("r/x", 0, "5")).isEqualTo(ReasonCode.SUCCESS);
            Data five = b.read(1);
            assertThat(payloads(five)).containsExactly("5");
            assertThat(five.seqs().get(0)).isGreaterThan(four.seqs().get(0));
        } finally {
            a2.close();
        }
    }
}
