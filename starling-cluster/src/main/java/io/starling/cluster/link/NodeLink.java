package io.starling.cluster.link;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import io.starling.broker.message.Message;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node link: one TCP connection to each other node of the cluster, carrying the messages published on one node
 * for the subscribers of the other, in batches.
 *
 * <ul>
 *   <li><b>Who connects:</b> of two nodes, the one whose name sorts first dials, the other accepts; a node accepts
 *       any peer that proves it holds the shared secret, and a new connection from a peer replaces an old one.</li>
 *   <li><b>Handshake:</b> HMAC-SHA256 challenge-response over a nonce of each side, both names and a role label, so
 *       each side proves it holds the secret without sending it; a side that fails is refused and logged.</li>
 *   <li><b>Batches:</b> messages handed to {@link #send} on a broker loop are gathered during that loop's pass and
 *       handed to the link's loop in one task; the link writes frames of up to {@link Settings#batch} messages while
 *       the socket is writable, and flushes once per pass.</li>
 *   <li><b>Sequence and acks:</b> each message to a peer gets the next sequence number of this node's incarnation;
 *       the peer applies messages in order, drops those it already applied, and acknowledges cumulatively once what it
 *       applied is stored ({@link Inbound#whenApplied}). Unacknowledged messages wait (bounded by
 *       {@link Settings#maxWaiting} messages and {@link Settings#maxWaitingBytes} bytes per peer: beyond, new ones are
 *       dropped and counted) and are sent again after a reconnect, from what the peer says it applied.</li>
 * </ul>
 *
 * <p>Threading: the link's state lives on one event loop ({@code loop}), where its connections are registered too;
 * {@link #send} may be called on any loop of {@code producers}.
 */
public final class NodeLink implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(NodeLink.class);

    /** What this node does with the messages its peers send. Called on the link's loop. */
    public interface Inbound {
        /** Routes a message from {@code peer} to this node's subscribers (and {@code groups}: shared groups). */
        void apply(String peer, Message m, Set<String> groups);

        /** Runs {@code action} once everything applied so far is stored; {@code onFailure} if it cannot be. */
        void whenApplied(Runnable action, Runnable onFailure);

        /**
         * After each frame: if this node is behind with what it applied (its loops have too much in hand), calls
         * {@code pause} (the link stops reading the peer, whose socket then fills, so the peer's publishers pause in
         * turn) and later {@code resume}; returns whether it paused. By default never.
         */
        default boolean pauseIfBusy(Runnable pause, Runnable resume) {
            return false;
        }

        /**
         * Runs the application of one frame (its {@link #apply} calls and {@link #applied}) so that what it stores is
         * committed together, all or none. By default it just runs it.
         */
        default void atomically(Runnable writes) {
            writes.run();
        }

        /**
         * Everything from {@code peer}'s incarnation up to {@code seq} is applied: to be stored with the messages
         * (inside {@link #atomically}), so that after a restart this node still drops what the peer sends again. The
         * stored value comes back through {@link NodeLink#restoreApplied}. By default not stored.
         */
        default void applied(String peer, long incarnation, long seq) {
        }
    }

    /**
     * Told how many messages wait for connected peers, so that publishers are paused while a peer is slower than they
     * are (the broker's {@code DeliveryGovernor}); messages waiting for a peer whose link is down are not counted (a
     * peer that is away must not stop this node). Called on the link's loop.
     */
    public interface Backlog {
        Backlog NONE = new Backlog() {
            @Override
            public void added(int messages) {
            }

            @Override
            public void removed(int messages) {
            }
        };

        void added(int messages);

        void removed(int messages);
    }

    /**
     * Bounds and pace of the link.
     *
     * @param batch most messages in one frame
     * @param maxFrameBytes a frame is closed once it reaches this many bytes (a single larger message gets a frame of
     *     its own); frames received may be up to this plus the largest message
     * @param maxMessageBytes the largest message the link carries (a peer's frame above this plus
     *     {@code maxFrameBytes} is an error)
     * @param maxWaiting messages waiting per peer (sent and not acknowledged, or not sent); a power of two
     * @param maxWaitingBytes bytes of messages waiting per peer
     * @param handshakeTimeoutMillis a connection that has not completed the handshake by then is closed
     * @param redialMillis pause between two attempts to connect to a peer
     */
    public record Settings(int batch, int maxFrameBytes, int maxMessageBytes, int maxWaiting, long maxWaitingBytes,
            long handshakeTimeoutMillis, long redialMillis) {

        /**
         * 256 messages or 256 KiB a frame, 512k messages or 256 MiB waiting per peer (above the broker's bound of
         * 256k messages in hand-off, at which publishers pause), 5 s to shake hands.
         */
        public static final Settings DEFAULTS = new Settings(256, 256 * 1024, 16 * 1024 * 1024, 512 * 1024,
                256L * 1024 * 1024, 5000, 500);

        public Settings {
            if (Integer.bitCount(maxWaiting) != 1) {
                throw new IllegalArgumentException("maxWaiting must be a power of two");
            }
        }
    }

    final String nodeName;
    final byte[] secret;
    final EventLoop loop;
    final Inbound inbound;
    final Settings settings;
    /** Where the messages waiting for connected peers are counted. */
    volatile Backlog backlog = Backlog.NONE;
    /** This run of the node: a new one after a restart, so that peers restart their sequence from it. */
    volatile long incarnation;
    final SecureRandom random = new SecureRandom();
    private final InetSocketAddress bind;
    private final Map<String, PeerLink> peers = new ConcurrentHashMap<>();
    private final Map<EventExecutor, Gather> gathers = new IdentityHashMap<>();
    private Channel server;
    /** Connections refused before the end of their handshake (TLS or HMAC), for tests and the logs. */
    final java.util.concurrent.atomic.LongAdder refused = new java.util.concurrent.atomic.LongAdder();
    private volatile boolean closed;

    /**
     * @param nodeName this node's name
     * @param bind where to accept peers' connections (port 0: any free port, see {@link #start})
     * @param secret the cluster's shared secret
     * @param loop the loop the link runs on (one of the broker's, so that routing what arrives hands deliveries over
     *     in batches)
     * @param producers the loops that call {@link #send}
     */
    public NodeLink(String nodeName, InetSocketAddress bind, byte[] secret, EventLoop loop, EventExecutorGroup producers,
            Inbound inbound, Settings settings) {
        if (!Handshake.validName(nodeName)) {
            throw new IllegalArgumentException("invalid node name '" + nodeName + "'");
        }
        if (secret == null || secret.length < 16) {
            throw new IllegalArgumentException("the cluster secret must have at least 16 bytes");
        }
        this.nodeName = nodeName;
        this.bind = bind;
        this.secret = secret.clone();
        this.loop = loop;
        this.inbound = inbound;
        this.settings = settings;
        this.incarnation = random.nextLong();
        if (producers != null) {
            for (EventExecutor e : producers) {
                gathers.put(e, new Gather(e));
            }
        }
    }

    /** TLS of the link's connections ({@code null}: none): each side's context, both trusting the cluster CA. */
    volatile SslContext serverTls;
    volatile SslContext clientTls;

    /**
     * Runs every connection of the link over TLS, before {@link #start}: {@code server} for accepted connections (it
     * must require a client certificate), {@code client} for dialed ones, both trusting only the cluster's CA, so a
     * process without a certificate of that CA cannot even reach the handshake. The HMAC handshake runs inside.
     */
    public void tls(SslContext server, SslContext client) {
        this.serverTls = server;
        this.clientTls = client;
    }

    /**
     * What this node had applied from {@code peer} when it stopped (as {@link Inbound#applied} stored it): messages of
     * that incarnation up to {@code seq} are dropped if the peer sends them again. Before {@link #start}.
     */
    public void restoreApplied(String peer, long incarnation, long seq) {
        loop.submit(() -> peer(peer).restoreApplied(incarnation, seq)).syncUninterruptibly();
    }

    /**
     * With a stored outbox, a stored message's sequence number is its store position shifted left by this many bits,
     * and the messages not from the store that follow it take the numbers in between: positions only grow, also
     * across restarts, so every number stays above those given before.
     */
    public static final int STORED_SHIFT = 20;
    static final long STORED_BLOCK_MASK = (1L << STORED_SHIFT) - 1;
    /** Whether sequence numbers follow {@link #STORED_SHIFT} (a stored outbox). */
    volatile boolean storedSeqs;
    /** Where a stored message's token goes once its peer has it. */
    private volatile java.util.function.BiConsumer<String, Object> releaser = (peer, token) -> { };

    /**
     * Keeps this node's incarnation across restarts and numbers messages as a stored outbox needs (see
     * {@link #STORED_SHIFT}): {@code incarnation} is the one stored, {@code released} is told of each stored message
     * the peer has (on the link's loop). Before {@link #start}.
     */
    public void storedOutbox(long incarnation, java.util.function.BiConsumer<String, Object> released) {
        this.incarnation = incarnation;
        this.storedSeqs = true;
        this.releaser = released;
    }

    /**
     * Sends a message of the node's stored outbox, on the link's loop, with sequence number
     * {@code position << STORED_SHIFT}; {@code token} is handed back once the peer has it.
     */
    public void sendStored(String peer, Message m, List<String> groups, long position, Object token) {
        PeerLink p = peer(peer);
        p.enqueueStored(m, groups, position << STORED_SHIFT, token);
        p.schedulePump();
    }

    void released(String peer, Object token) {
        releaser.accept(peer, token);
    }

    /** The link's loop (the outbox's owner loop). */
    public EventLoop loop() {
        return loop;
    }

    /** Counts the messages waiting for connected peers in {@code b} from now on; before {@link #start}. */
    public void backlog(Backlog b) {
        this.backlog = b;
    }

    /** Starts accepting peers; returns the address bound. */
    public InetSocketAddress start() {
        ServerBootstrap b = new ServerBootstrap().group(loop, loop).channel(serverChannelClass())
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        LinkHandler.install(ch, NodeLink.this, null);
                    }
                });
        server = b.bind(bind).syncUninterruptibly().channel();
        InetSocketAddress at = (InetSocketAddress) server.localAddress();
        LOG.info("Node link of '{}' listening on {}", nodeName, at);
        return at;
    }

    /** Connections refused before their handshake completed (wrong secret or certificate, garbage, timeout). */
    public long handshakesRefused() {
        return refused.sum();
    }

    /** This node's name. */
    public String nodeName() {
        return nodeName;
    }

    /**
     * A peer is a member of the cluster, its link at {@code address}: this node connects to it if its own name sorts
     * first, else waits for it. From any thread.
     */
    public void peerUp(String name, InetSocketAddress address) {
        if (name.equals(nodeName)) {
            return;
        }
        loop.execute(() -> {
            PeerLink p = peer(name);
            p.member = true;
            p.address = address;
            if (nodeName.compareTo(name) < 0) {
                dial(p);
            }
        });
    }

    /**
     * A peer has left the cluster: its connection is closed and no more attempts are made to reach it. What waits for
     * it stays (bounded) and is sent if it comes back. From any thread.
     */
    public void peerDown(String name) {
        loop.execute(() -> {
            PeerLink p = peers.get(name);
            if (p != null) {
                p.member = false;
                p.attempts = 0;
                p.close("member left the cluster");
            }
        });
    }

    /** The traffic of every peer known, for the metrics. */
    public Collection<PeerStats> stats() {
        return peers.values().stream().map(p -> p.stats).toList();
    }

    /** The traffic of one peer, {@code null} if it is unknown. */
    public PeerStats stats(String peer) {
        PeerLink p = peers.get(peer);
        return p == null ? null : p.stats;
    }

    /**
     * Sends a message to a peer, with the shared groups it is to pick a member of ({@code null} if none). On one of the
     * producer loops the message joins that loop's batch, handed to the link at the end of the loop's pass; elsewhere
     * it is handed over at once.
     */
    public void send(String peer, Message m, List<String> groups) {
        PeerLink p = peers.get(peer);
        if (p == null) {
            p = peers.computeIfAbsent(peer, n -> new PeerLink(this, n));
        }
        if (loop.inEventLoop()) {
            p.enqueue(m, groups);
            p.schedulePump();
            return;
        }
        for (Gather g : gathers.values()) {
            if (g.loop.inEventLoop()) {
                g.add(p, m, groups);
                return;
            }
        }
        PeerLink target = p;
        loop.execute(() -> {
            target.enqueue(m, groups);
            target.schedulePump();
        });
    }

    PeerLink peer(String name) {
        return peers.computeIfAbsent(name, n -> new PeerLink(this, n));
    }

    /** The peer of that name, {@code null} if none is known. */
    PeerLink known(String name) {
        return peers.get(name);
    }

    boolean isClosed() {
        return closed;
    }

    /** Connects to a peer unless connected or connecting; on the link's loop. */
    void dial(PeerLink p) {
        if (closed || !p.member || p.channel != null || p.dialing || p.address == null) {
            return;
        }
        p.dialing = true;
        Bootstrap b = new Bootstrap().group(loop).channel(channelClass())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) settings.handshakeTimeoutMillis())
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        LinkHandler.install(ch, NodeLink.this, p.name);
                    }
                });
        ChannelFuture f = b.connect(p.address);
        f.addListener(done -> {
            if (!done.isSuccess()) {
                p.dialing = false;
                LOG.debug("Node link to '{}' at {}: cannot connect ({})", p.name, p.address, done.cause().toString());
                redialLater(p);
            } else {
                f.channel().closeFuture().addListener(c -> {
                    p.dialing = false;
                    redialLater(p);
                });
            }
        });
    }

    /**
     * Dials again after a pause that doubles with each attempt since the link was last up (up to 10 s), so a peer
     * that refuses this node costs a line in the log every few seconds, not several a second.
     */
    void redialLater(PeerLink p) {
        if (!closed && p.member && nodeName.compareTo(p.name) < 0) {
            long pause = Math.min(10_000, settings.redialMillis() << Math.min(p.attempts, 10));
            p.attempts++;
            loop.schedule(() -> dial(p), pause, TimeUnit.MILLISECONDS);
        }
    }

    private Class<? extends Channel> channelClass() {
        if (!(loop instanceof IoEventLoop io) || io.isIoType(NioIoHandler.class)) {
            return NioSocketChannel.class;
        }
        return nativeClass("io.netty.channel.epoll.EpollSocketChannel").asSubclass(Channel.class);
    }

    private Class<? extends ServerChannel> serverChannelClass() {
        if (!(loop instanceof IoEventLoop io) || io.isIoType(NioIoHandler.class)) {
            return NioServerSocketChannel.class;
        }
        return nativeClass("io.netty.channel.epoll.EpollServerSocketChannel").asSubclass(ServerChannel.class);
    }

    private static Class<?> nativeClass(String name) {
        try {
            return Class.forName(name);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("the node link needs " + name + " for the broker's event loops", e);
        }
    }

    /** Stops accepting, closes every connection. What waited for peers is lost (it is in the heap). */
    @Override
    public void close() {
        closed = true;
        loop.submit(() -> {
            if (server != null) {
                server.close();
            }
            for (PeerLink p : peers.values()) {
                p.close("node link closed");
            }
        }).syncUninterruptibly();
    }

    /**
     * The messages one producer loop sends to peers during one pass, handed to the link's loop in one task at the end
     * of the pass. Confined to its loop.
     */
    private final class Gather {
        final EventExecutor loop;
        private PeerLink[] to = new PeerLink[16];
        private Message[] messages = new Message[16];
        private Object[] groups = new Object[16];
        private int size;
        private final Runnable flush = this::flush;

        Gather(EventExecutor loop) {
            this.loop = loop;
        }

        void add(PeerLink p, Message m, List<String> g) {
            if (size == to.length) {
                to = Arrays.copyOf(to, size * 2);
                messages = Arrays.copyOf(messages, size * 2);
                groups = Arrays.copyOf(groups, size * 2);
            }
            to[size] = p;
            messages[size] = m;
            groups[size] = g;
            if (size++ == 0) {
                loop.execute(flush);
            }
        }

        @SuppressWarnings("unchecked")
        private void flush() {
            int n = size;
            PeerLink[] t = Arrays.copyOf(to, n);
            Message[] ms = Arrays.copyOf(messages, n);
            Object[] gs = Arrays.copyOf(groups, n);
            Arrays.fill(to, 0, n, null);
            Arrays.fill(messages, 0, n, null);
            Arrays.fill(groups, 0, n, null);
            size = 0;
            NodeLink.this.loop.execute(() -> {
                for (int i = 0; i < n; i++) {
                    t[i].enqueue(ms[i], (List<String>) gs[i]);
                }
                for (int i = 0; i < n; i++) {
                    t[i].schedulePump();
                }
            });
        }
    }

    static ByteBuf frame(Channel ch, byte type, int size) {
        ByteBuf b = ch.alloc().buffer(size + 5);
        Frames.begin(b, type);
        return b;
    }
}
