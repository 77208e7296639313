package io.starling.server.bridge;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.starling.broker.Broker;
import io.starling.broker.acl.Acl;
import io.starling.broker.acl.ClientIdentity;
import io.starling.broker.acl.TopicAccess;
import io.starling.broker.config.BridgeConfig;
import io.starling.broker.config.BridgeConfig.Address;
import io.starling.broker.config.BridgeConfig.Mapping;
import io.starling.broker.log.RateLimitedLog;
import io.starling.broker.message.Message;
import io.starling.broker.message.PendingWill;
import io.starling.broker.session.ClientConnection;
import io.starling.broker.session.Session;
import io.starling.broker.topic.Subscription;
import io.starling.broker.topic.Topics;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.ConnectPacket;
import io.starling.codec.packet.MqttPacket;
import io.starling.codec.packet.PubAckPacket;
import io.starling.codec.packet.PubCompPacket;
import io.starling.codec.packet.PubRecPacket;
import io.starling.codec.packet.PubRelPacket;
import io.starling.codec.packet.PublishPacket;
import io.starling.codec.packet.SubscribePacket;
import io.starling.codec.packet.TopicSubscription;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.random.RandomGenerator;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * One bridge: its local session ({@code $bridge/<name>}, a persistent session of the broker subscribed to the
 * outgoing mappings), the connection to the remote broker ({@link RemoteLink}, one per attempt), reconnection with
 * exponential backoff and jitter over the address list, the state topic and the counters.
 *
 * <p>Threading: everything runs on the bridge's own event loop (one of the broker's), which owns the local session
 * while a link is attached; the counters and the state are safe to read from any thread.
 */
final class Bridge {

    private static final Logger LOG = LoggerFactory.getLogger(Bridge.class);
    /** The Session Expiry Interval of the local session: it never expires. */
    private static final long NEVER_EXPIRES = 0xFFFF_FFFFL;

    private final BridgeConfig config;
    private final Broker broker;
    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final SslContext ssl;
    private final TopicMapper mapper;
    private final String clientId;
    private final ProtocolVersion version;
    private final TopicAccess access;
    private final String stateTopic;
    /** Outgoing QoS 2 messages sent as QoS 1 to a remote whose Maximum QoS is 1 (the session's packet ids). */
    private final BitSet downgraded = new BitSet(65_536);
    /** Outgoing QoS 2 messages whose PUBREL the bridge answers itself: the remote had them at a lower QoS. */
    private final BitSet releasedHere = new BitSet(65_536);
    private final LongAdder forwardedOut = new LongAdder();
    private final LongAdder forwardedIn = new LongAdder();
    private final LongAdder refusedIn = new LongAdder();
    private final LongAdder connects = new LongAdder();
    private final RateLimitedLog refusedLog;
    private volatile boolean connected;
    private volatile long queued;
    private volatile long dropped;
    /** The link of the current attempt, {@code null} while waiting to reconnect. */
    private RemoteLink link;
    /** The local session once opened. */
    private Session session;
    private int attempt;
    private int addressIndex;
    private boolean stopped;
    private ScheduledFuture<?> reconnect;
    private ScheduledFuture<?> sampler;

