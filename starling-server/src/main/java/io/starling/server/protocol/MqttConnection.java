package io.starling.server.protocol;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.EventExecutor;
import io.starling.broker.Broker;
import io.starling.broker.acl.TopicAccess;
import io.starling.broker.auth.CertificateIdentity;
import io.starling.broker.message.PendingWill;
import io.starling.broker.session.ClientConnection;
import io.starling.broker.session.QueueBudget;
import io.starling.broker.session.Session;
import io.starling.codec.PacketType;
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
import io.starling.server.wire.DecodeFailure;
import io.starling.server.wire.PacketFlow;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;

/**
 * One client connection: the protocol state machine (its {@link State}, changed in this class only), the dispatch
 * of each packet to its handler, the connection's deadlines (connect timeout, keep-alive, the grace period of a
 * closing connection; checked by its loop's {@link ConnectionSweeper}), and writing (the packets are encoded by
 * {@link OutboundPackets}; writes are flushed once per read batch, or once per pass of the loop for writes made by
 * tasks: the connection itself is that flush task, {@link #run}).
 *
 * <p>Its other jobs are in classes of their own: {@link ConnectHandler} (CONNECT, AUTH; sees this connection as a
 * {@link ConnectPort}; dropped once connected unless the client may re-authenticate), {@link PublishHandler}
 * (PUBLISH, PUBREL) and {@link SubscribeHandler} (SUBSCRIBE, UNSUBSCRIBE), which see it as a {@link ConnectionPort}
 * and are created with the first packet they handle; {@link ReadGate} (when reads are paused and resumed, created
 * the first time that may happen); {@link Closer} (how the connection ends: refusals, DISCONNECT reasons, the Will;
 * stateless). The acknowledgements of outbound messages go straight to the session.
 *
 * <p>Thread-safety: everything runs on the channel's event loop, which also owns the attached session.
 */
