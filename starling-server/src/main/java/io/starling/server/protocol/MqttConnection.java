package io.starling.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.EventExecutor;
import io.starling.broker.Broker;
import io.starling.broker.acl.TopicAccess;
import io.starling.broker.auth.CertificateIdentity;
import io.starling.broker.message.PendingWill;
import io.starling.broker.session.ClientConnection;
import io.starling.broker.session.QueueBudget;
import io.starling.broker.session.Session;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.ConnAckPacket;
import io.starling.codec.packet.DisconnectPacket;
import io.starling.codec.packet.MqttPacket;
import io.starling.codec.packet.PublishPacket;
import io.starling.codec.packet.Will;
import io.starling.server.wire.DecodeFailure;
import io.starling.server.wire.PacketFlow;
import java.net.SocketAddress;
import java.util.ArrayDeque;

/**
 * One client connection: its channel's events, what the client negotiated, and writing (the packets are encoded by
 * {@link OutboundPackets}; writes are flushed once per read batch, or once per pass of the loop for writes made by
 * tasks: the connection itself is that flush task, {@link #run}). Its state machine and deadlines are in its base
 * class {@link ConnectionState}, the only place the state changes.
 *
 * <p>Its other jobs are in classes of their own: {@link PacketDispatch} (which handler gets each packet);
 * {@link ConnectHandler} (CONNECT, AUTH; sees this connection as a {@link ConnectPort}; dropped once connected unless
 * the client may re-authenticate), {@link PublishHandler} and {@link SubscribeHandler}, which see it as a
 * {@link ConnectionPort} (the first is created with the first PUBLISH, the second is stateless); {@link ReadGate} (reads paused and
 * resumed; created the first time that may happen); {@link Closer} (how the connection ends). Nothing of these is
 * created for an idle connection beyond what it needed to connect.
 *
 * <p>Thread-safety: everything runs on the channel's event loop, which also owns the attached session.
 */
public final class MqttConnection extends ConnectionState implements ClientConnection, ConnectPort, Runnable {

    private final ProtocolSetup setup;
    /** The transport's decoding of this connection, to hold it while the client does not read; may be null. */
    private final PacketFlow inbound;
    /** Until CONNACK; afterwards only for a client that may re-authenticate (5.0 enhanced authentication). */
    private ConnectHandler connectHandler;
    private PublishHandler publishHandler;
    /** Created the first time reads may be paused: a publishing read batch, or an answer to a full socket. */
    private ReadGate gate;
    /** How packets are encoded for this client; {@code null} before its CONNECT. */
    private OutboundPackets out;
    private String clientId;
    private Session session;
    /** The client's rights under the ACL, {@code null} without an ACL; set once the client is authenticated. */
    private TopicAccess topicAccess;
    /** The Will of the CONNECT, from the moment the session is being opened until it is published or discarded. */
    private Will will;
    private int clientReceiveMaximum = 65_535;
    /** 5.0 Request Problem Information: whether reason strings may go on packets other than CONNACK/DISCONNECT. */
    private boolean problemInformation = true;
    /** The session expiry of the CONNECT was 0 (a 5.0 DISCONNECT may not change it). */
    private boolean expiryWasZero;
    /** Something was written and not flushed yet: at the end of the read batch, or by the flush task ({@link #run}). */
    private boolean flushPending;
    /** Between a packet's channelRead and the end of its read batch, which flushes what was written meanwhile. */
    private boolean inReadBatch;
    /** A packet arrived in the current read batch (the keep-alive starts again at its end). */
    private boolean packetInBatch;
    /** A PUBLISH arrived in the current read batch. */
    private boolean publishedInBatch;
    /** A PUBLISH or SUBSCRIBE arrived in the current read batch: messages may have been queued. */
    private boolean routedInBatch;
    /** CONNACK accepted the client: counted as connected (by listener and version) until the channel closes. */
    private boolean countedConnected;
    /** The client is a broker bridging to this one (Mosquitto's bridge flag). */
    private boolean bridge;

