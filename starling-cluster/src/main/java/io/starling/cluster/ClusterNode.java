package io.starling.cluster;

import com.hazelcast.cluster.InitialMembershipEvent;
import com.hazelcast.cluster.InitialMembershipListener;
import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.config.AdvancedNetworkConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.InterfacesConfig;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.ListenerConfig;
import com.hazelcast.config.ServerSocketEndpointConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.netty.channel.EventLoopGroup;
import io.starling.broker.Broker;
import io.starling.broker.config.ClusterConfig;
import io.starling.broker.metrics.ClusterView;
import io.starling.broker.session.ClusterSessions;
import io.starling.cluster.retain.RetainedReplication;
import io.starling.cluster.session.SessionOwnership;
import io.starling.cluster.membership.ClusterSecret;
import io.starling.cluster.membership.PeerListener;
import io.starling.cluster.route.ClusterMessaging;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This broker as a node of a cluster: starts embedded Hazelcast for membership and failure detection (TCP-IP join
 * with the static member list; multicast, auto-detection and phone-home off; short heartbeats), publishes the member
 * attributes {@value #NODE_ATTRIBUTE} and {@value #LINK_ATTRIBUTE}, logs every change of the member list, tells
 * {@link PeerListener}s about peers, and refuses new connections while it sees fewer than {@code min-size} members
 * ({@link ClusterSessions#acceptsConnections()}), and shows the admin overview its members ({@link ClusterView}).
 * Created by the server only when the config has a {@code cluster} section. Thread-safe.
 */
public final class ClusterNode implements AutoCloseable, ClusterView {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);
    /** Member attribute: the node's name. */
    public static final String NODE_ATTRIBUTE = "starling.node";
    /** Member attribute: {@code host:port} of the node's link. */
    public static final String LINK_ATTRIBUTE = "starling.link";

    private final ClusterConfig config;
    private final ClusterSecret secret;
    private final Broker broker;
    private final EventLoopGroup group;
    private final HazelcastInstance hz;
    private final List<PeerListener> peers = new CopyOnWriteArrayList<>();
    /** Messages between nodes: routes, the node link, the routing hook in the broker. */
    private final ClusterMessaging messaging;
    /** Members seen now, this node included. */
    private volatile int size = 1;
    private volatile boolean closed;
    private volatile SessionOwnership ownership;
    private final RetainedReplication retained;
    /** Work that follows membership changes and may wait for the cluster (not on Hazelcast's event threads). */
    private final java.util.concurrent.ExecutorService events = java.util.concurrent.Executors.newSingleThreadExecutor(
            r -> {
                Thread t = new Thread(r, "starling-cluster-events");
                t.setDaemon(true);
                return t;
            });

    private ClusterNode(ClusterConfig config, ClusterSecret secret, Broker broker, EventLoopGroup group) {
        this.config = config;
        this.secret = secret;
        this.broker = broker;
        this.group = group;
        LOG.info("Cluster: node {} joining on {}:{} (link port {}), members {}, min-size {}", config.nodeName(),
                config.bind(), config.membershipPort(), config.linkPort(), config.members(), config.minSize());
        if (System.getProperty("hazelcast.logging.type") == null) {
            // read by Hazelcast before it sees the config: without it, its first lines go to java.util.logging
            System.setProperty("hazelcast.logging.type", "slf4j");
        }
        Config cfg = hazelcastConfig(config, secret);
        // in the config, not added later: Hazelcast keeps config listeners across a merge after a partition
        cfg.addListenerConfig(new ListenerConfig(new Listener()));
        cfg.addListenerConfig(new ListenerConfig((com.hazelcast.core.LifecycleListener) event -> {
            if (event.getState() == com.hazelcast.core.LifecycleEvent.LifecycleState.MERGED && !closed) {
                LOG.info("Cluster: node {} merged back into the cluster", config.nodeName());
                events.execute(() -> {
                    if (ownership != null) {
                        ownership.reassert();
                    }
                });
            }
        }));
        this.hz = Hazelcast.newHazelcastInstance(cfg);
        try {
            this.ownership = new SessionOwnership(config.nodeName(), hz, broker, group, this::acceptsConnections);
            broker.sessions().cluster(ownership);
            ownership.registerRestored();
            this.retained = new RetainedReplication(config.nodeName(), hz, broker, group);
            this.messaging = new ClusterMessaging(config, secret.bytes(), hz, broker, group);
            messaging.start();
            addPeerListener(messaging);
            broker.metrics().clusterView(this);
        } catch (RuntimeException e) {
            // e.g. the link port is taken: leave the membership again, or the process would stay up with it
            closed = true;
            broker.sessions().cluster(null);
            hz.shutdown();
            events.shutdownNow();
            throw e;
        }
    }

    /**
     * Starts this node's membership and returns once it has joined the members it could reach (or, reaching none,
     * formed a cluster of its own; it then refuses connections until {@code min-size} members see each other).
     */
    public static ClusterNode start(ClusterConfig config, Broker broker, EventLoopGroup group) {
        return new ClusterNode(config, ClusterSecret.read(config), broker, group);
    }

    /** The Hazelcast configuration of a node, in code (no XML or YAML file is read). */
    static Config hazelcastConfig(ClusterConfig c, ClusterSecret secret) {
        Config cfg = new Config();
        cfg.setInstanceName("starling-" + c.nodeName());
        // the join check of Community Edition: the cluster name, derived from the secret (see ClusterSecret)
        cfg.setClusterName(secret.clusterName());
        cfg.getMemberAttributeConfig().setAttribute(NODE_ATTRIBUTE, c.nodeName());
        cfg.getMemberAttributeConfig().setAttribute(LINK_ATTRIBUTE, c.bind() + ":" + c.linkPort());
        // members only: with the advanced network and no client endpoint, the port speaks no client protocol
        AdvancedNetworkConfig net = cfg.getAdvancedNetworkConfig().setEnabled(true);
        net.setMemberEndpointConfig(new ServerSocketEndpointConfig()
                .setPort(c.membershipPort())
                .setPortAutoIncrement(false)
                .setInterfaces(new InterfacesConfig().setEnabled(true).addInterface(c.bind())));
        JoinConfig join = net.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(true).setMembers(new ArrayList<>(c.members()));
        cfg.getJetConfig().setEnabled(false);
        long timeout = c.heartbeatTimeout().toSeconds();
        cfg.setProperty("hazelcast.phone.home.enabled", "false");
        cfg.setProperty("hazelcast.logging.type", "slf4j");
        // the cluster name is what admits a member: keep it out of the prefix of every Hazelcast log line
        cfg.setProperty("hazelcast.logging.details.enabled", "false");
        cfg.setProperty("hazelcast.socket.bind.any", "false");
        cfg.setProperty("hazelcast.local.localAddress", c.bind());
        // the server shuts Hazelcast down in its own order (graceful leave on SIGTERM)
        cfg.setProperty("hazelcast.shutdownhook.enabled", "false");
        cfg.setProperty("hazelcast.heartbeat.interval.seconds", "1");
        cfg.setProperty("hazelcast.max.no.heartbeat.seconds", String.valueOf(timeout));
        cfg.setProperty("hazelcast.wait.seconds.before.join", "1");
        cfg.setProperty("hazelcast.max.wait.seconds.before.join", "3");
        // after a partition heals, the sides look for each other and merge within seconds (defaults 300 s / 120 s)
        cfg.setProperty("hazelcast.merge.first.run.delay.seconds", String.valueOf(Math.max(2, timeout)));
        cfg.setProperty("hazelcast.merge.next.run.delay.seconds", String.valueOf(Math.max(2, timeout)));
        cfg.setProperty("hazelcast.member.list.publish.interval.seconds", "5");
        cfg.setProperty("hazelcast.partition.count", "71");
        return cfg;
    }

    /** The embedded Hazelcast member. */
    public HazelcastInstance hazelcast() {
        return hz;
    }

    /** The cluster's configuration. */
    public ClusterConfig config() {
        return config;
    }

    /** The shared secret (the node link proves membership with it). */
    public ClusterSecret secret() {
        return secret;
    }

    /** Messages between this node and the others (routes, node link, per-peer traffic). */
    public ClusterMessaging messaging() {
        return messaging;
    }

    /** The broker this node serves. */
    public Broker broker() {
        return broker;
    }

    /** The event loops of the broker. */
    public EventLoopGroup group() {
        return group;
    }

    /** Members this node sees now, itself included. */
    public int size() {
        return size;
    }

    /** Names of the members this node sees now, sorted. */
    public Set<String> memberNames() {
        Set<String> names = new TreeSet<>();
        for (Member m : hz.getCluster().getMembers()) {
            names.add(nodeName(m));
        }
        return names;
    }

    /**
     * Adds a listener of peers and tells it about every other member present now. Call before traffic starts; a
     * change of membership during the call may be told twice, never missed.
     */
    public void addPeerListener(PeerListener l) {
        peers.add(l);
        for (Member m : hz.getCluster().getMembers()) {
            if (!m.localMember()) {
                l.memberUp(nodeName(m), linkAddress(m));
            }
        }
    }

    @Override
    public String nodeName() {
        return config.nodeName();
    }

    @Override
    public int minSize() {
        return config.minSize();
    }

    @Override
    public List<ClusterView.Node> members() {
        List<ClusterView.Node> out = new ArrayList<>();
        Set<Member> members;
        try {
            // Hazelcast's member list is a local copy: reading it costs no remote call
            members = hz.getCluster().getMembers();
        } catch (IllegalStateException e) {
            return out; // shutting down: no longer a member
        }
        for (Member m : members) {
            InetSocketAddress link = linkAddress(m);
            out.add(new ClusterView.Node(nodeName(m), hostPort(m.getAddress().getHost(), m.getAddress().getPort()),
                    link == null ? null : hostPort(link.getHostString(), link.getPort()), m.localMember()));
        }
        out.sort(java.util.Comparator.comparing(ClusterView.Node::name));
        return out;
    }

    private static String hostPort(String host, int port) {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /** Whether this node accepts new connections: it sees at least {@code min-size} members (see {@link ClusterSessions}). */
    @Override
    public boolean acceptsConnections() {
        // Hazelcast's member list is a local copy: reading it costs no remote call
        return !closed && hz.getCluster().getMembers().size() >= config.minSize();
    }

    /** Leaves the cluster: Hazelcast moves this member's partitions to the others and shuts down. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        broker.metrics().clusterView(null);
        LOG.info("Cluster: node {} leaving", config.nodeName());
        ownership.leave(10_000);
        retained.close();
        try {
            messaging.close();
        } catch (RuntimeException e) {
            LOG.warn("Cluster: closing the node link failed", e);
        }
        try {
            hz.shutdown();
        } catch (RuntimeException e) {
            LOG.warn("Cluster: leaving failed", e);
        }
        events.shutdownNow();
    }

    static String nodeName(Member m) {
        String n = m.getAttribute(NODE_ATTRIBUTE);
        return n != null ? n : String.valueOf(m.getAddress());
    }

    /** The node link address of a member, {@code null} if it published none. */
    static InetSocketAddress linkAddress(Member m) {
        String a = m.getAttribute(LINK_ATTRIBUTE);
        if (a == null) {
            return null;
        }
        int colon = a.lastIndexOf(':');
        try {
            return InetSocketAddress.createUnresolved(a.substring(0, colon), Integer.parseInt(a.substring(colon + 1)));
        } catch (RuntimeException e) {
            LOG.warn("Cluster: member {} published a bad link address '{}'", m.getAddress(), a);
            return null;
        }
    }

    private void sizeChanged(Set<Member> members) {
        int before = size;
        size = members.size();
        int min = config.minSize();
        if (before >= min && size < min) {
            LOG.warn("Cluster: node {} sees {} of at least {} members: refusing new connections", config.nodeName(),
                    size, min);
        } else if (before < min && size >= min) {
            LOG.info("Cluster: node {} sees {} members (min-size {}): accepting connections", config.nodeName(),
                    size, min);
        }
    }

    private static String describe(Set<Member> members) {
        List<String> names = new ArrayList<>();
        for (Member m : members) {
            names.add(nodeName(m) + "@" + m.getAddress().getHost() + ":" + m.getAddress().getPort());
        }
        names.sort(null);
        return "members (" + names.size() + "): " + String.join(", ", names);
    }

    /** Hazelcast's membership events, on its event threads. */
    private final class Listener implements InitialMembershipListener {

        @Override
        public void init(InitialMembershipEvent event) {
            Set<Member> members = event.getMembers();
            LOG.info("Cluster: node {} joined; {}", config.nodeName(), describe(members));
            size = members.size();
            if (size < config.minSize()) {
                LOG.warn("Cluster: node {} sees {} of at least {} members: refusing new connections",
                        config.nodeName(), size, config.minSize());
            }
        }

        @Override
        public void memberAdded(MembershipEvent event) {
            Member m = event.getMember();
            LOG.info("Cluster: node {} joined; {}", nodeName(m), describe(event.getMembers()));
            sizeChanged(event.getMembers());
            for (PeerListener l : peers) {
                l.memberUp(nodeName(m), linkAddress(m));
            }
        }

        @Override
        public void memberRemoved(MembershipEvent event) {
            Member m = event.getMember();
            LOG.info("Cluster: node {} left; {}", nodeName(m), describe(event.getMembers()));
            sizeChanged(event.getMembers());
            for (PeerListener l : peers) {
                l.memberDown(nodeName(m));
            }
            String gone = nodeName(m);
            if (!closed) {
                events.execute(() -> {
                    if (ownership != null) {
                        ownership.nodeGone(gone);
                    }
                });
            }
        }
    }
}
