package io.starling.cluster.route;

import static io.starling.cluster.link.LinkTestSupport.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.cluster.link.LinkTestSupport.RawPeer;
import io.starling.store.rocksdb.RocksDbConfig;
import io.starling.store.rocksdb.RocksDbStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node with a store that keeps sessions stores what it applied from each peer with the messages it applied: after a
 * restart (the peer never got its acknowledgement and sends the same messages again) it drops them, so a persistent
 * subscriber gets each message once (QoS 2 exactly once across a crash of the subscriber's node).
 */
class AppliedAcrossRestartTest {

    @TempDir
    Path dir;

    private ClusterTestNode node() throws Exception {
        ClusterTestNode b = new ClusterTestNode("b", ClusterTestNode.freePort(),
                RocksDbStore.open(RocksDbConfig.defaults(dir)));
        b.start("starling-" + UUID.randomUUID(), List.of(b.hzPort));
        return b;
    }

    @Test
    void whatWasAppliedIsDroppedWhenThePeerSendsItAgainAfterARestart() throws Exception {
        ClusterTestNode b = node();
        try {
            TestClient sub = TestClient.connect(b, "sub", false, 3600);
            sub.subscribe("r/#", 2);
            sub.disconnect();
            try (RawPeer a = new RawPeer(b.link(), "a")) {
                a.hello(77);
                assertThat(a.authenticate("b", ClusterTestNode.SECRET)).isZero();
                a.data(1, List.of(message("r/x", 1), message("r/x", 2), message("r/x", 3)));
                assertThat(a.awaitAck(3)).isEqualTo(3);
            }
        } finally {
            b.close();
        }
        // b restarts on its store; a never saw the ack (say) and sends from 1 again, then a new message
        ClusterTestNode b2 = node();
        try {
            try (RawPeer a = new RawPeer(b2.link(), "a")) {
                a.hello(77);
                assertThat(a.authenticate("b", ClusterTestNode.SECRET)).as("applied, as b stored it").isEqualTo(3);
                a.data(1, List.of(message("r/x", 1), message("r/x", 2), message("r/x", 3), message("r/x", 4)));
                assertThat(a.awaitAck(4)).isEqualTo(4);
            }
            TestClient sub = TestClient.connect(b2, "sub", false, 3600);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(sub.payloads()).hasSizeGreaterThanOrEqualTo(4));
            assertThat(sub.payloads()).containsExactly("1", "2", "3", "4");
            assertThat(b2.messaging.peers()).filteredOn(p -> p.peer().equals("a"))
                    .allMatch(p -> p.duplicatesDropped() == 3);
        } finally {
            b2.close();
        }
    }
}
