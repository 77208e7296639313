package io.starling.server.protocol;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.starling.broker.Broker;
import io.starling.broker.routing.Message;
import io.starling.broker.session.ClientConnection;
import io.starling.broker.session.Session;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.AuthPacket;
import io.starling.codec.packet.ConnAckPacket;
import io.starling.codec.packet.ConnectPacket;
import io.starling.codec.packet.DisconnectPacket;
import io.starling.codec.packet.MqttPacket;
import io.starling.codec.packet.PingRespPacket;
import io.starling.codec.packet.PubAckPacket;
import io.starling.codec.packet.PubCompPacket;
import io.starling.codec.packet.PubRecPacket;
import io.starling.codec.packet.PubRelPacket;
import io.starling.codec.packet.PublishPacket;
import io.starling.codec.packet.SubscribePacket;
import io.starling.codec.packet.UnsubscribePacket;
import io.starling.codec.packet.Will;
import io.starling.server.transport.DecodeFailure;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: the protocol state machine (awaiting CONNECT → opening the session → connected →
 * closed), the dispatch of each packet to its handler, and the single place where failures become a reason
 * code, a DISCONNECT (5.0) or a closed socket (3.x).
 *
 * <p>Thread-safety: everything runs on the channel's event loop, which also owns the attached session.
 */
public final class MqttConnection extends ChannelInboundHandlerAdapter implements ClientConnection {

    private static final Logger LOG = LoggerFactory.getLogger(MqttConnection.class);

    private enum State { AWAIT_CONNECT, OPENING, CONNECTED, CLOSED }

    final Broker broker;
    private final PublishHandler publishHandler;
    private final SubscribeHandler subscribeHandler;
    private ChannelHandlerContext ctx;
    private Channel channel;
    private State state = State.AWAIT_CONNECT;
    private ProtocolVersion version;
    private String clientId;
    private Session session;
    private Will will;
    private boolean sessionExpiryWasZero;
    private int clientReceiveMaximum = 65_535;
    private long clientMaximumPacketSize = Long.MAX_VALUE;
    private ScheduledFuture<?> connectTimeout;
    private final ArrayDeque<MqttPacket> pendingWhileOpening = new ArrayDeque<>();
    private boolean flushPending;
    private final Runnable flushTask = this::flushNow;

    public MqttConnection(Broker broker) {
        this.broker = broker;
        this.publishHandler = new PublishHandler(this);
        this.subscribeHandler = new SubscribeHandler(this);
    }

    // ---------------------------------------------------------------- ClientConnection

    @Override
    public ProtocolVersion version() {
        return version;
    }

    @Override
    public EventExecutor eventLoop() {
        return channel.eventLoop();
    }

    @Override
    public boolean isWritable() {
        return channel.isWritable();
    }

    @Override
    public void write(MqttPacket packet) {
        if (state == State.CLOSED) {
            return;
        }
        ctx.write(packet, ctx.voidPromise());
        if (!channel.isWritable()) {
            // over the high-water mark: hand the bytes to the socket now rather than at the end of the batch
            flushNow();
            return;
        }
        if (!flushPending) {
            flushPending = true;
            channel.eventLoop().execute(flushTask);
        }
    }

    private void flushNow() {
        flushPending = false;
        ctx.flush();
    }

    @Override
    public int clientReceiveMaximum() {
        return clientReceiveMaximum;
    }

    @Override
    public long clientMaximumPacketSize() {
        return clientMaximumPacketSize;
    }

    @Override
    public void closeForTakeover() {
        closeWithReason(ReasonCode.SESSION_TAKEN_OVER);
    }

    @Override
    public void closeWithReason(ReasonCode reason) {
        if (state == State.CLOSED) {
            return;
        }
        if (version != null && version.isV5() && state == State.CONNECTED) {
            ctx.writeAndFlush(new DisconnectPacket(reason, Properties.EMPTY)).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.flush();
            channel.close();
        }
        state = State.CLOSED;
    }

    Session session() {
        return session;
    }

    String clientId() {
        return clientId;
    }

