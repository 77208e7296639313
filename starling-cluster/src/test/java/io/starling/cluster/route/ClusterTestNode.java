package io.starling.cluster.route;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.starling.broker.Broker;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.store.Store;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One node of an in-process cluster: a broker on event loops of its own, an embedded Hazelcast member (TCP-IP join on
 * 127.0.0.1, multicast and phone-home off) and the cluster messaging, wired as the cluster's bootstrap wires them.
 */
final class ClusterTestNode implements AutoCloseable {

    static final byte[] SECRET = "test-cluster-secret-0123456789".getBytes(StandardCharsets.UTF_8);

    final String name;
    final int hzPort;
    final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    final Broker broker;
    private final Store store;
    HazelcastInstance hz;
    ClusterMessaging messaging;

    ClusterTestNode(String name, int hzPort, Store store) {
        this.name = name;
        this.hzPort = hzPort;
        this.store = store;
        // queues long enough for a test's bursts: a full queue would drop, which is not what these tests look at
        BrokerConfig config = BrokerConfig.builder().maxQueuedMessages(100_000).build();
        this.broker = store == null ? new Broker(config, group) : new Broker(config, group, store);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Starts Hazelcast (joining the members on {@code ports}) and the cluster messaging. */
    void start(String clusterName, List<Integer> ports) {
        Config c = new Config();
        c.setClusterName(clusterName);
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.logging.type", "slf4j");
        c.setProperty("hazelcast.max.no.heartbeat.seconds", "5");
        c.setProperty("hazelcast.heartbeat.interval.seconds", "1");
        NetworkConfig n = c.getNetworkConfig();
        n.setPort(hzPort).setPortAutoIncrement(false);
        n.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        JoinConfig j = n.getJoin();
        j.getMulticastConfig().setEnabled(false);
        j.getAutoDetectionConfig().setEnabled(false);
        j.getTcpIpConfig().setEnabled(true);
        for (int p : ports) {
            j.getTcpIpConfig().addMember("127.0.0.1:" + p);
        }
        c.getMemberAttributeConfig().setAttribute("starling.node", name);
        hz = Hazelcast.newHazelcastInstance(c);
        messaging = new ClusterMessaging(name, new InetSocketAddress("127.0.0.1", 0), SECRET, hz, broker, group);
        messaging.start();
    }

    InetSocketAddress link() {
        return messaging.linkAddress();
    }

    @Override
    public void close() {
        if (messaging != null) {
            messaging.close();
        }
        if (hz != null) {
            hz.shutdown();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        if (store != null) {
            store.close();
        }
    }
}