    Bridge(BridgeConfig config, Broker broker, EventLoop loop, Class<? extends Channel> channelClass, SslContext ssl) {
        this.config = config;
        this.broker = broker;
        this.loop = loop;
        this.ssl = ssl;
        this.mapper = new TopicMapper(config.mappings());
        this.clientId = config.localClientId();
        this.version = config.protocol() == BridgeConfig.Protocol.MQTT5 ? ProtocolVersion.MQTT_5
                : ProtocolVersion.MQTT_3_1_1;
        Acl acl = broker.acl();
        this.access = acl == null ? null : acl.accessFor(new ClientIdentity(config.localUsername(), clientId, List.of()));
        this.stateTopic = "$SYS/broker/connection/" + config.name() + "/state";
        this.refusedLog = new RateLimitedLog(LOG, Level.WARN, Duration.ofSeconds(10), System::nanoTime);
        this.bootstrap = new Bootstrap()
                .group(loop)
                .channel(channelClass)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 128 * 1024));
    }

    BridgeConfig config() {
        return config;
    }

    EventExecutor loop() {
        return loop;
    }

    TopicAccess topicAccess() {
        return access;
    }

    boolean connected() {
        return connected;
    }

    long forwardedOut() {
        return forwardedOut.sum();
    }

    long forwardedIn() {
        return forwardedIn.sum();
    }

    /** Messages from the remote that no mapping, the ACL or the topic limits let in. */
    long refusedIn() {
        return refusedIn.sum();
    }

    /** Successful connections to the remote since start. */
    long connects() {
        return connects.sum();
    }

    /** Messages queued or in flight to the remote, as last sampled (every second). */
    long queued() {
        return queued;
    }

    /** Messages the local session's queue dropped since start (its limits, or the broker's queue budget). */
    long dropped() {
        return dropped;
    }

    // ---------------------------------------------------------------- lifecycle

    /**
     * Opens the local session (so that messages for the remote are queued from now on, even before the remote was
     * ever reached), then connects.
     */
    void start() {
        loop.execute(() -> {
            publishState(false);
            Standby standby = new Standby();
            broker.sessions().open(clientId, false, NEVER_EXPIRES, standby, (s, present) -> {
                session = s;
                syncSubscriptions(s);
                broker.sessions().onConnectionClosed(s, standby, null);
                sampler = loop.scheduleAtFixedRate(this::sample, 1, 1, TimeUnit.SECONDS);
                connect();
            });
        });
    }

    /** Stops reconnecting and closes the link (DISCONNECT first); completes once done. */
    CompletableFuture<Void> stop() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        loop.execute(() -> {
            stopped = true;
            if (reconnect != null) {
                reconnect.cancel(false);
            }
            if (sampler != null) {
                sampler.cancel(false);
            }
            RemoteLink l = link;
            if (l != null) {
                l.closeWithReason(ReasonCode.SERVER_SHUTTING_DOWN);
            }
            done.complete(null);
        });
        return done;
    }

    private void connect() {
        if (stopped) {
            return;
        }
        List<Address> addresses = config.addresses();
        Address a = addresses.get(Math.floorMod(addressIndex, addresses.size()));
        RemoteLink l = new RemoteLink(this, version, a.toString(), broker.config().maxPacketSize());
        link = l;
        Bootstrap b = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                if (ssl != null) {
                    SslHandler h = ssl.newHandler(ch.alloc(), a.host(), a.port());
                    if (config.tls().verifyHostname()) {
                        SSLEngine engine = h.engine();
                        SSLParameters p = engine.getSSLParameters();
                        p.setEndpointIdentificationAlgorithm("HTTPS");
                        engine.setSSLParameters(p);
                    }
                    ch.pipeline().addLast(h);
                }
                ch.pipeline().addLast(l);
            }
        });
        ChannelFuture f;
        try {
            f = b.connect(a.host(), a.port());
        } catch (RuntimeException e) {
            linkFailed(l, "cannot connect: " + e.getMessage());
            onLinkClosed(l);
            return;
        }
        f.addListener(done -> {
            if (!done.isSuccess() && !l.isClosed()) {
                Throwable c = done.cause();
                l.close("cannot connect: " + (c == null ? "cancelled" : c.getMessage()));
                onLinkClosed(l); // the channel never became active: no channelInactive
            }
        });
    }

    /** A link failed or was closed on purpose: logged (at most every 10 s per bridge when it keeps failing). */
    void linkFailed(RemoteLink l, String why) {
        if (stopped) {
            LOG.debug("Bridge '{}': {}", config.name(), why);
        } else if (l.isReady() || attempt == 0) {
            LOG.warn("Bridge '{}' to {}: {}", config.name(), l.address(), why);
        } else {
            LOG.debug("Bridge '{}' to {}: {}", config.name(), l.address(), why);
        }
    }

    /** The link's channel is closed (or never connected): detach the session, then reconnect. */
    void onLinkClosed(RemoteLink l) {
        if (session != null) {
            // ignored by the session manager unless this link is the session's connection
            broker.sessions().onConnectionClosed(session, l, null);
        }
        if (l != link) {
            return;
        }
        link = null;
        boolean wasReady = l.isReady();
        if (wasReady) {
            connected = false;
            publishState(false);
        } else {
            addressIndex++; // failover: the next attempt goes to the next address
        }
        scheduleReconnect();
    }

    private void scheduleReconnect() {
        if (stopped) {
            return;
        }
        long delay = reconnectDelay(attempt, config.reconnectMin().toMillis(), config.reconnectMax().toMillis(),
                ThreadLocalRandom.current());
        attempt++;
        reconnect = loop.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    }

    /**
     * The wait before attempt {@code attempt + 1} (0 after a success): {@code min} doubled per failed attempt, at most
     * {@code max}, then drawn between half and all of that (jitter, so that bridges that failed together spread out);
     * at least 1 ms.
     */
    static long reconnectDelay(int attempt, long min, long max, RandomGenerator random) {
        long base = Math.min(max, min << Math.min(attempt, 20));
        return Math.max(1, base / 2 + random.nextLong(base / 2 + 1));
    }

    /** The CONNECT of every attempt. */
    ConnectPacket connectPacket() {
        Properties props = Properties.EMPTY;
        if (version.isV5()) {
            props = Properties.builder()
                    .sessionExpiryInterval(config.sessionExpirySeconds())
                    .receiveMaximum(broker.config().receiveMaximum())
                    .maximumPacketSize((long) broker.config().maxPacketSize())
                    .build();
        }
        byte[] password = config.password() == null ? null : config.password().getBytes(StandardCharsets.UTF_8);
        return new ConnectPacket(version, config.clientId(), config.cleanStart(), config.keepAliveSeconds(),
                config.username(), password, null, props, config.bridgeFlag());
    }

    /** The remote accepted the connection: attach the local session to the link. */
    void onConnAck(RemoteLink l, boolean sessionPresent) {
        if (l != link || stopped) {
            l.close("not the bridge's current connection");
            return;
        }
        if (!sessionPresent) {
            // the remote forgot what it had in flight to the bridge: its QoS 2 packet ids are free again, in the
            // store too (a re-used one after a restart of Starling is a new message, not a duplicate)
            Session s = session;
            s.execute(s::releaseAllInboundQos2);
        }
        broker.sessions().open(clientId, false, NEVER_EXPIRES, l, (s, present) -> onLocalOpened(l, s));
    }

    private void onLocalOpened(RemoteLink l, Session s) {
        session = s;
        if (l.isClosed() || l != link) {
            broker.sessions().onConnectionClosed(s, l, null);
            return;
        }
        syncSubscriptions(s);
        Mapping[] in = mapper.in();
        if (in.length == 0) {
            ready(l);
            return;
        }
        List<TopicSubscription> subs = new ArrayList<>();
        Set<String> filters = new HashSet<>();
        boolean v5 = version.isV5();
        for (Mapping m : in) {
            if (filters.add(m.remoteFilter())) {
                // 5.0: No Local, so the remote never sends back what the bridge forwarded to it; Retain As Published
                subs.add(new TopicSubscription(m.remoteFilter(), m.qos(), v5, v5, 0));
            }
        }
        l.send(new SubscribePacket(RemoteLink.SUBSCRIBE_PACKET_ID, subs, Properties.EMPTY));
    }

    void onSubAck(RemoteLink l, List<ReasonCode> codes) {
        if (l != link || l.isReady()) {
            return;
        }
        for (ReasonCode c : codes) {
            if (c.isError()) {
                LOG.warn("Bridge '{}': the remote refused a subscription: {}", config.name(), c);
            }
        }
        ready(l);
    }

    private void ready(RemoteLink l) {
        l.markReady();
        attempt = 0;
        connects.increment();
        connected = true;
        publishState(true);
        LOG.info("Bridge '{}' connected to {} (MQTT {})", config.name(), l.address(), version.isV5() ? "5.0" : "3.1.1");
        // unacknowledged messages again (DUP), then what was queued while the remote was away
        session.resume();
    }

    /**
     * The session's subscriptions are exactly the outgoing mappings' local filters: No Local (what the bridge brings
     * in never goes back out) and Retain As Published; retained messages are sent for a new one only.
     */
    private void syncSubscriptions(Session s) {
        Set<String> want = new HashSet<>();
        for (Mapping m : mapper.out()) {
            String f = m.localFilter();
            if (!want.add(f)) {
                continue; // the same filter twice: the first mapping decides
            }
            Subscription sub = new Subscription(clientId, f, m.qos(), true, true, 1, 0);
            if (!sub.equals(s.subscriptions().get(f))) {
                Subscription replaced = broker.subscribe(s, sub);
                if (replaced == null) {
                    broker.sendRetained(s, sub);
                }
            }
        }
        for (String f : List.copyOf(s.subscriptions().keySet())) {
            if (!want.contains(f)) {
                broker.unsubscribe(s, f);
            }
        }
    }

    private void publishState(boolean up) {
        byte[] payload = {(byte) (up ? '1' : '0')};
        broker.publishSystem(new Message(stateTopic, 0, true, payload, Properties.EMPTY, null, Message.NEVER));
    }

    private void sample() {
        Session s = session;
        if (s != null) {
            s.execute(() -> {
                queued = (long) s.queuedCount() + s.inflightCount();
                dropped = s.droppedCount();
            });
        }
    }

    // ---------------------------------------------------------------- messages

    /** A PUBLISH of the local session: to the remote, its topic mapped. */
    void forwardOut(RemoteLink l, PublishPacket p) {
        String remote = mapper.toRemote(p.topic());
        if (remote == null) {
            remote = p.topic(); // not reached: the session's subscriptions are the outgoing mappings' filters
        }
        Properties props = p.properties();
        if (!props.subscriptionIdentifiers().isEmpty() || props.topicAlias() != null) {
            props = props.toBuilder().clearSubscriptionIdentifiers().topicAlias(null).build();
        }
        int qos = p.qos();
        int id = p.packetId();
        if (qos > 0) {
            downgraded.clear(id); // the session uses the id anew
            releasedHere.clear(id);
        }
        // 5.0: no more than the remote's Maximum QoS [MQTT-3.2.2-11], no RETAIN if it has none [MQTT-3.2.2-14]
        int sent = Math.min(qos, l.remoteMaximumQos());
        boolean retain = p.retain() && l.remoteRetainAvailable();
        l.send(new PublishPacket(remote, sent, retain, p.dup() && sent > 0, sent == 0 ? 0 : id, props, p.payload()));
        if (sent == 0) {
            forwardedOut.increment();
            if (qos > 0) {
                // nothing will come back: the session's flow ends here, after this write
                loop.execute(() -> completeHere(l, id, qos));
            }
        } else if (sent < qos) {
            downgraded.set(id); // its PUBACK ends the QoS 2 flow
        }
    }

    /** Ends the session's QoS 1/2 flow of a message the remote took at QoS 0. */
    private void completeHere(RemoteLink l, int id, int qos) {
        if (l != link || !l.isReady()) {
            return; // resent on the next connection
        }
        if (qos == 1) {
            session.onPubAck(id);
        } else {
            releasedHere.set(id);
            session.onPubRec(id, ReasonCode.SUCCESS);
        }
    }

    /**
     * The session's PUBREL: to the remote, unless the remote had the message at QoS 1 or 0; then the bridge completes
     * it (after this write), and again after a reconnect if the connection ended first.
     */
    void releaseOut(RemoteLink l, PubRelPacket p) {
        int id = p.packetId();
        if (!releasedHere.get(id)) {
            l.send(p);
            return;
        }
        loop.execute(() -> {
            if (l == link && l.isReady() && releasedHere.get(id)) {
                releasedHere.clear(id);
                session.onPubComp(id);
            }
        });
    }

    void drain(RemoteLink l) {
        if (l == link && session != null) {
            session.drain();
        }
    }

    void onPubAck(RemoteLink l, int packetId) {
        if (l == link && l.isReady()) {
            forwardedOut.increment();
            if (downgraded.get(packetId)) {
                // a QoS 2 message the remote took at QoS 1: done there, the session's PUBREL is answered here
                downgraded.clear(packetId);
                releasedHere.set(packetId);
                session.onPubRec(packetId, ReasonCode.SUCCESS);
            } else {
                session.onPubAck(packetId);
            }
        }
    }

    void onPubRec(RemoteLink l, int packetId, ReasonCode reason) {
        if (l == link && l.isReady()) {
            session.onPubRec(packetId, reason);
        }
    }

    void onPubComp(RemoteLink l, int packetId) {
        if (l == link && l.isReady()) {
            session.onPubComp(packetId);
            forwardedOut.increment();
        }
    }

    /**
     * PUBREL from the remote: the QoS 2 message it sent is complete. PUBCOMP once the release of the packet id is
     * stored, so that a PUBLISH re-using the id after a crash is a new message [MQTT-4.3.3-2]; if the store could not
     * keep it, the id awaits PUBREL again and the connection closes without PUBCOMP (the remote re-sends the PUBREL).
     */
    void onPubRel(RemoteLink l, int packetId) {
        Session s = session;
        boolean known = s.releaseInboundQos2(packetId);
        PubCompPacket comp = PubCompPacket.of(packetId);
        broker.store().whenDurable(() -> l.sendFromAnyThread(comp), () -> loop.execute(() -> {
            if (known) {
                s.execute(() -> s.undoInboundQos2(packetId, true));
            }
            l.close("the store could not keep the release of a QoS 2 message from the remote");
        }));
    }

    /**
     * A PUBLISH from the remote: published locally as from a client ({@code $bridge/<name>}, under the ACL when
     * there is one), acknowledged to the remote once it is as durable as the store promises. A QoS 2 message is
     * routed when its PUBLISH arrives and its packet id kept with the local session's inbound QoS 2 state until
     * PUBREL (in the store, in the same commit as the message, when the session is stored), so that a re-sent one is
     * acknowledged and not routed again, also after a restart of Starling [MQTT-4.3.3-2].
     */
    void forwardIn(RemoteLink l, PublishPacket p) {
        int qos = p.qos();
        int id = p.packetId();
        Session s = session;
        if (qos == 2 && s.isAwaitingRelease(id)) {
            acknowledgeWhenDurable(l, qos, id, false); // a duplicate: PUBREC again, not routed again
            return;
        }
        Message m = null;
        String local = mapper.toLocal(p.topic());
        if (local != null && mayPublish(local)) {
            Properties props = p.properties();
            if (!props.subscriptionIdentifiers().isEmpty() || props.topicAlias() != null) {
                props = props.toBuilder().clearSubscriptionIdentifiers().topicAlias(null).build();
            }
            m = Message.published(local, qos, p.retain(), p.payload(), props, clientId, broker.clock().millis());
            forwardedIn.increment();
        } else {
            refusedIn.increment();
            refusedLog.log("Bridge '{}': message from the remote on '{}' not published locally (no mapping, ACL or "
                    + "topic limits)", config.name(), p.topic());
        }
        if (qos == 0) {
            if (m != null) {
                broker.publish(m);
            }
            return;
        }
        if (qos == 1) {
            if (m != null) {
                broker.publish(m, false);
            }
            acknowledgeWhenDurable(l, qos, id, false);
            return;
        }
        // the packet id and the message it brought are stored together (a refused message: the id alone, as the
        // 3.x flow goes on to PUBREL for it too)
        Message routed = m;
        broker.store().atomically(() -> {
            s.beginInboundQos2(id);
            if (routed != null) {
                broker.publish(routed, false);
            }
        });
        acknowledgeWhenDurable(l, qos, id, true);
    }

    /**
     * After a read batch that routed messages from the remote, as after a client's: the queue budget may start
     * shedding, and while the hand-off between loops is overloaded the remote is not read (it is a publisher like any
     * other), until the backlog is down again.
     */
    void afterRouting(RemoteLink l) {
        broker.queueBudget().onRouted(loop);
        broker.governor().pauseIfOverloaded(l::pauseReading, () -> loop.execute(l::resumeReading));
    }

    private boolean mayPublish(String topic) {
        if (!Topics.isValidName(topic) || broker.topicLimits().violation(topic) != null) {
            return false;
        }
        return access != null ? access.canPublish(topic) : !Acl.isSystemTopic(topic);
    }

    /**
     * PUBACK or PUBREC once what the message brought is stored. If the store lost it: no acknowledgement, the
     * connection closes and the remote sends it again on the next one; a QoS 2 packet id this PUBLISH began to await
     * PUBREL ({@code began}) is forgotten, so the re-sent PUBLISH is routed rather than taken for a duplicate.
     */
    private void acknowledgeWhenDurable(RemoteLink l, int qos, int id, boolean began) {
        MqttPacket ack = qos == 1 ? PubAckPacket.of(id) : PubRecPacket.of(id);
        Session s = session;
        broker.store().whenDurable(() -> l.sendFromAnyThread(ack), () -> loop.execute(() -> {
            if (began) {
                s.execute(() -> s.undoInboundQos2(id, false));
            }
            l.close("the store could not keep a message from the remote");
        }));
    }

    /**
     * The connection of the local session before the remote is first reached: it takes nothing, so messages for the
     * remote are queued (and stored) from the bridge's start.
     */
    private final class Standby implements ClientConnection {
        @Override
        public ProtocolVersion version() {
            return version;
        }

        @Override
        public EventExecutor eventLoop() {
            return loop;
        }

        @Override
        public boolean isWritable() {
            return false;
        }

        @Override
        public void write(MqttPacket packet) {
            // never writable: nothing is sent to it
        }

        @Override
        public int clientReceiveMaximum() {
            return 65_535;
        }

        @Override
        public long clientMaximumPacketSize() {
            return Long.MAX_VALUE;
        }

        @Override
        public void closeForTakeover() {
            // nothing to close
        }

        @Override
        public PendingWill takeWill() {
            return null;
        }

        @Override
        public void closeWithReason(ReasonCode reason) {
            // nothing to close
        }

        @Override
        public TopicAccess topicAccess() {
            return access;
        }
    }
}
