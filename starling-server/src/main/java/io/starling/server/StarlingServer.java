package io.starling.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.starling.broker.Broker;
import io.starling.broker.acl.Acl;
import io.starling.broker.auth.AuthFailureLimiter;
import io.starling.broker.auth.Authenticator;
import io.starling.broker.auth.InMemoryScramCredentialStore;
import io.starling.broker.auth.ListenerSecurity;
import io.starling.broker.auth.PasswordFileAuthenticator;
import io.starling.broker.auth.ScramSha256Authenticator;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.SecurityConfig;
import io.starling.broker.session.ClientConnection;
import io.starling.broker.session.Session;
import io.starling.broker.store.InMemoryStore;
import io.starling.broker.store.Store;
import io.starling.broker.sys.SysTopics;
import io.starling.store.rocksdb.RocksDbConfig;
import io.starling.store.rocksdb.RocksDbStore;
import io.starling.store.rocksdb.StoreException;
import io.starling.codec.ReasonCode;
import io.starling.broker.config.ListenerConfig;
import io.starling.server.admin.AdminContext;
import io.starling.server.admin.AdminServer;
import io.starling.server.integration.AuthChains;
import io.starling.server.integration.Webhooks;
import io.starling.server.bridge.Bridges;
import io.starling.server.pipeline.ListenerInitializer;
import io.starling.server.protocol.ConnectionSweepers;
import io.starling.server.transport.ConnectionGate;
import io.starling.server.transport.IncompletePacketBudget;
import io.starling.server.transport.ReloadingSslContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Starling broker: its listeners, their event loops and the engine. Start with
 * {@link #start(BrokerConfig)}, stop with {@link #close()}. Thread-safe. {@link #start} throws a
 * {@link StoreException} for a data directory that cannot be used.
 *
 * <p>Each listener of {@link BrokerConfig#effectiveListeners()} ({@code tcp}, {@code tls}, {@code ws},
 * {@code wss}) gets its own server channel; {@link ListenerInitializer} builds the pipeline of its connections
 * (handler names are listed there and in docs/architecture.md). All listeners share the worker event loops.
 * The TLS contexts of {@code tls}/{@code wss} listeners are checked for changed files every
 * {@link #TLS_RELOAD_INTERVAL_SECONDS} seconds.
 */
public final class StarlingServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StarlingServer.class);
    /**
     * The receive-buffer sizing policy of every connection (a policy holds no per-connection state: each channel
     * takes its own handle from it), instead of a policy object per connection.
     */
    private static final AdaptiveRecvByteBufAllocator RECV_ALLOCATOR = new AdaptiveRecvByteBufAllocator();

    /** How often the certificate files of TLS listeners are checked for changes. */
    public static final int TLS_RELOAD_INTERVAL_SECONDS = 2;

    /** How often the password files and the ACL file are checked for changes. */
    public static final int SECURITY_RELOAD_INTERVAL_SECONDS = 2;

    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final Broker broker;
    private final Store store;
    private final List<Channel> serverChannels = new ArrayList<>();
    private final List<Integer> ports = new ArrayList<>();
    private final List<ReloadingSslContext> tlsContexts = new ArrayList<>();
    private final ConnectionGate gate;
    private final IncompletePacketBudget incompletePackets;
    private final Map<Path, PasswordFileAuthenticator> passwordFiles = new LinkedHashMap<>();
    /** Password files as backends of an authentication chain (they leave unknown users to the next backend). */
    private final Map<Path, PasswordFileAuthenticator> chainedPasswordFiles = new LinkedHashMap<>();
    private AuthChains authChains;
    /** The webhooks; {@code null} without any. */
    private Webhooks webhooks;
    private ExecutorService verifier;
    private AuthFailureLimiter authFailureLimiter;
    private final Acl acl;
    private ScheduledFuture<?> tlsReload;
    private ScheduledFuture<?> securityReload;
    private final SysTopics sysTopics;
    /** The MQTT bridges to other brokers (none unless configured). */
    private Bridges bridges;
    /** This node's membership of its cluster ({@code ClusterNode}); {@code null} without a {@code cluster} section. */
    private AutoCloseable cluster;
    /** The admin listener; {@code null} when the config has none. */
    private AdminServer admin;
    /** Set once the store recovered and every MQTT listener is bound; cleared when closing begins. */
    private volatile boolean ready;
    private final long startNanos = System.nanoTime();
    private final List<AdminContext.BoundListener> bound = new java.util.concurrent.CopyOnWriteArrayList<>();

    private StarlingServer(BrokerConfig config, Authenticator authenticator) throws InterruptedException {
        List<ListenerConfig> listeners = config.effectiveListeners();
        List<ListenerSecurity> security;
        try {
            // password and ACL files first: a missing or broken one stops the start-up before anything listens
            security = listenerSecurity(config, listeners, authenticator);
            Path aclFile = config.security().aclFile();
            acl = aclFile == null ? null : new Acl(aclFile);
            if (acl != null) {
                LOG.info("ACL file {}: {} rules", aclFile, acl.file().current().rules().size());
            }
            // refuse before anything starts: a listener others can reach needs authentication or explicit consent
            for (ListenerSecurity s : security) {
                checkExposure(s);
            }
            if (config.admin().enabled()) {
                // before the store: /health/live answers and /health/ready says 503 while a large store recovers
                admin = AdminServer.start(config.admin(), config.security().passwordFile(), config, () -> ready,
                        startNanos);
            }
        } catch (RuntimeException e) {
            stopVerifier();
            throw e;
        }
        try {
            store = openStore(config); // a data directory that cannot be used stops the start-up here
        } catch (RuntimeException e) {
            closeAdmin();
            stopVerifier();
            throw e;
        }
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        bossGroup = new MultiThreadIoEventLoopGroup(1, io);
        // one loop per core: more loops only add hand-offs between them (see docs/architecture.md)
        int ioThreads = config.ioThreads() > 0 ? config.ioThreads() : Runtime.getRuntime().availableProcessors();
        workerGroup = new MultiThreadIoEventLoopGroup(ioThreads, io);
        try {
            broker = new Broker(config, workerGroup, store, acl); // recovers the sessions of the store
        } catch (RuntimeException e) {
            closeAdmin();
            shutdownGroups();
            store.close();
            stopVerifier();
            throw e;
        }
        if (config.webhooks().enabled()) {
            webhooks = new Webhooks(config.webhooks()); // the broker's events to HTTP receivers (docs/integrations.md)
            broker.hook(webhooks);
        }
        // 5.0 enhanced authentication: SCRAM-SHA-256 is built in; its users come from the config
        broker.enhancedAuth().register(new ScramSha256Authenticator(
                InMemoryScramCredentialStore.fromPasswords(config.scramUsers())));
        AuthFailureLimiter limiter = authFailureLimiter;
        if (limiter != null) {
            broker.metrics().blockedAddresses(limiter::blockedAddresses);
        }
        // one clock for the server's deadlines and rate limits: the broker's
        LongSupplier nanoClock = broker.clock()::nanos;
        gate = new ConnectionGate(config.limits(), nanoClock);
        incompletePackets = new IncompletePacketBudget(config.limits().maxIncompletePacketBytesTotal(), nanoClock);
        // the deadlines of all connections (connect timeout, keep-alive), one sweeper per event loop
        ConnectionSweepers sweepers = new ConnectionSweepers(nanoClock);
        Class<? extends ServerSocketChannel> channelClass = epoll ? EpollServerSocketChannel.class
                : NioServerSocketChannel.class;
        try {
            if (config.cluster() != null) {
                // joins before any listener binds: the minimum-size gate is in place before the first CONNECT
                cluster = ClusterStart.start(config, broker, workerGroup);
            }
            if (admin != null) {
                admin.attach(new AdminContext(broker, gate, incompletePackets, () -> List.copyOf(bound)));
            }
            for (int i = 0; i < listeners.size(); i++) {
                ListenerConfig l = listeners.get(i);
                ReloadingSslContext ssl = l.type().secure() ? new ReloadingSslContext(l) : null;
                if (ssl != null) {
                    tlsContexts.add(ssl);
                }
                ServerBootstrap b = new ServerBootstrap()
                        .group(bossGroup, workerGroup)
                        .channel(channelClass)
                        .option(ChannelOption.SO_BACKLOG, 4096)
                        .option(ChannelOption.SO_REUSEADDR, true)
                        // max-connections and the connect rate are decided here, before a connection is read
                        .handler(gate.handler(l))
                        .childOption(ChannelOption.TCP_NODELAY, true)
                        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 128 * 1024))
                        // one allocator policy object for all connections (each still has its own handle)
                        .childOption(ChannelOption.RECVBUF_ALLOCATOR, RECV_ALLOCATOR)
                        .childHandler(new ListenerInitializer(l, broker, ssl, security.get(i),
                                incompletePackets, sweepers));
                Channel ch;
                try {
                    ch = b.bind(new InetSocketAddress(l.bind(), l.port())).sync().channel();
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception e) { // sync() rethrows the BindException unchecked
                    throw new IllegalStateException(l.describe() + ": cannot bind: " + e.getMessage(), e);
                }
                serverChannels.add(ch);
                int port = ((InetSocketAddress) ch.localAddress()).getPort();
                ports.add(port);
                bound.add(new AdminContext.BoundListener(l.type().configName(), l.bind(), port));
                LOG.info("Starling listening for MQTT on {} ({}:{}{})", l.type().configName(), l.bind(), port,
                        l.type().webSocket() ? l.path() : "");
            }
            // bridges last: their local sessions were recovered with the store; a bad TLS file stops the start-up
            bridges = Bridges.start(config.bridges(), broker, workerGroup,
                    epoll ? io.netty.channel.epoll.EpollSocketChannel.class
                            : io.netty.channel.socket.nio.NioSocketChannel.class);
            if (admin != null) {
                bridges.bindMetrics(admin.registry());
            }
        } catch (RuntimeException | InterruptedException e) {
            for (Channel ch : serverChannels) {
                ch.close().syncUninterruptibly();
            }
            closeCluster();
            closeAdmin();
            shutdownGroups();
            store.close();
            stopVerifier();
            throw e;
        }
        if (!tlsContexts.isEmpty()) {
            tlsReload = bossGroup.next().scheduleWithFixedDelay(this::reloadTls, TLS_RELOAD_INTERVAL_SECONDS,
                    TLS_RELOAD_INTERVAL_SECONDS, TimeUnit.SECONDS);
        }
        if (!passwordFiles.isEmpty() || !chainedPasswordFiles.isEmpty() || acl != null) {
            securityReload = bossGroup.next().scheduleWithFixedDelay(this::reloadSecurityFiles,
                    SECURITY_RELOAD_INTERVAL_SECONDS, SECURITY_RELOAD_INTERVAL_SECONDS, TimeUnit.SECONDS);
        }
        // $SYS/broker/...: every sys-interval-seconds on one worker loop, uptime counted from here
        sysTopics = new SysTopics(broker);
        sysTopics.start(workerGroup.next());
        ready = true;
        LOG.info("Starling started: {} listener(s), {} transport, {} event loops", listeners.size(),
                epoll ? "epoll" : "nio", loopCount(workerGroup));
    }

    private void reloadTls() {
        for (ReloadingSslContext c : tlsContexts) {
            try {
                c.reloadIfChanged();
            } catch (RuntimeException e) {
                LOG.warn("TLS reload failed", e);
            }
        }
    }

    /**
     * The authentication of each listener: its own password file, else the broker's {@code password-file}, else the
     * given authenticator (if any). Listeners naming the same file share one {@link PasswordFileAuthenticator}.
     */
    private List<ListenerSecurity> listenerSecurity(BrokerConfig config, List<ListenerConfig> listeners,
            Authenticator authenticator) {
        SecurityConfig sc = config.security();
        AuthFailureLimiter limiter = new AuthFailureLimiter(sc.authFailureLimit(), sc.authFailureWindow(), sc.authBlock());
        authFailureLimiter = limiter;
        List<ListenerSecurity> out = new ArrayList<>();
        authChains = new AuthChains(config.authentication(), p -> chainedPasswordFiles.computeIfAbsent(
                p.toAbsolutePath().normalize(), f -> new PasswordFileAuthenticator(f, verifier(), true)));
        for (ListenerConfig l : listeners) {
            Path file = l.passwordFile() != null ? l.passwordFile() : sc.passwordFile();
            Authenticator a = authenticator;
            Authenticator chain = authChains.forListener(l, file); // the authentication key (docs/integrations.md)
            if (chain != null) {
                a = chain;
            } else if (file != null) {
                a = passwordFiles.computeIfAbsent(file.toAbsolutePath().normalize(), p -> {
                    PasswordFileAuthenticator pfa = new PasswordFileAuthenticator(p, verifier());
                    LOG.info("Password file {}: {} users", p, pfa.file().current().size());
                    return pfa;
                });
            }
            out.add(new ListenerSecurity(l, a, limiter));
        }
        return out;
    }

    /**
     * The executor of password verifications: half the processors (at least one) and a queue of 64 per thread, so
     * key stretching never runs on an event loop and cannot take more than half the machine; the queue is fair
     * between client addresses, at most a quarter of it from one (see {@link io.starling.broker.auth.VerifierPool}).
     */
    private ExecutorService verifier() {
        if (verifier == null) {
            int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
            verifier = PasswordFileAuthenticator.newVerifierExecutor(threads, 64 * threads);
        }
        return verifier;
    }

    private void stopVerifier() {
        if (authChains != null) {
            authChains.close();
        }
        if (verifier != null) {
            verifier.shutdownNow();
        }
    }

    private void reloadSecurityFiles() {
        List<PasswordFileAuthenticator> files = new ArrayList<>(passwordFiles.values());
        files.addAll(chainedPasswordFiles.values());
        for (PasswordFileAuthenticator a : files) {
            try {
                a.file().reloadIfChanged();
            } catch (RuntimeException e) {
                LOG.warn("Password file reload failed", e);
            }
        }
        if (acl != null) {
            try {
                acl.reloadIfChanged();
            } catch (RuntimeException e) {
                LOG.warn("ACL file reload failed", e);
            }
        }
    }

    /** The failed-login limit shared by the listeners (for tests and tools). */
    public AuthFailureLimiter authFailureLimiter() {
        return authFailureLimiter;
    }

    /** The password file authenticators in use, by absolute path (for tests and tools). */
    public Map<Path, PasswordFileAuthenticator> passwordFiles() {
        return Map.copyOf(passwordFiles);
    }

    /**
     * Refuses a listener on an address other than loopback unless it authenticates clients (a password file,
     * an authenticator or user names from certificates) or says {@code allow-anonymous: true}: otherwise anyone
     * who can reach it could use the broker.
     */
    static void checkExposure(ListenerSecurity s) {
        ListenerConfig l = s.listener();
        if (l.allowAnonymous() || s.authenticates()) {
            return;
        }
        boolean loopback;
        try {
            loopback = InetAddress.getByName(l.bind()).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(l.describe() + ": unknown bind address '" + l.bind() + "'", e);
        }
        if (!loopback) {
            throw new IllegalArgumentException(l.describe() + " is bound to a non-loopback address and has no"
                    + " authentication: configure a password-file (docs/security.md), or, to accept anonymous clients"
                    + " from the network, declare it in the listeners of the config file with allow-anonymous: true"
                    + " (docs/configuration.md)");
        }
    }

    private static int loopCount(EventLoopGroup group) {
        int n = 0;
        for (var it = group.iterator(); it.hasNext(); it.next()) {
            n++;
        }
        return n;
    }

    /** Starts a broker and returns once its listener accepts connections. */
    public static StarlingServer start(BrokerConfig config) {
        return start(config, null);
    }

    /**
     * Starts a broker with an {@link Authenticator} of the embedding application (an HTTP or JWT backend, say),
     * used by every listener that has no password file (its own or the broker's); the caller keeps ownership of it.
     *
     * @param authenticator {@code null} for none
     */
    public static StarlingServer start(BrokerConfig config, Authenticator authenticator) {
        try {
            return new StarlingServer(config, authenticator);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting", e);
        }
    }

    /** The port the first listener is bound to (the ephemeral one when the config said 0). */
    public int port() {
        return ports.get(0);
    }

    /** The port listener {@code index} (in the order of the config) is bound to. */
    public int port(int index) {
        return ports.get(index);
    }

    /** The ports of all listeners, in the order of the config. */
    public List<Integer> ports() {
        return List.copyOf(ports);
    }

    /** The port the admin listener is bound to (the ephemeral one when the config said 0); -1 without one. */
    public int adminPort() {
        return admin == null ? -1 : admin.port();
    }

    /** Whether the broker serves clients: its store recovered and every MQTT listener bound, not closing. */
    public boolean ready() {
        return ready;
    }

    /** The MQTT bridges to other brokers. */
    public Bridges bridges() {
        return bridges;
    }

    public Broker broker() {
        return broker;
    }

    /** Admission of new connections: open connections and refusals (max-connections, connect rate). */
    public ConnectionGate connectionGate() {
        return gate;
    }

    /** Bytes held for incomplete packets over all connections, and the connections closed for them. */
    public IncompletePacketBudget incompletePackets() {
        return incompletePackets;
    }

    /**
     * Stops accepting, disconnects every client (5.0 clients get DISCONNECT 0x8B, server shutting down), then
     * stops the event loops; returns when they are done.
     */
    @Override
    public void close() {
        ready = false; // /health/ready answers 503 from now on
        if (bridges != null) {
            bridges.close(); // before the sessions: a bridge's link is closed for good, not reconnected
        }
        sysTopics.stop();
        if (tlsReload != null) {
            tlsReload.cancel(false);
        }
        if (securityReload != null) {
            securityReload.cancel(false);
        }
        for (Channel ch : serverChannels) {
            ch.close().syncUninterruptibly();
        }
        // connected clients get DISCONNECT 0x8B (5.0) through their sessions; connections still at CONNECT close
        // with their event loops. No registry of channels: a connection costs no entry for this.
        for (Session s : broker.sessions().all()) {
            s.execute(() -> {
                ClientConnection c = s.connection();
                if (c != null) {
                    c.closeWithReason(ReasonCode.SERVER_SHUTTING_DOWN);
                }
            });
        }
        awaitConnectionsClosed(TimeUnit.SECONDS.toNanos(5));
        closeCluster(); // leaves the cluster while the event loops still run
        closeAdmin();
        shutdownGroups();
        stopVerifier();
        if (webhooks != null) {
            webhooks.close();
        }
        store.close(); // after the loops: nothing writes any more; RocksDB syncs its log
        LOG.info("Starling stopped");
    }

    /**
     * The store of the {@code storage} key. RocksDB refuses a data directory that is locked, corrupt or foreign with
     * a {@link StoreException} whose message names the directory and what to do.
     */
    private static Store openStore(BrokerConfig config) {
        if (config.storage() == BrokerConfig.Storage.MEMORY) {
            return new InMemoryStore();
        }
        RocksDbConfig rc = RocksDbConfig.defaults(config.dataDir())
                .withFsync(config.fsync())
                .withQueueLimits(config.maxQueuedMessages(), config.maxQueuedBytes())
                .withMaxStoredBytesTotal(config.limits().maxStoredBytesTotal());
        RocksDbStore s = RocksDbStore.open(rc);
        LOG.info("Storage: RocksDB in {} (fsync {})", s.dbDir(), rc.fsync().configValue());
        return s;
    }

    /** Waits until the connections that had a session have closed (at most {@code nanos}). */
    private void awaitConnectionsClosed(long nanos) {
        long deadline = System.nanoTime() + nanos;
        while (gate.openConnections() > 0 && anyOnline() && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private boolean anyOnline() {
        for (Session s : broker.sessions().all()) {
            if (s.isOnline()) {
                return true;
            }
        }
        return false;
    }

    private void closeCluster() {
        if (cluster != null) {
            try {
                cluster.close();
            } catch (Exception e) {
                LOG.warn("Leaving the cluster failed", e);
            }
        }
    }

    private void closeAdmin() {
        if (admin != null) {
            admin.close();
        }
    }

    private void shutdownGroups() {
        bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
