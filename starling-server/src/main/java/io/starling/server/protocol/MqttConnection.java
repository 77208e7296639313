package io.starling.server.protocol;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.util.concurrent.EventExecutor;
import io.starling.broker.Broker;
import io.starling.broker.acl.TopicAccess;
import io.starling.broker.auth.CertificateIdentity;
import io.starling.broker.session.ClientConnection;
import io.starling.broker.message.PendingWill;
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
import io.starling.server.wire.DecodeFailure;
import io.starling.server.wire.PacketFlow;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: the protocol state machine (its {@link State}, changed in this class only), the dispatch
 * of each packet to its handler, the connection's deadlines (connect timeout, keep-alive, the grace period of a
 * closing connection; checked by its loop's {@link ConnectionSweeper}), reading and writing (the packets are encoded
 * here, by {@link OutboundPackets}), and the single place where failures become a CONNACK code, a DISCONNECT reason
 * (5.0) or a closed socket (3.x).
 *
 * <p>Handlers: {@link ConnectHandler} (CONNECT, AUTH, DISCONNECT; sees this connection as a {@link ConnectPort}),
 * {@link PublishHandler} (PUBLISH, PUBREL) and {@link SubscribeHandler} (SUBSCRIBE, UNSUBSCRIBE), which see it as a
 * {@link ConnectionPort} and are created with the first packet they handle; the acknowledgements of outbound
 * messages go straight to the session.
 *
 * <p>Thread-safety: everything runs on the channel's event loop, which also owns the attached session.
 */
public final class MqttConnection extends ChannelInboundHandlerAdapter implements ClientConnection, ConnectPort {