    /**
     * @param inbound the transport's decoder of this connection (held while the client does not read what it is
     *     sent); {@code null} in a pipeline without one
     */
    public MqttConnection(ProtocolSetup setup, PacketFlow inbound) {
        this.setup = setup;
        this.inbound = inbound;
        Broker broker = setup.broker();
        this.connectHandler = new ConnectHandler(this, broker, setup.security(), broker.store(),
                setup.sweepers().nanoClock());
    }

    // ---------------------------------------------------------------- ClientConnection / ConnectionPort

    @Override
    public ProtocolVersion version() {
        return out == null ? null : out.version();
    }

    @Override
    public String clientId() {
        return clientId;
    }

    @Override
    public Session session() {
        return session;
    }

    @Override
    public SocketAddress remoteAddress() {
        return channel().remoteAddress();
    }

    @Override
    public EventExecutor eventLoop() {
        return channel().eventLoop();
    }

    @Override
    public TopicAccess topicAccess() {
        return topicAccess;
    }

    @Override
    public int clientReceiveMaximum() {
        return clientReceiveMaximum;
    }

    @Override
    public long clientMaximumPacketSize() {
        return out == null ? Long.MAX_VALUE : out.maximumPacketSize();
    }

    @Override
    public boolean isWritable() {
        // nothing goes out before CONNACK [MQTT-3.2.0-1]: while the session is attached but CONNACK still waits for
        // the store (or authentication), deliveries queue and resume() sends them after it
        return state() == State.CONNECTED && channel().isWritable();
    }

    @Override
    public void write(MqttPacket packet) {
        if (state() == State.CLOSED) {
            return;
        }
        boolean publish = packet instanceof PublishPacket;
        if (publish && gate != null) {
            gate.onPublishWritten();
        }
        ChannelHandlerContext ctx = ctx();
        Channel channel = channel();
        ctx.write(encode(packet), ctx.voidPromise());
        if (!channel.isWritable()) {
            // over the high-water mark: hand the bytes to the socket now rather than at the end of the batch
            flushNow();
            if (!publish && !channel.isWritable()) {
                // an answer to what the client sent, and it does not read: stop reading it until it does, or its
                // answers would pile up here without bound (PUBLISH packets are sent only while writable)
                gate().pauseForOutput();
            }
            return;
        }
        if (!flushPending) {
            flushPending = true;
            if (!inReadBatch) {
                // written from a task (a delivery, an acknowledgement once durable): flushed after the tasks of
                // this pass of the loop, once for all that is written to this connection meanwhile
                channel.eventLoop().execute(this);
            }
        }
    }

    /** The flush task: flushes what tasks wrote to this connection in this pass of the loop. */
    @Override
    public void run() {
        if (flushPending) {
            flushNow();
        }
    }

    @Override
    Object encode(MqttPacket packet) {
        OutboundPackets o = out != null ? out : OutboundPackets.plain(ProtocolVersion.MQTT_3_1_1);
        ByteBuf bytes = o.encode(packet, ctx().alloc());
        setup.broker().metrics().bytesSent.add(bytes.readableBytes());
        return bytes;
    }

    private void flushNow() {
        flushPending = false;
        ctx().flush();
    }

    @Override
    public Properties reasonProperties(String reasonString, boolean connackOrDisconnect) {
        ProtocolVersion version = version();
        if (reasonString == null || version == null || !version.isV5() || !(connackOrDisconnect || problemInformation)) {
            return Properties.EMPTY;
        }
        return Properties.builder().reasonString(reasonString).build();
    }

    /** Whether the broker has stopped reading this connection (for any reason); on the connection's loop. */
    public boolean isReadPaused() {
        return gate != null && gate.isPaused();
    }

    /** Bytes written to this connection that the socket has not taken yet; on the connection's loop. */
    public long pendingOutboundBytes() {
        return ReadGate.pendingOutboundBytes(channel());
    }

    @Override
    public void publishRateExceeded(PublishRateLimiter limiter, long waitNanos) {
        gate().pauseForRate(limiter, waitNanos);
    }