public final class MqttConnection extends ChannelInboundHandlerAdapter implements ClientConnection, ConnectPort,
        Runnable {

    /** {@link #onDeadline}: no deadline left. */
    static final long NO_DEADLINE = 0;

    /**
     * AWAIT_CONNECT → [AUTHENTICATING (5.0 AUTH exchange) | VERIFYING (credentials checked off the loop)] → OPENING →
     * CONNECTED → CLOSED. Packets pipelined behind the CONNECT are held while VERIFYING and OPENING. CLOSED is entered
     * as soon as the connection is to end (what it still writes may take until the close grace period).
     */
    enum State { AWAIT_CONNECT, AUTHENTICATING, VERIFYING, OPENING, CONNECTED, CLOSED }

    private final ProtocolSetup setup;
    /** The transport's decoding of this connection, to hold it while the client does not read; may be null. */
    private final PacketFlow inbound;
    /** Until CONNACK; afterwards only for a client that may re-authenticate (5.0 enhanced authentication). */
    private ConnectHandler connectHandler;
    private PublishHandler publishHandler;
    private SubscribeHandler subscribeHandler;
    /** Created the first time reads may be paused: a publishing read batch, or an answer to a full socket. */
    private ReadGate gate;
    private ChannelHandlerContext ctx;
    private Channel channel;
    private State state = State.AWAIT_CONNECT;
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

    // ---- deadlines (see ConnectionSweeper), on the clock of the loop's sweeper
    private ConnectionSweeper sweeper;
    /** This connection in its sweeper's wheel: links and slot; slot -1 while not filed. */
    MqttConnection sweepPrev;
    MqttConnection sweepNext;
    int sweepSlot = -1;
    /**
     * The connect timeout until the client is authenticated (AWAIT_CONNECT, AUTHENTICATING, VERIFYING); in CLOSED,
     * the end of the grace period of a DISCONNECT, after which the connection is closed whether or not it has left;
     * {@link #NO_DEADLINE} otherwise.
     */
    private long deadline = NO_DEADLINE;
    /** 1.5 times the Keep Alive in nanoseconds; 0 = no keep-alive. */
    private long keepAliveNanos;
    /** When the keep-alive period started: the last read batch with a packet, or the last expiry check. */
    private long keepAliveFrom;

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
        return channel.remoteAddress();
    }

    @Override
    public EventExecutor eventLoop() {
        return channel.eventLoop();
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
        return state == State.CONNECTED && channel.isWritable();
    }

    @Override
    public void write(MqttPacket packet) {
        if (state == State.CLOSED) {
            return;
        }
        boolean publish = packet instanceof PublishPacket;
        if (publish && gate != null) {
            gate.onPublishWritten();
        }
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

    private Object encode(MqttPacket packet) {
        OutboundPackets o = out != null ? out : OutboundPackets.plain(ProtocolVersion.MQTT_3_1_1);
        return o.encode(packet, ctx.alloc());
    }

    private void flushNow() {
        flushPending = false;
        ctx.flush();
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
        return ReadGate.pendingOutboundBytes(channel);
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

    /** CLOSED: the channel is closed, without a flush. */
    void end() {
        state = State.CLOSED;
        channel.close();
    }

    /** CLOSED: what was written goes out, then the channel is closed. */
    void endAfterFlush() {
        state = State.CLOSED;
        ctx.flush();
        channel.close();
    }

    /**
     * CLOSED: writes and flushes {@code last}, and closes the channel once it has left; with a {@code graceNanos}
     * (not 0), closes it anyway when that has passed.
     */
    void endWith(MqttPacket last, long graceNanos) {
        state = State.CLOSED;
        ctx.writeAndFlush(encode(last)).addListener(ChannelFutureListener.CLOSE);
        if (graceNanos != 0) {
            deadline = nonZero(sweeper.now() + graceNanos);
            sweeper.schedule(this, deadline);
        }
    }

    // ---------------------------------------------------------------- deadlines

    /**
     * Called by the sweeper once the earliest deadline filed for this connection may have fallen: acts on those that
     * have, and answers the next one ({@link #NO_DEADLINE} for none).
     */
    long onDeadline(long now) {
        if (deadline != NO_DEADLINE && now - deadline >= 0) {
            deadline = NO_DEADLINE;
            if (state == State.CLOSED) {
                channel.close(); // the DISCONNECT did not leave within the grace period
            } else {
                Closer.connectTimedOut(this);
            }
            return NO_DEADLINE;
        }
        if (state == State.CLOSED) {
            return deadline;
        }
        if (keepAliveNanos > 0 && now - (keepAliveFrom + keepAliveNanos) >= 0) {
            keepAliveFrom = now; // checked again one whole period later (or after the next packet)
            keepAliveExpired();
        }
        return nextDeadline();
    }

    /** The earliest deadline of this connection, {@link #NO_DEADLINE} for none. */
    long nextDeadline() {
        long next = deadline;
        if (state == State.CLOSED) {
            return next;
        }
        if (keepAliveNanos > 0) {
            long due = keepAliveFrom + keepAliveNanos;
            if (next == NO_DEADLINE || due - next < 0) {
                next = due;
            }
        }
        return next;
    }

    /** {@code nanos}, moved off the value that stands for no deadline. */
    static long nonZero(long nanos) {
        return nanos == NO_DEADLINE ? 1 : nanos;
    }

    /** 1.5 times the Keep Alive passed without a packet from the client. */
    private void keepAliveExpired() {
        if (gate != null && gate.readsNothingItIsSent()) {
            // its PINGREQs may wait unread in the socket, but it has not taken a byte for a whole keep-alive period
            // (1.5 times Keep Alive): dead, or not working as a client (it would not see a PINGRESP either)
            Closer.keepAliveExpired(this, true);
        } else if (gate == null || !gate.isPaused()) {
            // (when paused, not reading is our own choice: the client's PINGREQs wait unread in the socket)
            // [MQTT-3.1.2-24] (3.1.1) / [MQTT-3.1.2-22] (5.0) nothing received within 1.5 times the Keep Alive:
            // closed as a network failure
            Closer.keepAliveExpired(this, false);
        }
    }

    // ---------------------------------------------------------------- channel events

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.channel = ctx.channel();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        broker().metrics().connectionsAccepted.increment();
        sweeper = setup.sweepers().of(channel.eventLoop());
        deadline = nonZero(sweeper.now() + broker().config().connectTimeout().toNanos());
        sweeper.schedule(this, deadline);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.CLOSED) {
            return;
        }
        if (msg instanceof DecodeFailure failure) {
            Closer.decodeFailed(this, failure);
        } else if (state == State.OPENING || state == State.VERIFYING) {
            packetInBatch = true;
            connectHandler.hold((MqttPacket) msg);
        } else {
            packetInBatch = true;
            inReadBatch = true; // answers are flushed once, at the end of the batch
            dispatch((MqttPacket) msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        inReadBatch = false;
        if (packetInBatch) {
            packetInBatch = false;
            if (keepAliveNanos > 0) {
                keepAliveFrom = sweeper.now(); // the sweeper finds the later deadline when it comes to this one
            }
        }
        if (flushPending) {
            flushPending = false;
            ctx.flush();
        }
        if (state == State.CONNECTED) {
            if (routedInBatch) {
                routedInBatch = false;
                QueueBudget budget = broker().queueBudget();
                long total = budget.onRouted(channel.eventLoop());
                if (publishedInBatch) {
                    gate().checkBudget(budget, total);
                }
            }
            if (publishedInBatch) {
                publishedInBatch = false;
                gate().pauseIfOverloaded(broker());
            }
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (channel.isWritable()) {
            if (gate != null && gate.isOutputPaused()) {
                // what the client sent first (its acknowledgements free the inflight window), then its queue
                gate.resumeFromOutputPause();
            }
            if (state == State.CONNECTED && channel.isWritable()) {
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
        deadline = NO_DEADLINE;
        if (sweeper != null) {
            sweeper.cancel(this);
        }
        State previous = state;
        state = State.CLOSED;
        if (connectHandler != null) {
            connectHandler.onClosed();
        }
        Closer.closed(this, previous);
        ctx.fireChannelInactive();
    }

    // ---------------------------------------------------------------- dispatch

    private void dispatch(MqttPacket packet) {
        if (state == State.AWAIT_CONNECT || state == State.AUTHENTICATING) {
            switch (packet.type()) {
                case CONNECT -> connectHandler.onConnect((ConnectPacket) packet);
                case AUTH -> connectHandler.onAuth((AuthPacket) packet);
                default -> {
                    // [MQTT-4.12.0-4] nothing but AUTH or DISCONNECT before the CONNACK
                    if (packet.type() == PacketType.DISCONNECT) {
                        end();
                    } else {
                        Closer.refuse(this, ReasonCode.PROTOCOL_ERROR, packet.type() + " during authentication", true);
                    }
                }
            }
            return;
        }
        switch (packet.type()) {
            case PUBLISH -> {
                publishedInBatch = true;
                routedInBatch = true;
                publishHandler().onPublish((PublishPacket) packet);
            }
            case PUBACK -> session.onPubAck(((PubAckPacket) packet).packetId());
            case PUBREC -> {
                PubRecPacket p = (PubRecPacket) packet;
                session.onPubRec(p.packetId(), p.reasonCode());
            }
            case PUBREL -> publishHandler().onPubRel((PubRelPacket) packet);
            case PUBCOMP -> session.onPubComp(((PubCompPacket) packet).packetId());
            case SUBSCRIBE -> {
                routedInBatch = true; // retained messages may be queued
                subscribeHandler().onSubscribe((SubscribePacket) packet);
            }
            case UNSUBSCRIBE -> subscribeHandler().onUnsubscribe((UnsubscribePacket) packet);
            case PINGREQ -> write(PingRespPacket.INSTANCE); // [MQTT-3.12.4-1]
            case DISCONNECT -> Closer.clientDisconnected(this, (DisconnectPacket) packet, expiryWasZero);
            case AUTH -> {
                if (connectHandler != null) {
                    connectHandler.onAuth((AuthPacket) packet);
                } else {
                    protocolError(ConnectHandler.notTheMethodOfConnect((AuthPacket) packet));
                }
            }
            default -> protocolError("unexpected " + packet.type() + " from a client");
        }
    }

    private PublishHandler publishHandler() {
        if (publishHandler == null) {
            Broker broker = broker();
            publishHandler = new PublishHandler(this, broker, broker.store(), broker.config(), broker.topicLimits(),
                    broker.metrics(), sweeper::now);
        }
        return publishHandler;
    }

    private SubscribeHandler subscribeHandler() {
        if (subscribeHandler == null) {
            Broker broker = broker();
            subscribeHandler = new SubscribeHandler(this, broker, broker.store(), broker.config(),
                    broker.topicLimits());
        }
        return subscribeHandler;
    }

    private ReadGate gate() {
        if (gate == null) {
            gate = new ReadGate(this, inbound);
        }
        return gate;
    }

    // ---------------------------------------------------------------- for the ReadGate and the Closer

    Broker broker() {
        return setup.broker();
    }

    Channel channel() {
        return channel;
    }

    ChannelHandlerContext ctx() {
        return ctx;
    }

    /** The clock of the deadlines. */
    long now() {
        return sweeper.now();
    }

    /** The connection's read gate, {@code null} until reads could first be paused; for tests. */
    ReadGate readGate() {
        return gate;
    }

    // ---------------------------------------------------------------- ConnectPort: the CONNECT's steps

    @Override
    public State state() {
        return state;
    }

    @Override
    public void connecting(ProtocolVersion version) {
        out = OutboundPackets.plain(version);
    }

    @Override
    public void identified(String id) {
        clientId = id;
    }

    @Override
    public void clientLimits(int receiveMaximum, long maximumPacketSize, int topicAliasMaximum,
            boolean problemInformation) {
        this.clientReceiveMaximum = receiveMaximum;
        this.out = OutboundPackets.of(out.version(), maximumPacketSize, topicAliasMaximum);
        this.problemInformation = problemInformation;
    }

    @Override
    public void keepAlive(int seconds) {
        if (seconds > 0) {
            // [MQTT-3.1.2-24] (3.1.1) / [MQTT-3.1.2-22] (5.0) allow one and a half times the Keep Alive between
            // packets
            keepAliveNanos = seconds * 1_500_000_000L;
            keepAliveFrom = sweeper.now();
            sweeper.schedule(this, nextDeadline());
        }
    }

    @Override
    public void startAuthenticating() {
        state = State.AUTHENTICATING;
    }

    @Override
    public void startVerifying() {
        state = State.VERIFYING;
        channel.config().setAutoRead(false);
    }

    @Override
    public void authorized(TopicAccess access) {
        topicAccess = access;
    }

    @Override
    public void startOpening(Will will, boolean expiryWasZero) {
        this.will = will;
        this.expiryWasZero = expiryWasZero;
        state = State.OPENING;
        deadline = NO_DEADLINE; // the connect timeout also bounds an enhanced authentication exchange, which is over
        channel.config().setAutoRead(false);
        long next = nextDeadline();
        if (next == NO_DEADLINE) {
            sweeper.cancel(this);
        }
    }

    @Override
    public void sessionOpened(Session s) {
        session = s;
    }

    @Override
    public void accept(ConnAckPacket connAck) {
        // flushed below with the answers to what the client pipelined (no flush task for the CONNACK alone)
        ctx.write(encode(connAck), ctx.voidPromise());
        state = State.CONNECTED;
        ArrayDeque<MqttPacket> pending = connectHandler.takeHeld();
        if (!connectHandler.mayReauthenticate()) {
            connectHandler = null; // what is needed of the CONNECT from now on is kept here
        }
        session.resume();
        while (pending != null && state == State.CONNECTED && !pending.isEmpty()) {
            dispatch(pending.poll());
        }
        flushPending = false;
        ctx.flush();
        // reads again, unless an answer to a pipelined packet found the socket full
        if (gate != null) {
            gate.updateAutoRead();
        } else if (state == State.CONNECTED) {
            channel.config().setAutoRead(true);
        }
    }

    @Override
    public void abandon() {
        state = State.CLOSED;
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
    public void execute(Runnable task) {
        try {
            channel.eventLoop().execute(task);
        } catch (RejectedExecutionException e) {
            // the broker is stopping
        }
    }

    @Override
    public CertificateIdentity certificate() {
        return setup.certificates().apply(channel);
    }
}
