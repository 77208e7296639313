package io.starling.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.starling.broker.Broker;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.metrics.ClusterTraffic;
import io.starling.broker.metrics.ClusterView;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The cluster's per-peer meters: none on a single node; each peer's, tagged, from the scrape after it appears. The
 * overview's {@code cluster} object: none on a single node; this node, its members and each peer's traffic.
 */
class ClusterMetricsTest {

    private final DefaultEventExecutorGroup loops = new DefaultEventExecutorGroup(1);
    private final Broker broker = new Broker(BrokerConfig.builder().build(), loops);
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    @AfterEach
    void stop() {
        loops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /** A peer's figures as the node link would report them. */
    private record Peer(String name, boolean isUp, long messagesSent) implements ClusterTraffic.Peer {
        @Override
        public long bytesSent() {
            return messagesSent * 100;
        }

        @Override
        public long messagesReceived() {
            return 7;
        }

        @Override
        public long bytesReceived() {
            return 700;
        }

        @Override
        public long resent() {
            return 2;
        }

        @Override
        public long duplicatesDropped() {
            return 1;
        }

        @Override
        public long overflowDropped() {
            return 0;
        }

        @Override
        public long waiting() {
            return 3;
        }

        @Override
        public long connects() {
            return 1;
        }
    }

    @Test
    void eachPeerHasItsMetersOnceItIsKnown() {
        StarlingMetrics.bindCluster(registry, broker);
        assertThat(registry.scrape()).doesNotContain("starling_cluster_");
        List<ClusterTraffic.Peer> peers = new CopyOnWriteArrayList<>();
        broker.metrics().cluster(() -> peers);
        peers.add(new Peer("n2", true, 40));
        StarlingMetrics.bindCluster(registry, broker);
        String scrape = registry.scrape();
        assertThat(scrape).contains("starling_cluster_messages_sent_total{peer=\"n2\"} 40.0")
                .contains("starling_cluster_sent_bytes_total{peer=\"n2\"} 4000.0")
                .contains("starling_cluster_messages_received_total{peer=\"n2\"} 7.0")
                .contains("starling_cluster_messages_resent_total{peer=\"n2\"} 2.0")
                .contains("starling_cluster_messages_duplicates_total{peer=\"n2\"} 1.0")
                .contains("starling_cluster_messages_waiting{peer=\"n2\"} 3.0")
                .contains("starling_cluster_link_up{peer=\"n2\"} 1.0")
                .contains("# HELP starling_cluster_messages_sent_total ");
        peers.add(new Peer("n3", false, 0));
        StarlingMetrics.bindCluster(registry, broker);
        StarlingMetrics.bindCluster(registry, broker); // a peer already registered is left as it is
        scrape = registry.scrape();
        assertThat(scrape).contains("starling_cluster_link_up{peer=\"n3\"} 0.0")
                .contains("starling_cluster_messages_sent_total{peer=\"n2\"} 40.0");
    }

    @Test
    @SuppressWarnings("unchecked")
    void theOverviewShowsTheClusterOnlyOnANodeOfOne() {
        assertThat(OverviewApi.cluster(broker)).as("a single node").isNull();
        broker.metrics().clusterView(new ClusterView() {
            @Override
            public String nodeName() {
                return "n1";
            }

            @Override
            public int minSize() {
                return 2;
            }

            @Override
            public boolean acceptsConnections() {
                return true;
            }

            @Override
            public List<Node> members() {
                return List.of(new Node("n1", "10.0.0.1:5701", "10.0.0.1:5702", true),
                        new Node("n2", "10.0.0.2:5701", null, false));
            }
        });
        Map<String, Object> c = OverviewApi.cluster(broker);
        assertThat(c).containsEntry("node", "n1").containsEntry("acceptsConnections", true).containsEntry("minSize", 2)
                .containsEntry("peers", List.of());
        List<Map<String, Object>> members = (List<Map<String, Object>>) c.get("members");
        assertThat(members).hasSize(2);
        assertThat(members.get(0)).containsEntry("name", "n1").containsEntry("address", "10.0.0.1:5701")
                .containsEntry("link", "10.0.0.1:5702").containsEntry("local", true);
        assertThat(members.get(1)).containsEntry("name", "n2").containsEntry("link", null).containsEntry("local", false);
        broker.metrics().cluster(() -> List.of(new Peer("n3", false, 0), new Peer("n2", true, 40)));
        List<Map<String, Object>> peers = (List<Map<String, Object>>) OverviewApi.cluster(broker).get("peers");
        assertThat(peers).extracting(p -> p.get("name")).containsExactly("n2", "n3");
        assertThat(peers.get(0)).containsEntry("linkUp", true).containsEntry("messagesSent", 40L)
                .containsEntry("messagesReceived", 7L).containsEntry("waiting", 3L).containsEntry("resent", 2L)
                .containsEntry("duplicatesDropped", 1L).containsEntry("bytesSent", 4000L);
        assertThat(peers.get(1)).containsEntry("linkUp", false);
    }
}
