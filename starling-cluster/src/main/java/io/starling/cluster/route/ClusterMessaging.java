package io.starling.cluster.route;

import com.hazelcast.core.EntryAdapter;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.map.MapEvent;
import com.hazelcast.replicatedmap.ReplicatedMap;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.starling.broker.Broker;
import io.starling.broker.config.ClusterConfig;
import io.starling.broker.message.Delivery;
import io.starling.broker.store.QueueOwner;
import io.starling.broker.store.SessionRecord;
import io.starling.broker.store.StoredQueue;
import io.starling.broker.store.StoredSession;
import io.starling.broker.topic.Subscription;
import java.util.List;
import io.starling.broker.message.Message;
import io.starling.cluster.link.NodeLink;
import io.starling.cluster.link.PeerStats;
import io.starling.cluster.membership.PeerListener;
import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Messages between the nodes of a cluster, as one facade: this node's routes published in the replicated route map
 * ({@value #ROUTES}, keys {@code (node, filter)}, each node writing only its own), the other nodes' routes read from
 * it into a local index, the routing hook installed in the broker (a message published here goes once to each node
 * with a matching route), and the node link that carries the messages and hands those from peers to the broker's
 * local subscribers only.
 *
 * <p>Life cycle: {@link #start} once Hazelcast is up; {@link #memberUp}/{@link #memberDown} from the membership
 * listener (also for the members present at the start); {@link #close} before Hazelcast shuts down.
 */
public final class ClusterMessaging implements AutoCloseable, PeerListener {

    /** The replicated map of routes: key {@code node NUL filter}, value the number of subscriptions on that node. */
    public static final String ROUTES = "starling.routes";

    private static final Logger LOG = LoggerFactory.getLogger(ClusterMessaging.class);
    /** This node's record of what it applied from a peer: {@code $cluster/inbox/{peer}}. */
    static final String INBOX = Broker.RESERVED_PREFIX + "inbox/";
    /** The subscription of an inbox record that holds the highest sequence applied. */
    static final String APPLIED = Broker.RESERVED_PREFIX + "applied/";
    /** The expiry of the cluster's records: never (the largest Session Expiry Interval). */
    static final long RECORD_EXPIRY = 0xFFFFFFFFL;
    /** This node's record: its incarnation, kept across restarts ({@code $cluster/node}). */
    static final String NODE = Broker.RESERVED_PREFIX + "node";
    static final String INCARNATION = Broker.RESERVED_PREFIX + "incarnation/";
    /** This node's stored outbox for a peer: {@code $cluster/outbox/{peer}}. */
    static final String OUTBOX = Broker.RESERVED_PREFIX + "outbox/";
    /** The inbox records, by peer; used on the link's loop. */
    private final Map<String, io.starling.broker.store.SessionRecord> inboxes = new java.util.HashMap<>();
    private final Map<String, String> inboxApplied = new java.util.HashMap<>();

    private final String nodeName;
    private final HazelcastInstance hz;
    private final Broker broker;
    private final NodeLink link;
    private final RouteTable routes;
    private ReplicatedMap<String, Integer> map;
    private LocalRoutes local;
    private UUID listener;
    private UUID lifecycle;
    private final InetSocketAddress linkBind;
    /** Whether the store keeps sessions: then outboxes are stored and what was applied is recorded. */
    private final boolean durable;
    /** Stored messages an outbox may hold: the store's per-queue limit. */
    private final int outboxLimit;
    /** The stored outbox of each peer (with a store that keeps sessions); read from the publishers' loops. */
    private final Map<String, PeerOutbox> outboxes = new java.util.concurrent.ConcurrentHashMap<>();
    private InetSocketAddress boundLink;

    /**
     * The cluster's messaging for a node of {@code config}: the node link on {@code bind}:{@code link-port}.
     *
     * @param secret the cluster's shared secret
     */
    public ClusterMessaging(ClusterConfig config, byte[] secret, HazelcastInstance hz, Broker broker,
            EventLoopGroup group) {
        this(config.nodeName(), new InetSocketAddress(config.bind(), config.linkPort()), secret, hz, broker, group);
        if (config.tlsCa() != null) {
            tls(config.tlsCert(), config.tlsKey(), config.tlsCa());
        }
    }

    /**
     * Runs the node link over mutual TLS with the cluster's CA (before {@link #start}): each node presents
     * {@code cert} (PEM, with its PKCS#8 {@code key}) and accepts only a peer whose certificate {@code ca} signed.
     * Host names are not checked: a certificate of the cluster's CA is what makes a member.
     */
    public void tls(java.nio.file.Path cert, java.nio.file.Path key, java.nio.file.Path ca) {
        try {
            io.netty.handler.ssl.SslContext server = io.netty.handler.ssl.SslContextBuilder
                    .forServer(cert.toFile(), key.toFile()).trustManager(ca.toFile())
                    .clientAuth(io.netty.handler.ssl.ClientAuth.REQUIRE).build();
            io.netty.handler.ssl.SslContext client = io.netty.handler.ssl.SslContextBuilder.forClient()
                    .keyManager(cert.toFile(), key.toFile()).trustManager(ca.toFile())
                    .endpointIdentificationAlgorithm(null).build();
            link.tls(server, client);
        } catch (javax.net.ssl.SSLException | RuntimeException e) {
            throw new IllegalArgumentException("cluster: tls: cannot use cert " + cert + ", key " + key + ", ca " + ca
                    + ": " + e.getMessage(), e);
        }
    }

    /**
     * @param nodeName this node's name (unique in the cluster)
     * @param linkBind where the node link accepts peers (port 0: any free port, see {@link #linkAddress})
     * @param secret the cluster's shared secret (at least 16 bytes)
     * @param hz the embedded Hazelcast member, started
     * @param broker this node's broker
     * @param group the broker's event loops: the node link runs on one of them
     */
    public ClusterMessaging(String nodeName, InetSocketAddress linkBind, byte[] secret, HazelcastInstance hz,
            Broker broker, EventLoopGroup group) {
        this(nodeName, linkBind, secret, hz, broker, group, NodeLink.Settings.DEFAULTS);
    }

    /** As above, with the node link's bounds and pace. */
    public ClusterMessaging(String nodeName, InetSocketAddress linkBind, byte[] secret, HazelcastInstance hz,
            Broker broker, EventLoopGroup group, NodeLink.Settings settings) {
        this.nodeName = nodeName;
        this.hz = hz;
        this.broker = broker;
        this.routes = new RouteTable(nodeName);
        EventLoop loop = group.next();
        NodeLink.Settings s = new NodeLink.Settings(settings.batch(), settings.maxFrameBytes(),
                Math.max(settings.maxMessageBytes(), broker.config().maxPacketSize()), settings.maxWaiting(),
                settings.maxWaitingBytes(), settings.handshakeTimeoutMillis(), settings.redialMillis());
        this.link = new NodeLink(nodeName, linkBind, secret, loop, group, new Inbound(), s);
        io.starling.broker.routing.DeliveryGovernor governor = broker.governor();
        link.backlog(new NodeLink.Backlog() {
            @Override
            public void added(int messages) {
                governor.handedOver(messages);
            }

            @Override
            public void removed(int messages) {
                governor.processed(messages);
            }
        });
        this.linkBind = linkBind;
        this.durable = broker.store().persistsSessions();
        this.outboxLimit = broker.config().maxQueuedMessages();
    }

    /** A peer's stored outbox: a queue of the store, owned by the link's loop. */
    private final class PeerOutbox implements QueueOwner {
        final String peer;
        final SessionRecord record;
        /** Stored messages not yet released (appended, or read back). */
        final java.util.concurrent.atomic.AtomicInteger waiting = new java.util.concurrent.atomic.AtomicInteger();

        PeerOutbox(String peer, SessionRecord record) {
            this.peer = peer;
            this.record = record;
        }

        @Override
        public void execute(Runnable task) {
            if (link.loop().inEventLoop()) {
                task.run();
            } else {
                link.loop().execute(task);
            }
        }

        @Override
        public StoredQueue storedQueue() {
            return record.queue();
        }

        @Override
        public void deliverStored(Delivery d) {
            Message m = d.message();
            List<String> groups = OutboxMessages.groups(m);
            link.sendStored(peer, groups == null ? m : OutboxMessages.withoutGroups(m), groups, d.seq(), d);
        }

        @Override
        public void storedQueueFull() {
            waiting.decrementAndGet();
            LOG.warn("Node link: the stored outbox for '{}' is full; a message for it was dropped", peer);
        }

        /** Reads every stored message back and queues it for the link, in order (blocking; at start). */
        int readAll() {
            int n = 0;
            long after = 0;
            while (true) {
                java.util.concurrent.CompletableFuture<Long> page = new java.util.concurrent.CompletableFuture<>();
                record.queue().read(after, 1024, this, ds -> {
                    for (Delivery d : ds) {
                        waiting.incrementAndGet();
                        deliverStored(d);
                    }
                    page.complete(ds.isEmpty() ? -1L : ds.get(ds.size() - 1).seq());
                });
                long last = page.join();
                if (last < 0) {
                    return n;
                }
                n = waiting.get();
                after = last;
            }
        }
    }

    /**
     * Binds the node link, reads the other nodes' routes and follows their changes, publishes this node's routes and
     * installs the routing hook in the broker.
     */
    public void start() {
        recoverInboxes();
        recoverOutboxes();
        boundLink = link.start();
        map = hz.getReplicatedMap(ROUTES);
        listener = map.addEntryListener(new EntryAdapter<>() {
            @Override
            public void onEntryEvent(EntryEvent<String, Integer> e) {
                apply(e.getKey(), switch (e.getEventType()) {
                    case ADDED, UPDATED, MERGED -> e.getValue();
                    default -> null;
                });
            }

            @Override
            public void onMapEvent(MapEvent e) {
                LOG.warn("Cluster routes: the route map was {}; every node writes its routes again at its next rejoin",
                        e.getEventType());
            }
        });
        for (Map.Entry<String, Integer> e : map.entrySet()) {
            apply(e.getKey(), e.getValue());
        }
        local = new LocalRoutes(nodeName, map);
        local.start(broker.subscriptionIndex().listen(local));
        lifecycle = hz.getLifecycleService().addLifecycleListener(e -> {
            if (e.getState() == LifecycleEvent.LifecycleState.MERGED) {
                LOG.info("Cluster routes: merged into a cluster; writing this node's routes again");
                local.reassert();
            }
        });
        broker.clusterRouting(new RemoteRouter(routes, this::forward));
        broker.metrics().cluster(link::stats);
        LOG.info("Cluster messaging of '{}' started: node link on {}, {} route(s) of this node", nodeName, boundLink,
                local.size());
    }

    /**
     * Sends a message published here to a node: a QoS 1/2 message through the node's stored outbox for that peer when
     * there is one (written in the commit the publisher's acknowledgement waits for, sent once committed, removed once
     * the peer has it), anything else straight to the link. An outbox at its bound (the store's per-queue limit) is
     * passed by: the message goes straight to the link, not stored.
     */
    private void forward(String node, Message m, List<String> groups) {
        PeerOutbox o = m.qos() > 0 ? outboxes.get(node) : null;
        if (o == null || o.waiting.get() >= outboxLimit) {
            link.send(node, m, groups);
            return;
        }
        Message stored = groups == null ? m : OutboxMessages.withGroups(m, groups);
        o.waiting.incrementAndGet();
        broker.store().queues().append(stored, List.of(o), List.of(new Delivery(stored, m.qos(), m.retain(), List.of())));
    }

    /** The stored outbox of a peer is ready (on the link's loop): created now, or recovered. */
    private void openOutbox(String peer) {
        if (!durable || outboxes.containsKey(peer)) {
            return;
        }
        SessionRecord r = broker.store().sessions().create(OUTBOX + peer);
        r.save(RECORD_EXPIRY, 0, null, List.of());
        outboxes.put(peer, new PeerOutbox(peer, r));
    }

    /** A stored message the peer has: its entry goes (on the link's loop). */
    private void released(String peer, Object token) {
        PeerOutbox o = outboxes.get(peer);
        if (o != null && token instanceof Delivery d) {
            o.record.queue().ack(d);
            o.waiting.decrementAndGet();
        }
    }

    /**
     * With a store that keeps sessions: this node's incarnation from its record {@code $cluster/node} (made at the
     * first start), and each peer's outbox {@code $cluster/outbox/{peer}} read back and queued for the link, before
     * anything new (numbers only grow).
     */
    private void recoverOutboxes() {
        if (!durable) {
            return;
        }
        long incarnation = 0;
        for (StoredSession st : broker.reservedRecords()) {
            if (st.clientId().equals(NODE)) {
                for (Subscription s : st.subscriptions()) {
                    if (s.filter().startsWith(INCARNATION)) {
                        incarnation = Long.parseLong(s.filter().substring(INCARNATION.length()));
                    }
                }
            }
        }
        if (incarnation == 0) {
            long inc = new java.security.SecureRandom().nextLong() | 1;
            link.loop().submit(() -> {
                SessionRecord r = broker.store().sessions().create(NODE);
                r.save(RECORD_EXPIRY, 0, null, List.of(new Subscription(NODE, INCARNATION + inc, 0, false, false, 0,
                        0)));
            }).syncUninterruptibly();
            incarnation = inc;
        }
        link.storedOutbox(incarnation, this::released);
        for (StoredSession st : broker.reservedRecords()) {
            if (!st.clientId().startsWith(OUTBOX)) {
                continue;
            }
            PeerOutbox o = new PeerOutbox(st.clientId().substring(OUTBOX.length()), st.record());
            outboxes.put(o.peer, o);
            int n = o.readAll();
            if (n > 0) {
                LOG.info("Node link: {} stored message(s) for '{}' to send", n, o.peer);
            }
        }
    }

    /** Reads back what this node had applied from each peer before it stopped (a store that keeps sessions only). */
    private void recoverInboxes() {
        for (io.starling.broker.store.StoredSession st : broker.reservedRecords()) {
            if (!st.clientId().startsWith(INBOX)) {
                continue;
            }
            String peer = st.clientId().substring(INBOX.length());
            for (io.starling.broker.topic.Subscription s : st.subscriptions()) {
                if (!s.filter().startsWith(APPLIED)) {
                    continue;
                }
                String[] parts = s.filter().substring(APPLIED.length()).split("/");
                try {
                    long inc = Long.parseLong(parts[0]);
                    long seq = Long.parseLong(parts[1]);
                    link.restoreApplied(peer, inc, seq);
                    inboxes.put(peer, st.record());
                    inboxApplied.put(peer, s.filter());
                    LOG.info("Node link: recovered what this node applied from '{}' (up to {})", peer, seq);
                } catch (RuntimeException e) {
                    LOG.warn("Node link: unreadable record of what was applied from '{}': {}", peer, s.filter());
                }
            }
        }
    }

    private void apply(String key, Integer count) {
        String node = LocalRoutes.node(key);
        if (node == null) {
            return;
        }
        routes.route(node, LocalRoutes.filter(key), count == null ? 0 : count);
    }

    /** Where the node link listens (once started). */
    public InetSocketAddress linkAddress() {
        return boundLink == null ? linkBind : boundLink;
    }

    /**
     * A member is up (or was there at the start): its routes match from now on and the node link to it is made. This
     * node's routes are written again, in case the map lost them while the two were apart.
     */
    @Override
    public void memberUp(String node, InetSocketAddress linkAddress) {
        if (node.equals(nodeName) || linkAddress == null) {
            return;
        }
        routes.nodeUp(node);
        if (durable) {
            link.loop().execute(() -> openOutbox(node));
        }
        link.peerUp(node, linkAddress);
        if (local != null) {
            local.reassert();
        }
    }

    /** A member is gone: nothing more is routed to it and its link is closed. */
    @Override
    public void memberDown(String node) {
        routes.nodeDown(node);
        link.peerDown(node);
    }

    /** The node link's traffic per peer, for the metrics. */
    public Collection<PeerStats> peers() {
        return link.stats();
    }

    /** This node's name. */
    public String nodeName() {
        return nodeName;
    }

    /** Whether a route of {@code node} matches {@code topic} (for tests and the admin API). */
    public boolean routesTo(String node, String topic) {
        boolean[] found = new boolean[1];
        routes.index().match(topic, s -> found[0] |= s.clientId().equals(node));
        return found[0] || sharedRouteTo(node, topic);
    }

    private boolean sharedRouteTo(String node, String topic) {
        boolean[] found = new boolean[1];
        routes.index().match(topic, new io.starling.broker.topic.SubscriptionIndex.MatchSink() {
            @Override
            public void onSubscription(io.starling.broker.topic.Subscription s) {
            }

            @Override
            public void onSharedGroup(io.starling.broker.topic.SharedGroup g) {
                found[0] |= g.members().stream().anyMatch(m -> m.clientId().equals(node));
            }
        });
        return found[0];
    }

    /** Stops routing to other nodes, removes this node's routes from the map, closes the node link. */
    @Override
    public void close() {
        broker.clusterRouting(null);
        broker.metrics().cluster(null);
        broker.subscriptionIndex().listen(null);
        boolean running = hz.getLifecycleService().isRunning();
        if (map != null && running) {
            map.removeEntryListener(listener);
            hz.getLifecycleService().removeLifecycleListener(lifecycle);
        }
        if (local != null) {
            local.close(running);
        }
        link.close();
    }

    /** What arrives from peers: routed to this node's subscribers only, acknowledged once stored. */
    private final class Inbound implements NodeLink.Inbound {
        @Override
        public void apply(String peer, Message m, Set<String> groups) {
            broker.publishFromPeer(m, groups);
        }

        @Override
        public void whenApplied(Runnable action, Runnable onFailure) {
            broker.store().whenDurable(action, onFailure);
        }

        @Override
        public boolean pauseIfBusy(Runnable pause, Runnable resume) {
            return broker.governor().pauseIfOverloaded(pause, resume);
        }

        @Override
        public void atomically(Runnable writes) {
            broker.store().atomically(writes);
        }

        /**
         * With a store that keeps sessions: the highest sequence applied from the peer goes into this node's record
         * {@code $cluster/inbox/{peer}} (as the subscription {@code $cluster/applied/{incarnation}/{seq}}), in the
         * commit of the messages it applied, so that after a crash this node drops exactly what it had.
         */
        @Override
        public void applied(String peer, long incarnation, long seq) {
            if (!broker.store().persistsSessions()) {
                return;
            }
            String id = INBOX + peer;
            io.starling.broker.store.SessionRecord r = inboxes.get(peer);
            if (r == null) {
                r = broker.store().sessions().create(id);
                r.save(RECORD_EXPIRY, 0, null, java.util.List.of());
                inboxes.put(peer, r);
            }
            String filter = APPLIED + incarnation + "/" + seq;
            String old = inboxApplied.put(peer, filter);
            if (old != null) {
                r.deleteSubscription(old);
            }
            r.saveSubscription(new io.starling.broker.topic.Subscription(id, filter, 0, false, false, 0, 0));
        }
    }
}