    // ---------------------------------------------------------------- ending (decided by the Closer)

    @Override
    public void closeForTakeover() {
        Closer.closeWithReason(this, ReasonCode.SESSION_TAKEN_OVER, null);
    }

    @Override
    public void closeWithReason(ReasonCode reason) {
        Closer.closeWithReason(this, reason, null);
    }

    @Override
    public void disconnect(ReasonCode reason, String why) {
        Closer.disconnect(this, reason, why);
    }

    @Override
    public void protocolError(String why) {
        Closer.disconnect(this, ReasonCode.PROTOCOL_ERROR, why);
    }

    @Override
    public void storeFailed(String what) {
        Closer.storeFailed(this, what);
    }

    @Override
    public PendingWill takeWill() {
        PendingWill w = peekWill();
        will = null;
        return w;
    }

    @Override
    public PendingWill peekWill() {
        return Closer.pendingWill(will, clientId, setup.broker());
    }

    @Override
    void connectTimedOut() {
        Closer.connectTimedOut(this);
    }

    @Override
    void keepAliveExpired() {
        Closer.keepAliveExpired(this, gate);
    }

    // ---------------------------------------------------------------- channel events

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        broker().metrics().connectionsAccepted.increment();
        awaitConnect(broker().config().connectTimeout().toNanos());
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state() == State.CLOSED) {
            return;
        }
        if (msg instanceof DecodeFailure failure) {
            Closer.decodeFailed(this, failure);
        } else if (state() == State.OPENING || state() == State.VERIFYING) {
            packetInBatch = true;
            connectHandler.hold((MqttPacket) msg);
        } else {
            packetInBatch = true;
            inReadBatch = true; // answers are flushed once, at the end of the batch
            PacketDispatch.dispatch(this, (MqttPacket) msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        inReadBatch = false;
        if (packetInBatch) {
            packetInBatch = false;
            packetsReceived();
        }
        if (flushPending) {
            flushPending = false;
            ctx.flush();
        }
        if (routedInBatch && state() == State.CONNECTED) {
            // messages may have been queued: the queue budget, and, after a PUBLISH, the governor may pause reads
            routedInBatch = false;
            QueueBudget budget = broker().queueBudget();
            long total = budget.onRouted(channel().eventLoop());
            if (publishedInBatch) {
                publishedInBatch = false;
                gate().afterPublishing(budget, total, broker());
            }
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (channel().isWritable()) {
            if (gate != null && gate.isOutputPaused()) {
                // what the client sent first (its acknowledgements free the inflight window), then its queue
                gate.resumeFromOutputPause();
            }
            if (state() == State.CONNECTED && channel().isWritable()) {
                session.drain();
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Closer.failed(this, cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (countedConnected) {
            countedConnected = false;
            broker().metrics().disconnected(setup.transport(), out.version());
        }
        State previous = inactive();
        if (connectHandler != null) {
            connectHandler.onClosed();
        }
        Closer.closed(this, previous);
        ctx.fireChannelInactive();
    }

    // ---------------------------------------------------------------- for PacketDispatch, the ReadGate and the Closer

    /** The CONNECT's handler; {@code null} once connected unless the client may re-authenticate. */
    ConnectHandler connectHandler() {
        return connectHandler;
    }

    /** A PUBLISH ({@code published}) or SUBSCRIBE was handled in this read batch: messages may have been queued. */
    void routed(boolean published) {
        routedInBatch = true;
        publishedInBatch |= published;
    }

    /** The session expiry of the CONNECT was 0 (a 5.0 DISCONNECT may not change it). */
    boolean expiryWasZero() {
        return expiryWasZero;
    }

    PublishHandler publishHandler() {
        if (publishHandler == null) {
            Broker broker = broker();
            publishHandler = new PublishHandler(this, broker, broker.store(), broker.config(), broker.topicLimits(),
                    broker.metrics(), setup.sweepers().nanoClock(), PublishRateLimiter.of(setup.maxPublishRate(),
                            setup.maxPublishBytesRate(), broker.config().maxPacketSize(), now()));
        }
        return publishHandler;
    }

    private ReadGate gate() {
        if (gate == null) {
            gate = new ReadGate(this, inbound);
        }
        return gate;
    }

    Broker broker() {
        return setup.broker();
    }

    @Override
    ConnectionSweepers sweepers() {
        return setup.sweepers();
    }

    /** The handler of PUBLISH and PUBREL, {@code null} before the first; for tests. */
    PublishHandler publishHandlerIfCreated() {
        return publishHandler;
    }

    /** The connection's read gate, {@code null} until reads could first be paused; for tests. */
    ReadGate readGate() {
        return gate;
    }

    // ---------------------------------------------------------------- ConnectPort: the CONNECT's steps

    @Override
    public void connecting(ProtocolVersion version) {
        out = OutboundPackets.plain(version);
    }

    @Override
    public void identified(String id) {
        clientId = id;
    }

    @Override
    public void bridgeConnection() {
        bridge = true;
    }

    @Override
    public boolean isBridge() {
        return bridge;
    }

    @Override
    public void clientLimits(int receiveMaximum, long maximumPacketSize, int topicAliasMaximum,
            boolean problemInformation) {
        this.clientReceiveMaximum = receiveMaximum;
        this.out = OutboundPackets.of(out.version(), maximumPacketSize, topicAliasMaximum);
        this.problemInformation = problemInformation;
    }

    @Override
    public void authorized(TopicAccess access) {
        topicAccess = access;
    }

    /**
     * Who connected, as operators see it: kept by the {@link ConnectHandler} (no field here), which the session reads
     * when it is attached, before the CONNACK drops the handler.
     */
    @Override
    public io.starling.broker.session.ConnectionInfo info() {
        ConnectHandler h = connectHandler;
        return h == null ? null : h.info();
    }

    @Override
    public void startOpening(Will will, boolean expiryWasZero) {
        this.will = will;
        this.expiryWasZero = expiryWasZero;
        opening();
    }

    @Override
    public void sessionOpened(Session s) {
        session = s;
    }

    @Override
    public void accept(ConnAckPacket connAck) {
        // flushed below with the answers to what the client pipelined (no flush task for the CONNACK alone)
        ChannelHandlerContext ctx = ctx();
        ctx.write(encode(connAck), ctx.voidPromise());
        connected();
        broker().metrics().connected(setup.transport(), out.version());
        countedConnected = true;
        ArrayDeque<MqttPacket> pending = connectHandler.takeHeld();
        if (!connectHandler.mayReauthenticate()) {
            connectHandler = null; // what is needed of the CONNECT from now on is kept here
        }
        session.resume();
        while (pending != null && state() == State.CONNECTED && !pending.isEmpty()) {
            PacketDispatch.dispatch(this, pending.poll());
        }
        flushPending = false;
        ctx.flush();
        // reads again, unless an answer to a pipelined packet found the socket full
        if (gate != null) {
            gate.updateAutoRead();
        } else if (state() == State.CONNECTED) {
            channel().config().setAutoRead(true);
        }
    }

    @Override
    public void discardWill() {
        will = null;
    }

    @Override
    public void refuseConnect(ReasonCode reason, String why) {
        Closer.refuse(this, reason, why, true);
    }

    @Override
    public void refuseConnectQuietly(ReasonCode reason, String why) {
        Closer.refuse(this, reason, why, false);
    }

    @Override
    public void refuseConnect(ConnAckPacket connAck) {
        broker().metrics().connectRefused(connAck.reasonCode());
        endWith(connAck, 0);
    }

    @Override
    public void closeWithoutConnAck(String why) {
        Closer.closeWithoutConnAck(this, why);
    }

    @Override
    public void closeWith(DisconnectPacket disconnect) {
        endWith(disconnect, 0);
    }

    @Override
    public CertificateIdentity certificate() {
        return setup.certificates().apply(channel());
    }
}