    // ---------------------------------------------------------------- channel events

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.channel = ctx.channel();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        broker.metrics().connectionsAccepted.increment();
        long timeoutMs = broker.config().connectTimeout().toMillis();
        connectTimeout = ctx.executor().schedule(() -> {
            if (state == State.AWAIT_CONNECT) {
                LOG.debug("{}: no CONNECT within {} ms, closing", channel.remoteAddress(), timeoutMs);
                state = State.CLOSED;
                channel.close();
            }
        }, timeoutMs, TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.CLOSED) {
            return;
        }
        if (msg instanceof DecodeFailure failure) {
            onDecodeFailure(failure);
        } else if (state == State.OPENING) {
            pendingWhileOpening.add((MqttPacket) msg);
        } else {
            dispatch((MqttPacket) msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (flushPending) {
            flushPending = false;
            ctx.flush();
        }
        if (state == State.CONNECTED && channel.config().isAutoRead()) {
            // publishers stop reading while other loops are behind with deliveries (see DeliveryGovernor)
            broker.governor().pauseIfOverloaded(() -> channel.config().setAutoRead(false),
                    () -> channel.eventLoop().execute(() -> {
                        if (state == State.CONNECTED) {
                            channel.config().setAutoRead(true);
                        }
                    }));
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (channel.isWritable() && state == State.CONNECTED) {
            session.drain();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            // [MQTT-3.1.2-24] nothing received within 1.5 times the Keep Alive: close as a network failure
            LOG.info("Client '{}' keep-alive timeout, disconnecting", clientId);
            closeWithReason(ReasonCode.KEEP_ALIVE_TIMEOUT);
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof java.io.IOException) {
            LOG.debug("Client '{}' connection error: {}", clientId, cause.toString());
        } else {
            LOG.warn("Client '{}' unexpected error, closing the connection", clientId, cause);
        }
        closeWithReason(ReasonCode.UNSPECIFIED_ERROR);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (connectTimeout != null) {
            connectTimeout.cancel(false);
        }
        State previous = state;
        state = State.CLOSED;
        if (session != null && (previous == State.CONNECTED || previous == State.CLOSED)) {
            if (will != null) {
                // [MQTT-3.1.2-8] the connection ended without a normal DISCONNECT: publish the Will
                publishWill();
            }
            broker.sessions().onConnectionClosed(session, this);
        }
        ctx.fireChannelInactive();
    }

    private void publishWill() {
        Will w = will;
        will = null;
        Properties p = w.properties();
        if (p.willDelayInterval() != null) {
            p = p.toBuilder().willDelayInterval(null).build();
        }
        broker.publish(new Message(w.topic(), w.qos(), w.retain(), w.payload(), p, clientId));
    }

    // ---------------------------------------------------------------- dispatch

    private void dispatch(MqttPacket packet) {
        switch (packet.type()) {
            case CONNECT -> onConnect((ConnectPacket) packet);
            case PUBLISH -> publishHandler.onPublish((PublishPacket) packet);
            case PUBACK -> session.onPubAck(((PubAckPacket) packet).packetId());
            case PUBREC -> {
                PubRecPacket p = (PubRecPacket) packet;
                session.onPubRec(p.packetId(), p.reasonCode());
            }
            case PUBREL -> publishHandler.onPubRel((PubRelPacket) packet);
            case PUBCOMP -> session.onPubComp(((PubCompPacket) packet).packetId());
            case SUBSCRIBE -> subscribeHandler.onSubscribe((SubscribePacket) packet);
            case UNSUBSCRIBE -> subscribeHandler.onUnsubscribe((UnsubscribePacket) packet);
            case PINGREQ -> write(PingRespPacket.INSTANCE); // [MQTT-3.12.4-1]
            case DISCONNECT -> onDisconnect((DisconnectPacket) packet);
            case AUTH -> onAuth((AuthPacket) packet);
            default -> protocolError("unexpected " + packet.type() + " from a client");
        }
    }

    /** Ends the connection for a protocol violation: DISCONNECT 0x82 on 5.0, close on 3.x; the Will is sent. */
    void protocolError(String why) {
        disconnect(ReasonCode.PROTOCOL_ERROR, why);
    }

    /** Ends the connection on the server's initiative with a reason, logged once. */
    void disconnect(ReasonCode reason, String why) {
        broker.metrics().protocolErrors.increment();
        LOG.info("Client '{}' ({}): {}; disconnecting with {}", clientId, channel.remoteAddress(), why, reason);
        closeWithReason(reason);
    }

    private void onDecodeFailure(DecodeFailure f) {
        broker.metrics().protocolErrors.increment();
        LOG.info("{} client '{}': {} ({}), closing", channel.remoteAddress(), clientId, f.message(), f.reasonCode());
        if (f.duringConnect()) {
            ReasonCode r = f.reasonCode();
            if (r == ReasonCode.UNSUPPORTED_PROTOCOL_VERSION) {
                // [MQTT-3.1.2-2] CONNACK 0x01 (3.x) / 0x84 (5.0), then close
                ProtocolVersion answerIn = f.version() == ProtocolVersion.MQTT_5 ? f.version() : ProtocolVersion.MQTT_3_1_1;
                version = answerIn;
                sendConnAckAndClose(r);
                return;
            }
            if (f.version() == ProtocolVersion.MQTT_5) {
                version = f.version();
                sendConnAckAndClose(r);
                return;
            }
            state = State.CLOSED;
            channel.close();
            return;
        }
        closeWithReason(f.reasonCode());
    }

    private void sendConnAckAndClose(ReasonCode reason) {
        state = State.CLOSED;
        ctx.writeAndFlush(new ConnAckPacket(false, reason, Properties.EMPTY)).addListener(ChannelFutureListener.CLOSE);
    }

    // ---------------------------------------------------------------- CONNECT, DISCONNECT, AUTH

    private void onConnect(ConnectPacket c) {
        connectTimeout.cancel(false);
        version = c.version();
        Properties props = c.properties();
        String id = c.clientId();
        boolean assigned = false;
        if (id.isEmpty()) {
            if (version == ProtocolVersion.MQTT_3_1 || (version == ProtocolVersion.MQTT_3_1_1 && !c.cleanStart())) {
                // [MQTT-3.1.3-8] a zero-byte ClientId needs CleanSession=1 (3.1 requires an id)
                refuseConnect(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID, "empty client id without clean session");
                return;
            }
            // [MQTT-3.1.3-6] assign a unique ClientId
            id = "starling-" + java.util.UUID.randomUUID();
            assigned = true;
        } else if (id.length() > broker.config().maxClientIdLength()) {
            refuseConnect(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID, "client id longer than "
                    + broker.config().maxClientIdLength());
            return;
        }
        clientId = id;
        long expiry;
        Long requestedExpiry = null;
        if (version.isV5()) {
            Long e = props.sessionExpiryInterval();
            expiry = e == null ? 0 : e;
            if (expiry > broker.config().maxSessionExpirySeconds()) {
                expiry = broker.config().maxSessionExpirySeconds();
                requestedExpiry = expiry;
            }
            if (props.receiveMaximum() != null) {
                clientReceiveMaximum = props.receiveMaximum();
            }
            if (props.maximumPacketSize() != null) {
                clientMaximumPacketSize = props.maximumPacketSize();
            }
            if (props.authenticationMethod() != null) {
                // enhanced authentication is not offered yet
                refuseConnect(ReasonCode.BAD_AUTHENTICATION_METHOD, "authentication method "
                        + props.authenticationMethod() + " not supported");
                return;
            }
        } else if (c.cleanStart()) {
            expiry = 0;
        } else {
            java.time.Duration d = broker.config().v3SessionExpiry();
            expiry = d == null ? 0xFFFF_FFFFL : Math.max(1, d.toSeconds());
        }
        sessionExpiryWasZero = expiry == 0;
        will = c.will();
        int keepAlive = c.keepAliveSeconds();
        Integer serverKeepAlive = null;
        int maxKeepAlive = broker.config().maxKeepAliveSeconds();
        if (maxKeepAlive > 0 && (keepAlive == 0 || keepAlive > maxKeepAlive) && version.isV5()) {
            keepAlive = maxKeepAlive;
            serverKeepAlive = keepAlive;
        }
        if (keepAlive > 0) {
            // [MQTT-3.1.2-24] allow one and a half times the Keep Alive between packets
            long readerIdleMs = keepAlive * 1500L;
            ctx.pipeline().addBefore(ctx.name(), "keepAlive",
                    new IdleStateHandler(readerIdleMs, 0, 0, TimeUnit.MILLISECONDS));
        }
        state = State.OPENING;
        channel.config().setAutoRead(false);
        boolean assignedId = assigned;
        Integer keepAliveToSend = serverKeepAlive;
        Long expiryToSend = requestedExpiry;
        broker.sessions().open(id, c.cleanStart(), expiry, this,
                (s, present) -> onSessionOpened(s, present, assignedId, keepAliveToSend, expiryToSend));
    }

    private void onSessionOpened(Session s, boolean present, boolean assignedId, Integer serverKeepAlive,
            Long sessionExpiry) {
        session = s;
        if (state != State.OPENING || !channel.isActive()) {
            // the client went away while the session was being opened
            state = State.CLOSED;
            if (will != null) {
                publishWill();
            }
            broker.sessions().onConnectionClosed(s, this);
            return;
        }
        Properties props = Properties.EMPTY;
        if (version.isV5()) {
            Properties.Builder b = Properties.builder()
                    .sharedSubscriptionAvailable(0)
                    .topicAliasMaximum(null);
            if (assignedId) {
                b.assignedClientIdentifier(clientId); // [MQTT-3.2.2-16]
            }
            if (serverKeepAlive != null) {
                b.serverKeepAlive(serverKeepAlive);
            }
            if (sessionExpiry != null) {
                b.sessionExpiryInterval(sessionExpiry);
            }
            if (broker.config().receiveMaximum() != 65_535) {
                b.receiveMaximum(broker.config().receiveMaximum());
            }
            if (broker.config().maxPacketSize() < io.starling.broker.config.BrokerConfig.MQTT_MAX_PACKET_SIZE) {
                b.maximumPacketSize((long) broker.config().maxPacketSize());
            }
            props = b.build();
        }
        // [MQTT-3.2.2-1..3] Session Present: 1 only when an existing session is resumed
        write(new ConnAckPacket(present, ReasonCode.SUCCESS, props));
        state = State.CONNECTED;
        s.resume();
        while (state == State.CONNECTED && !pendingWhileOpening.isEmpty()) {
            dispatch(pendingWhileOpening.poll());
        }
        pendingWhileOpening.clear();
        channel.config().setAutoRead(true);
    }

    private void refuseConnect(ReasonCode reason, String why) {
        LOG.info("{}: CONNECT refused: {} ({})", channel.remoteAddress(), why, reason);
        sendConnAckAndClose(reason);
    }

    private void onDisconnect(DisconnectPacket d) {
        if (version.isV5()) {
            Long newExpiry = d.properties().sessionExpiryInterval();
            if (newExpiry != null) {
                if (sessionExpiryWasZero && newExpiry != 0) {
                    // [MQTT-3.14.2-2] expiry 0 at CONNECT cannot be changed at DISCONNECT
                    protocolError("session expiry changed from 0 at DISCONNECT");
                    return;
                }
                session.expiryIntervalSeconds(Math.min(newExpiry, broker.config().maxSessionExpirySeconds()));
            }
            if (d.reasonCode() != ReasonCode.DISCONNECT_WITH_WILL_MESSAGE) {
                will = null; // [MQTT-3.14.4-3] a normal DISCONNECT discards the Will
            }
        } else {
            will = null; // [MQTT-3.1.2-10] the Will is removed on DISCONNECT
        }
        state = State.CLOSED;
        ctx.flush();
        channel.close(); // [MQTT-3.14.4-1] the sender of DISCONNECT expects the connection to close
    }

    private void onAuth(AuthPacket a) {
        // no authentication method was agreed at CONNECT, so AUTH is a protocol error [MQTT-4.12.0-1]
        protocolError("AUTH without an authentication method");
    }
}