    private static final Logger LOG = LoggerFactory.getLogger(MqttConnection.class);
    /** How long a DISCONNECT sent before closing may take to leave before the connection is closed anyway. */
    static final long CLOSE_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** {@link #onDeadline}: no deadline left. */
    static final long NO_DEADLINE = 0;

    /**
     * AWAIT_CONNECT → [AUTHENTICATING (5.0 AUTH exchange) | VERIFYING (credentials checked off the loop)] → OPENING →
     * CONNECTED → CLOSED. Packets pipelined behind the CONNECT are held while VERIFYING and OPENING. CLOSED is entered
     * as soon as the connection is to end (what it still writes may take until the close grace period).
     */
    enum State { AWAIT_CONNECT, AUTHENTICATING, VERIFYING, OPENING, CONNECTED, CLOSED }

    private final ProtocolSetup setup;
    private final Broker broker;
    /** The transport's decoding of this connection, to hold it while the client does not read; may be null. */
    private final PacketFlow inbound;
    private final ConnectHandler connectHandler;
    private PublishHandler publishHandler;
    private SubscribeHandler subscribeHandler;
    private ChannelHandlerContext ctx;
    private Channel channel;
    private State state = State.AWAIT_CONNECT;
    /** How packets are encoded for this client; {@code null} before its CONNECT. */
    private OutboundPackets out;
    private String clientId;
    private Session session;
    private int clientReceiveMaximum = 65_535;
    /** 5.0 Request Problem Information: whether reason strings may go on packets other than CONNACK/DISCONNECT. */
    private boolean problemInformation = true;
    /** The client's rights under the ACL, {@code null} without an ACL; set once the client is authenticated. */
    private TopicAccess topicAccess;
    /** Packets pipelined behind the CONNECT while VERIFYING/OPENING; created for the first one. */
    private ArrayDeque<MqttPacket> pendingWhileOpening;
    /** Something was written and not flushed yet: at the end of the read batch, or by {@link #flushTask}. */
    private boolean flushPending;
    /** Between a packet's channelRead and the end of its read batch, which flushes what was written meanwhile. */
    private boolean inReadBatch;
    /** Flushes writes made outside a read batch; created for the first of them. */
    private Runnable flushTask;

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
    /** A packet arrived in the current read batch (the keep-alive starts again at its end). */
    private boolean packetInBatch;

    // ---- flow control
    /** Reading stopped by the DeliveryGovernor (hand-off backlog between loops). */
    private boolean governorPaused;
    /** Reading stopped by the QueueBudget (max-queued-bytes-total). */
    private boolean budgetPaused;
    /** A resume callback of this connection is registered with the QueueBudget and has not run yet. */
    private boolean budgetRegistered;
    /**
     * Reading stopped because an answer (an acknowledgement, PINGRESP, ...) was written while the socket was not
     * writable: the client is not reading what it is sent, so it gets no more answers until it does.
     */
    private boolean outputPaused;
    /** While {@link #outputPaused}: the outbound buffer at the last keep-alive check; {@code null} before it. */
    private OutputStall stall;
    /** A PUBLISH arrived in the current read batch. */
    private boolean publishedInBatch;
    /** A PUBLISH or SUBSCRIBE arrived in the current read batch: messages may have been queued. */
    private boolean routedInBatch;
    /** What a publishing connection needs for flow control; created the first time it publishes. */
    private PublisherFlow flow;

    /**
     * The outbound buffer of a connection paused for output at a keep-alive check: its first message, that message's
     * progress and the bytes pending, to tell a client that reads slowly from one that reads nothing.
     */
    private static final class OutputStall {
        Object message;
        long progress;
        long pending;
    }

    /** The callbacks of the DeliveryGovernor and the QueueBudget, and the budget's exemption. */
    private final class PublisherFlow {
        final Runnable governorPause = () -> {
            governorPaused = true;
            updateAutoRead();
        };
        // called from any loop by the DeliveryGovernor once the hand-off backlog is low again
        final Runnable governorResume = () -> onLoop(() -> {
            governorPaused = false;
            updateAutoRead();
        });
        final QueueBudget.Resume budgetResume = timedOut -> onLoop(() -> resumeFromBudget(timedOut));
        /** Not paused by the QueueBudget before this time; {@link #NO_DEADLINE} when never paused to its limit. */
        long budgetExemptUntil = NO_DEADLINE;
    }

    private PublisherFlow flow() {
        if (flow == null) {
            flow = new PublisherFlow();
        }
        return flow;
    }
    /**
     * @param inbound the transport's decoder of this connection (held while the client does not read what it is
     *     sent); {@code null} in a pipeline without one
     */
    public MqttConnection(ProtocolSetup setup, PacketFlow inbound) {
        this.setup = setup;
        this.broker = setup.broker();
        this.inbound = inbound;
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
        if (budgetPaused && publish) {
            // it receives messages now: it must read their acknowledgements, never wait for the budget
            budgetPaused = false;
            updateAutoRead();
        }
        ctx.write(encode(packet), ctx.voidPromise());
        if (!channel.isWritable()) {
            // over the high-water mark: hand the bytes to the socket now rather than at the end of the batch
            flushNow();
            if (!publish && !channel.isWritable()) {
                // an answer to what the client sent, and it does not read: stop reading it until it does, or its
                // answers would pile up here without bound (PUBLISH packets are sent only while writable)
                pauseForOutput();
            }
            return;
        }
        if (!flushPending) {
            flushPending = true;
            if (!inReadBatch) {
                // written from a task (a delivery, an acknowledgement once durable): flushed after the tasks of
                // this pass of the loop, once for all that is written to this connection meanwhile
                if (flushTask == null) {
                    flushTask = this::flushIfPending;
                }
                channel.eventLoop().execute(flushTask);
            }
        }
    }

    private void flushIfPending() {
        if (flushPending) {
            flushNow();
        }
    }

    private Object encode(MqttPacket packet) {
        OutboundPackets o = out != null ? out : OutboundPackets.plain(ProtocolVersion.MQTT_3_1_1);
        return o.encode(packet, ctx.alloc());
    }

    /** Writes and flushes {@code packet}, then closes the connection. */
    private void writeAndClose(MqttPacket packet) {
        ctx.writeAndFlush(encode(packet)).addListener(ChannelFutureListener.CLOSE);
    }

    private void flushNow() {
        flushPending = false;
        ctx.flush();
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
    public PendingWill takeWill() {
        return connectHandler.takeWill();
    }

    @Override
    public PendingWill peekWill() {
        return connectHandler.peekWill();
    }

    @Override
    public void closeForTakeover() {
        closeWithReason(ReasonCode.SESSION_TAKEN_OVER);
    }

    @Override
    public void closeWithReason(ReasonCode reason) {
        closeWithReason(reason, null);
    }

    /** Closes the connection; 5.0 clients that completed CONNECT get DISCONNECT with the reason first. */
    void closeWithReason(ReasonCode reason, String reasonString) {
        if (state == State.CLOSED) {
            return;
        }
        ProtocolVersion version = version();
        if (version != null && version.isV5() && state == State.CONNECTED && channel.isWritable()) {
            state = State.CLOSED;
            // a reason string the client's Maximum Packet Size has no room for is left out (OutboundPackets)
            writeAndClose(new DisconnectPacket(reason, reasonProperties(reasonString, true)));
            // a client that stops reading now would keep the DISCONNECT, and the connection, pending for ever
            deadline = nonZero(sweeper.now() + CLOSE_GRACE_NANOS);
            sweeper.schedule(this, deadline);
        } else {
            // 3.x, or a client that does not read what it is sent: a DISCONNECT would wait behind the rest
            state = State.CLOSED;
            ctx.flush();
            channel.close();
        }
    }

    @Override
    public Properties reasonProperties(String reasonString, boolean connackOrDisconnect) {
        ProtocolVersion version = version();
        if (reasonString == null || version == null || !version.isV5() || !(connackOrDisconnect || problemInformation)) {
            return Properties.EMPTY;
        }
        return Properties.builder().reasonString(reasonString).build();
    }

    @Override
    public void storeFailed(String what) {
        LOG.debug("Client '{}' ({}): the store could not keep what its {} brought; closing the connection", clientId,
                channel.remoteAddress(), what);
        closeWithReason(ReasonCode.UNSPECIFIED_ERROR, STORE_FAILED);
    }

    @Override
    public void protocolError(String why) {
        disconnect(ReasonCode.PROTOCOL_ERROR, why);
    }

    @Override
    public void disconnect(ReasonCode reason, String why) {
        broker.metrics().protocolErrors.increment();
        LOG.info("Client '{}' ({}): {}; disconnecting with {}", clientId, channel.remoteAddress(), why, reason);
        closeWithReason(reason, why);
    }

    // ---------------------------------------------------------------- reading, paused and resumed

    /** Stops reading (and decoding what was read) until the socket is writable again: see {@link #outputPaused}. */
    private void pauseForOutput() {
        if (outputPaused) {
            return;
        }
        outputPaused = true;
        stall = null;
        if (inbound != null) {
            inbound.hold();
        }
        channel.config().setAutoRead(false); // in every state: what is read is not decoded while held
        LOG.debug("Client '{}' does not read what it is sent: its reads are paused until it does", clientId);
    }

    /** The socket is writable again: read and decode again, what was held back first. */
    private void resumeFromOutputPause() {
        outputPaused = false;
        if (state == State.CONNECTED) {
            updateAutoRead();
        } else if (state == State.AWAIT_CONNECT || state == State.AUTHENTICATING) {
            channel.config().setAutoRead(true);
        } // VERIFYING and OPENING read again when they end (accept)
        if (inbound != null) {
            try {
                inbound.release();
            } catch (Exception e) {
                exceptionCaught(ctx, e);
            }
        }
    }

    /**
     * At a keep-alive check while reads are paused for output: whether the socket took anything since the previous
     * one. The first check after the pause only takes note (the pause may have begun just before it), so a client is
     * judged on at least one whole period.
     */
    private boolean readsWhatItIsSent() {
        ChannelOutboundBuffer b = channel.unsafe().outboundBuffer();
        if (b == null) {
            return true;
        }
        Object current = b.current();
        long progress = b.currentProgress();
        long pending = b.totalPendingWriteBytes();
        OutputStall last = stall;
        boolean moved = last == null || current != last.message || progress != last.progress
                || pending != last.pending;
        if (last == null) {
            last = new OutputStall();
            stall = last;
        }
        last.message = current;
        last.progress = progress;
        last.pending = pending;
        return moved;
    }

    /** Whether the broker has stopped reading this connection (for any reason); on the connection's loop. */
    public boolean isReadPaused() {
        return outputPaused || budgetPaused || governorPaused;
    }

    /** Bytes written to this connection that the socket has not taken yet; on the connection's loop. */
    public long pendingOutboundBytes() {
        ChannelOutboundBuffer b = channel.unsafe().outboundBuffer();
        return b == null ? 0 : b.totalPendingWriteBytes();
    }

    /**
     * max-queued-bytes-total, after a read batch that may have queued messages: at the shed mark the budget sheds
     * from the largest queues (on their loops); at the budget itself, a connection that published stops being read
     * until shedding has brought the total down, for at most {@link QueueBudget#MAX_PAUSE_MS}. Only a pure publisher
     * at this moment: one whose session has messages queued or in flight to it is a subscriber whose acknowledgements
     * free the queues, and is never paused; one that is paused is resumed as soon as a message is written to it
     * ({@link #write}). A pause that ran to its limit exempts the connection for as long again.
     */
    private void checkBudget() {
        QueueBudget budget = broker.queueBudget();
        long total = budget.onRouted(channel.eventLoop());
        if (!budget.isAtBudget(total) || !publishedInBatch || budgetPaused || session.queuedCount() > 0
                || session.inflightCount() > 0
                || (flow().budgetExemptUntil != NO_DEADLINE && sweeper.now() - flow.budgetExemptUntil < 0)) {
            return;
        }
        budgetPaused = true;
        updateAutoRead();
        LOG.debug("Client '{}': {} bytes queued over all sessions, at max-queued-bytes-total: pausing its reads",
                clientId, total);
        if (!budgetRegistered) {
            budgetRegistered = true;
            budget.pause(flow.budgetResume, channel.eventLoop());
        }
    }

    private void resumeFromBudget(boolean timedOut) {
        budgetRegistered = false;
        if (budgetPaused) {
            if (timedOut) {
                // the pause ran to its limit: read for at least as long before it may be paused again
                flow().budgetExemptUntil = nonZero(sweeper.now()
                        + TimeUnit.MILLISECONDS.toNanos(QueueBudget.MAX_PAUSE_MS));
            }
            budgetPaused = false;
            updateAutoRead();
        }
    }

    /** Reads while neither the DeliveryGovernor, the QueueBudget nor an unread output holds the connection. */
    private void updateAutoRead() {
        if (state == State.CONNECTED) {
            channel.config().setAutoRead(!governorPaused && !budgetPaused && !outputPaused);
        }
    }

    /** Publishers stop reading while other loops are behind with deliveries (see DeliveryGovernor). */
    private void pauseIfOverloaded() {
        PublisherFlow f = flow();
        broker.governor().pauseIfOverloaded(f.governorPause, f.governorResume);
    }

    /** Runs {@code task} on the connection's loop (posted); nothing when the broker is stopping. */
    private void onLoop(Runnable task) {
        EventExecutor loop = channel.eventLoop();
        if (loop.isShuttingDown()) {
            return;
        }
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            // the broker is stopping
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
                connectTimedOut();
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
    private static long nonZero(long nanos) {
        return nanos == NO_DEADLINE ? 1 : nanos;
    }

    private void connectTimedOut() {
        // no CONNECT, or authentication not done, within the connect timeout
        LOG.debug("{}: no CONNECT within {} ms, closing", channel.remoteAddress(),
                broker.config().connectTimeout().toMillis());
        state = State.CLOSED;
        channel.close();
    }

    /** 1.5 times the Keep Alive passed without a packet from the client. */
    private void keepAliveExpired() {
        if (outputPaused && !readsWhatItIsSent()) {
            // its PINGREQs may wait unread in the socket, but it has not taken a byte for a whole keep-alive period
            // (1.5 times Keep Alive): dead, or not working as a client (it would not see a PINGRESP either)
            LOG.info("Client '{}' has read nothing it was sent for a keep-alive period, disconnecting", clientId);
            closeWithReason(ReasonCode.KEEP_ALIVE_TIMEOUT, "keep-alive timeout");
            return;
        }
        if (governorPaused || budgetPaused || outputPaused) {
            // not reading by our own choice: the client's PINGREQs wait unread in the socket, it is not silent
            return;
        }
        // [MQTT-3.1.2-24] (3.1.1) / [MQTT-3.1.2-22] (5.0) nothing received within 1.5 times the Keep Alive: close as
        // a network failure
        LOG.info("Client '{}' keep-alive timeout, disconnecting", clientId);
        closeWithReason(ReasonCode.KEEP_ALIVE_TIMEOUT, "keep-alive timeout");
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
        sweeper = setup.sweepers().of(channel.eventLoop());
        deadline = nonZero(sweeper.now() + broker.config().connectTimeout().toNanos());
        sweeper.schedule(this, deadline);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.CLOSED) {
            return;
        }
        if (msg instanceof DecodeFailure failure) {
            onDecodeFailure(failure);
        } else if (state == State.OPENING || state == State.VERIFYING) {
            packetInBatch = true;
            if (pendingWhileOpening == null) {
                pendingWhileOpening = new ArrayDeque<>(2);
            }
            pendingWhileOpening.add((MqttPacket) msg);
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
                checkBudget();
            }
            if (publishedInBatch) {
                publishedInBatch = false;
                if (!governorPaused) {
                    // a connection that only acknowledges or pings adds nothing to the backlog and goes on
                    pauseIfOverloaded();
                }
            }
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (channel.isWritable()) {
            if (outputPaused) {
                // what the client sent first (its acknowledgements free the inflight window), then its queue
                resumeFromOutputPause();
            }
            if (state == State.CONNECTED && channel.isWritable()) {
                session.drain();
            }
        }
        ctx.fireChannelWritabilityChanged();
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
        deadline = NO_DEADLINE;
        if (sweeper != null) {
            sweeper.cancel(this);
        }
        State previous = state;
        state = State.CLOSED;
        connectHandler.onClosed();
        if (session != null && (previous == State.CONNECTED || previous == State.CLOSED)) {
            // [MQTT-3.1.2-8] without a normal DISCONNECT the Will goes to the session manager to be published
            broker.sessions().onConnectionClosed(session, this, takeWill());
        }
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
                        state = State.CLOSED;
                        channel.close();
                    } else {
                        refuseConnect(ReasonCode.PROTOCOL_ERROR, packet.type() + " during authentication");
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
            case DISCONNECT -> connectHandler.onDisconnect((DisconnectPacket) packet);
            case AUTH -> connectHandler.onAuth((AuthPacket) packet);
            default -> protocolError("unexpected " + packet.type() + " from a client");
        }
    }

    private PublishHandler publishHandler() {
        if (publishHandler == null) {
            publishHandler = new PublishHandler(this, broker, broker.store(), broker.config(), broker.topicLimits(),
                    broker.metrics(), sweeper::now);
        }
        return publishHandler;
    }

    private SubscribeHandler subscribeHandler() {
        if (subscribeHandler == null) {
            subscribeHandler = new SubscribeHandler(this, broker, broker.store(), broker.config(),
                    broker.topicLimits());
        }
        return subscribeHandler;
    }

    private void onDecodeFailure(DecodeFailure f) {
        if (!f.logged()) { // limits on incomplete packets are logged (rate-limited) where they are enforced
            broker.metrics().protocolErrors.increment();
            LOG.info("{} client '{}': {} ({}), closing", channel.remoteAddress(), clientId, f.message(), f.reasonCode());
        }
        if (f.duringConnect()) {
            ReasonCode r = f.reasonCode();
            if (r == ReasonCode.UNSUPPORTED_PROTOCOL_VERSION) {
                // [MQTT-3.1.2-2] CONNACK 0x01 (3.x) / 0x84 (5.0), then close
                out = OutboundPackets.plain(f.version() == ProtocolVersion.MQTT_5 ? f.version()
                        : ProtocolVersion.MQTT_3_1_1);
                sendConnAckAndClose(r, null);
                return;
            }
            if (f.version() == ProtocolVersion.MQTT_5) {
                // [MQTT-3.1.4-1] 5.0: a CONNACK with the reason code may precede the close
                out = OutboundPackets.plain(f.version());
                sendConnAckAndClose(r, f.message());
                return;
            }
            state = State.CLOSED;
            channel.close();
            return;
        }
        closeWithReason(f.reasonCode(), f.message());
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
    public void startOpening() {
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
        session.resume();
        ArrayDeque<MqttPacket> pending = pendingWhileOpening;
        pendingWhileOpening = null;
        while (pending != null && state == State.CONNECTED && !pending.isEmpty()) {
            dispatch(pending.poll());
        }
        flushPending = false;
        ctx.flush();
        updateAutoRead(); // reads again, unless an answer to a pipelined packet found the socket full
    }

    @Override
    public void abandon() {
        state = State.CLOSED;
    }

    @Override
    public void refuseConnect(ReasonCode reason, String why) {
        LOG.info("{}: CONNECT refused: {} ({})", channel.remoteAddress(), why, reason);
        sendConnAckAndClose(reason, why);
    }

    @Override
    public void refuseConnectQuietly(ReasonCode reason, String why) {
        sendConnAckAndClose(reason, why);
    }

    @Override
    public void refuseConnect(ConnAckPacket connAck) {
        state = State.CLOSED;
        writeAndClose(connAck);
    }

    @Override
    public void closeWithoutConnAck(String why) {
        LOG.info("{}: CONNECT refused: {}; closing without CONNACK", channel.remoteAddress(), why);
        state = State.CLOSED;
        channel.close();
    }

    private void sendConnAckAndClose(ReasonCode reason, String why) {
        state = State.CLOSED;
        // [MQTT-3.2.2-4] (3.1.1) / [MQTT-3.2.2-6] (5.0) Session Present is 0 with a refusal
        writeAndClose(new ConnAckPacket(false, reason, reasonProperties(why, true)));
    }

    @Override
    public void closeWith(DisconnectPacket disconnect) {
        state = State.CLOSED;
        writeAndClose(disconnect);
    }

    @Override
    public void closeOnClientDisconnect() {
        state = State.CLOSED;
        ctx.flush();
        channel.close();
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
