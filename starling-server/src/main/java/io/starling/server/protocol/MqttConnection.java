package io.starling.server.protocol;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.starling.broker.Broker;
import io.starling.broker.acl.TopicAccess;
import io.starling.broker.auth.ListenerSecurity;
import io.starling.broker.session.ClientConnection;
import io.starling.broker.message.PendingWill;
import io.starling.broker.session.QueueBudget;
import io.starling.broker.session.Session;
import io.starling.codec.PacketEncoder;
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
import io.starling.codec.packet.SubAckPacket;
import io.starling.codec.packet.UnsubAckPacket;
import io.starling.codec.packet.SubscribePacket;
import io.starling.codec.packet.UnsubscribePacket;
import io.starling.server.transport.DecodeFailure;
import io.starling.server.transport.MqttFrameDecoder;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: the protocol state machine (awaiting CONNECT → authenticating / opening the session →
 * connected → closed), the dispatch of each packet to its handler, outbound topic aliases, and the single place
 * where failures become a CONNACK code, a DISCONNECT reason (5.0) or a closed socket (3.x).
 *
 * <p>Handlers: {@link ConnectHandler} (CONNECT, AUTH, DISCONNECT), {@link PublishHandler} (PUBLISH, PUBREL),
 * {@link SubscribeHandler} (SUBSCRIBE, UNSUBSCRIBE); the acknowledgements of outbound messages go straight to the
 * session.
 *
 * <p>Thread-safety: everything runs on the channel's event loop, which also owns the attached session.
 */
public final class MqttConnection extends ChannelInboundHandlerAdapter implements ClientConnection {

    private static final Logger LOG = LoggerFactory.getLogger(MqttConnection.class);
    /** Reason string when an acknowledgement is refused because the store could not write. */
    static final String STORE_FAILED = "the broker could not store it; send it again later";
    /** How long a DISCONNECT sent before closing may take to leave before the connection is closed anyway. */
    private static final long CLOSE_GRACE_SECONDS = 5;

    /**
     * AWAIT_CONNECT → [AUTHENTICATING (5.0 AUTH exchange) | VERIFYING (credentials checked off the loop)] → OPENING →
     * CONNECTED → CLOSED. Packets pipelined behind the CONNECT are held while VERIFYING and OPENING.
     */
    enum State { AWAIT_CONNECT, AUTHENTICATING, VERIFYING, OPENING, CONNECTED, CLOSED }

    final Broker broker;
    final ListenerSecurity security;
    private final ConnectHandler connectHandler;
    private final PublishHandler publishHandler;
    private final SubscribeHandler subscribeHandler;
    private ChannelHandlerContext ctx;
    private Channel channel;
    State state = State.AWAIT_CONNECT;
    ProtocolVersion version;
    String clientId;
    Session session;
    int clientReceiveMaximum = 65_535;
    long clientMaximumPacketSize = Long.MAX_VALUE;
    int clientTopicAliasMaximum;
    /** 5.0 Request Problem Information: whether reason strings may go on packets other than CONNACK/DISCONNECT. */
    boolean problemInformation = true;
    /** The client's rights under the ACL, {@code null} without an ACL; set once the client is authenticated. */
    TopicAccess topicAccess;
    private Map<String, Integer> outboundAliases;
    private ScheduledFuture<?> connectTimeout;
    private final ArrayDeque<MqttPacket> pendingWhileOpening = new ArrayDeque<>(1);
    private boolean flushPending;
    private final Runnable flushTask = this::flushNow;
    /** Reading stopped by the DeliveryGovernor (hand-off backlog between loops). */
    private boolean governorPaused;
    /** Reading stopped by the QueueBudget (max-queued-bytes-total). */
    private boolean budgetPaused;
    /** A resume callback of this connection is registered with the QueueBudget and has not run yet. */
    private boolean budgetRegistered;
    /** Not paused by the QueueBudget before this time (System.nanoTime): set when a pause ran to its limit. */
    private long budgetExemptUntilNanos = System.nanoTime();
    /**
     * Reading stopped because an answer (an acknowledgement, PINGRESP, ...) was written while the socket was not
     * writable: the client is not reading what it is sent, so it gets no more answers until it does.
     */
    private boolean outputPaused;
    /**
     * While {@link #outputPaused}: the outbound buffer at the last keep-alive check (its first message, that message's
     * progress and the bytes pending), to tell a client that reads slowly from one that reads nothing.
     */
    private Object stalledMessage;
    private long stalledProgress;
    private long stalledPending = -1;
    /** A PUBLISH arrived in the current read batch. */
    private boolean publishedInBatch;
    /** A PUBLISH or SUBSCRIBE arrived in the current read batch: messages may have been queued. */
    private boolean routedInBatch;
    private MqttFrameDecoder decoder;
    private final Runnable governorPause = () -> {
        governorPaused = true;
        updateAutoRead();
    };
    private final Runnable governorResume = this::resumeFromGovernor;
    private final QueueBudget.Resume budgetResume = timedOut -> onLoop(() -> {
        budgetRegistered = false;
        if (budgetPaused) {
            if (timedOut) {
                // the pause ran to its limit: read for at least as long before it may be paused again
                budgetExemptUntilNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(QueueBudget.MAX_PAUSE_MS);
            }
            budgetPaused = false;
            updateAutoRead();
        }
    });

    /**
     * @param security how the listener this connection came in on authenticates clients
     */
    public MqttConnection(Broker broker, ListenerSecurity security) {
        this.broker = broker;
        this.security = security;
        this.connectHandler = new ConnectHandler(this);
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
        // nothing goes out before CONNACK [MQTT-3.2.0-1]: while the session is attached but CONNACK still waits for
        // the store (or authentication), deliveries queue and resume() sends them after it
        return state == State.CONNECTED && channel.isWritable();
    }

    @Override
    public void write(MqttPacket packet) {
        if (state == State.CLOSED) {
            return;
        }
        if (clientTopicAliasMaximum > 0 && packet instanceof PublishPacket p) {
            packet = applyTopicAlias(p);
        } else if (clientMaximumPacketSize != Long.MAX_VALUE && !(packet instanceof PublishPacket)) {
            packet = fitToMaximumPacketSize(packet);
        }
        boolean publish = packet instanceof PublishPacket;
        if (budgetPaused && publish) {
            // it receives messages now: it must read their acknowledgements, never wait for the budget
            budgetPaused = false;
            updateAutoRead();
        }
        ctx.write(packet, ctx.voidPromise());
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
            channel.eventLoop().execute(flushTask);
        }
    }

    /**
     * Outbound topic aliases (5.0 3.3.2.3.4), policy: the first Topic Alias Maximum distinct topics sent on this
     * connection get an alias for its lifetime; the first PUBLISH of a topic carries topic and alias, later ones
     * the alias and an empty topic. Topics beyond that are sent in full. Aliases do not outlive the connection.
     */
    private PublishPacket applyTopicAlias(PublishPacket p) {
        if (outboundAliases == null) {
            outboundAliases = new HashMap<>();
        }
        Integer alias = outboundAliases.get(p.topic());
        if (alias != null) {
            return new PublishPacket("", p.qos(), p.retain(), p.dup(), p.packetId(),
                    p.properties().toBuilder().topicAlias(alias).build(), p.payload());
        }
        if (outboundAliases.size() >= clientTopicAliasMaximum) {
            return p;
        }
        int newAlias = outboundAliases.size() + 1;
        PublishPacket aliased = new PublishPacket(p.topic(), p.qos(), p.retain(), p.dup(), p.packetId(),
                p.properties().toBuilder().topicAlias(newAlias).build(), p.payload());
        if (clientMaximumPacketSize != Long.MAX_VALUE
                && PacketEncoder.encodedSize(aliased, version) > clientMaximumPacketSize) {
            return p; // [MQTT-3.1.2-24] the alias would push it over the client's maximum: send it without
        }
        outboundAliases.put(p.topic(), newAlias);
        return aliased;
    }

    /**
     * An acknowledgement with a Reason String or User Properties that would exceed the client's Maximum Packet
     * Size goes without them [MQTT-3.4.2-2] (and the same rule of every other ack and of DISCONNECT).
     */
    private MqttPacket fitToMaximumPacketSize(MqttPacket packet) {
        if (PacketEncoder.encodedSize(packet, version) <= clientMaximumPacketSize) {
            return packet;
        }
        return switch (packet.type()) {
            case PUBACK -> new PubAckPacket(((PubAckPacket) packet).packetId(), ((PubAckPacket) packet).reasonCode(),
                    Properties.EMPTY);
            case PUBREC -> new PubRecPacket(((PubRecPacket) packet).packetId(), ((PubRecPacket) packet).reasonCode(),
                    Properties.EMPTY);
            case PUBREL -> new PubRelPacket(((PubRelPacket) packet).packetId(), ((PubRelPacket) packet).reasonCode(),
                    Properties.EMPTY);
            case PUBCOMP -> new PubCompPacket(((PubCompPacket) packet).packetId(),
                    ((PubCompPacket) packet).reasonCode(), Properties.EMPTY);
            case SUBACK -> new SubAckPacket(((SubAckPacket) packet).packetId(), ((SubAckPacket) packet).reasonCodes(),
                    Properties.EMPTY);
            case UNSUBACK -> new UnsubAckPacket(((UnsubAckPacket) packet).packetId(),
                    ((UnsubAckPacket) packet).reasonCodes(), Properties.EMPTY);
            case DISCONNECT -> new DisconnectPacket(((DisconnectPacket) packet).reasonCode(), Properties.EMPTY);
            default -> packet;
        };
    }

    private void flushNow() {
        flushPending = false;
        ctx.flush();
    }

    /** Stops reading (and decoding what was read) until the socket is writable again: see {@link #outputPaused}. */
    private void pauseForOutput() {
        if (outputPaused) {
            return;
        }
        outputPaused = true;
        stalledPending = -1;
        MqttFrameDecoder d = decoder();
        if (d != null) {
            d.hold();
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
        } // VERIFYING and OPENING read again when they end (finishOpening)
        MqttFrameDecoder d = decoder();
        if (d != null) {
            try {
                d.release();
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
        io.netty.channel.ChannelOutboundBuffer b = channel.unsafe().outboundBuffer();
        if (b == null) {
            return true;
        }
        Object current = b.current();
        long progress = b.currentProgress();
        long pending = b.totalPendingWriteBytes();
        boolean first = stalledPending < 0;
        boolean moved = current != stalledMessage || progress != stalledProgress || pending != stalledPending;
        stalledMessage = current;
        stalledProgress = progress;
        stalledPending = pending;
        return first || moved;
    }

    /** The connection's frame decoder, {@code null} in a pipeline without one. */
    private MqttFrameDecoder decoder() {
        if (decoder == null) {
            decoder = channel.pipeline().get(MqttFrameDecoder.class);
        }
        return decoder;
    }

    /** Whether the broker has stopped reading this connection (for any reason); on the connection's loop. */
    public boolean isReadPaused() {
        return outputPaused || budgetPaused || governorPaused;
    }

    /** Bytes written to this connection that the socket has not taken yet; on the connection's loop. */
    public long pendingOutboundBytes() {
        io.netty.channel.ChannelOutboundBuffer b = channel.unsafe().outboundBuffer();
        return b == null ? 0 : b.totalPendingWriteBytes();
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
        return clientMaximumPacketSize;
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
        if (version != null && version.isV5() && state == State.CONNECTED && channel.isWritable()) {
            DisconnectPacket d = new DisconnectPacket(reason, reasonProperties(reasonString, true));
            if (PacketEncoder.encodedSize(d, version) > clientMaximumPacketSize) {
                d = new DisconnectPacket(reason, Properties.EMPTY);
            }
            ctx.writeAndFlush(d).addListener(ChannelFutureListener.CLOSE);
            // a client that stops reading now would keep the DISCONNECT, and the connection, pending for ever
            ctx.executor().schedule(() -> {
                channel.close();
            }, CLOSE_GRACE_SECONDS, TimeUnit.SECONDS);
        } else {
            // 3.x, or a client that does not read what it is sent: a DISCONNECT would wait behind the rest
            ctx.flush();
            channel.close();
        }
        state = State.CLOSED;
    }

    /**
     * Properties carrying a Reason String, if the client allows it: always on CONNACK and DISCONNECT, elsewhere only
     * when Request Problem Information is not 0 [MQTT-3.1.2-29].
     */
    Properties reasonProperties(String reasonString, boolean connackOrDisconnect) {
        if (reasonString == null || !version.isV5() || !(connackOrDisconnect || problemInformation)) {
            return Properties.EMPTY;
        }
        return Properties.builder().reasonString(reasonString).build();
    }

    Session session() {
        return session;
    }

    String clientId() {
        return clientId;
    }

    Channel channel() {
        return channel;
    }

    ChannelHandlerContext ctx() {
        return ctx;
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
            if (state == State.AWAIT_CONNECT || state == State.AUTHENTICATING || state == State.VERIFYING) {
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
        } else if (state == State.OPENING || state == State.VERIFYING) {
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
        if (state == State.CONNECTED) {
            if (routedInBatch) {
                routedInBatch = false;
                checkBudget();
            }
            if (publishedInBatch) {
                publishedInBatch = false;
                if (!governorPaused) {
                    // publishers stop reading while other loops are behind with deliveries (see DeliveryGovernor);
                    // a connection that only acknowledges or pings adds nothing to the backlog and goes on
                    broker.governor().pauseIfOverloaded(governorPause, governorResume);
                }
            }
        }
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
                || session.inflightCount() > 0 || System.nanoTime() - budgetExemptUntilNanos < 0) {
            return;
        }
        budgetPaused = true;
        updateAutoRead();
        LOG.debug("Client '{}': {} bytes queued over all sessions, at max-queued-bytes-total: pausing its reads",
                clientId, total);
        if (!budgetRegistered) {
            budgetRegistered = true;
            budget.pause(budgetResume, channel.eventLoop());
        }
    }

    /** Reads while neither the DeliveryGovernor, the QueueBudget nor an unread output holds the connection. */
    private void updateAutoRead() {
        if (state == State.CONNECTED) {
            channel.config().setAutoRead(!governorPaused && !budgetPaused && !outputPaused);
        }
    }

    /** Called from any loop by the DeliveryGovernor once the hand-off backlog is low again. */
    private void resumeFromGovernor() {
        onLoop(() -> {
            governorPaused = false;
            updateAutoRead();
        });
    }

    /** Runs {@code task} on the connection's loop (posted); nothing when the broker is stopping. */
    private void onLoop(Runnable task) {
        EventExecutor loop = channel.eventLoop();
        if (loop.isShuttingDown()) {
            return;
        }
        try {
            loop.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the broker is stopping
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
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent && outputPaused && !readsWhatItIsSent()) {
            // its PINGREQs may wait unread in the socket, but it has not taken a byte for a whole keep-alive period
            // (1.5 times Keep Alive): dead, or not working as a client (it would not see a PINGRESP either)
            LOG.info("Client '{}' has read nothing it was sent for a keep-alive period, disconnecting", clientId);
            closeWithReason(ReasonCode.KEEP_ALIVE_TIMEOUT, "keep-alive timeout");
            return;
        }
        if (evt instanceof IdleStateEvent && (governorPaused || budgetPaused || outputPaused)) {
            // not reading by our own choice: the client's PINGREQs wait unread in the socket, it is not silent
            return;
        }
        if (evt instanceof IdleStateEvent) {
            // [MQTT-3.1.2-24] nothing received within 1.5 times the Keep Alive: close as a network failure
            LOG.info("Client '{}' keep-alive timeout, disconnecting", clientId);
            closeWithReason(ReasonCode.KEEP_ALIVE_TIMEOUT, "keep-alive timeout");
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
                    if (packet.type() == io.starling.codec.PacketType.DISCONNECT) {
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
                publishHandler.onPublish((PublishPacket) packet);
            }
            case PUBACK -> session.onPubAck(((PubAckPacket) packet).packetId());
            case PUBREC -> {
                PubRecPacket p = (PubRecPacket) packet;
                session.onPubRec(p.packetId(), p.reasonCode());
            }
            case PUBREL -> publishHandler.onPubRel((PubRelPacket) packet);
            case PUBCOMP -> session.onPubComp(((PubCompPacket) packet).packetId());
            case SUBSCRIBE -> {
                routedInBatch = true; // retained messages may be queued
                subscribeHandler.onSubscribe((SubscribePacket) packet);
            }
            case UNSUBSCRIBE -> subscribeHandler.onUnsubscribe((UnsubscribePacket) packet);
            case PINGREQ -> write(PingRespPacket.INSTANCE); // [MQTT-3.12.4-1]
            case DISCONNECT -> connectHandler.onDisconnect((DisconnectPacket) packet);
            case AUTH -> connectHandler.onAuth((AuthPacket) packet);
            default -> protocolError("unexpected " + packet.type() + " from a client");
        }
    }

    /**
     * The store could not write what an acknowledgement of {@code what} depends on, and the protocol has no error code
     * for it (3.x, or a PUBCOMP): the connection closes without the acknowledgement (5.0: DISCONNECT 0x80), so the
     * client re-sends on its next connection. The store logs the failure itself; this line is at DEBUG.
     */
    void storeFailed(String what) {
        LOG.debug("Client '{}' ({}): the store could not keep what its {} brought; closing the connection", clientId,
                channel.remoteAddress(), what);
        closeWithReason(ReasonCode.UNSPECIFIED_ERROR, STORE_FAILED);
    }

    /** Ends the connection for a protocol violation: DISCONNECT 0x82 on 5.0, close on 3.x; the Will is sent. */
    void protocolError(String why) {
        disconnect(ReasonCode.PROTOCOL_ERROR, why);
    }

    /** Ends the connection on the server's initiative with a reason, logged once. */
    void disconnect(ReasonCode reason, String why) {
        broker.metrics().protocolErrors.increment();
        LOG.info("Client '{}' ({}): {}; disconnecting with {}", clientId, channel.remoteAddress(), why, reason);
        closeWithReason(reason, why);
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
                version = f.version() == ProtocolVersion.MQTT_5 ? f.version() : ProtocolVersion.MQTT_3_1_1;
                sendConnAckAndClose(r, null);
                return;
            }
            if (f.version() == ProtocolVersion.MQTT_5) {
                // [MQTT-3.1.4-1] 5.0: a CONNACK with the reason code may precede the close
                version = f.version();
                sendConnAckAndClose(r, f.message());
                return;
            }
            state = State.CLOSED;
            channel.close();
            return;
        }
        closeWithReason(f.reasonCode(), f.message());
    }

    /** Refuses a CONNECT: CONNACK with the reason (mapped to a 3.x return code by the encoder), then close. */
    void refuseConnect(ReasonCode reason, String why) {
        LOG.info("{}: CONNECT refused: {} ({})", channel.remoteAddress(), why, reason);
        sendConnAckAndClose(reason, why);
    }

    /** Refuses a CONNECT by closing the connection, for a refusal 3.x has no return code for. */
    void closeWithoutConnAck(String why) {
        LOG.info("{}: CONNECT refused: {}; closing without CONNACK", channel.remoteAddress(), why);
        state = State.CLOSED;
        channel.close();
    }

    void sendConnAckAndClose(ReasonCode reason, String why) {
        state = State.CLOSED;
        Properties props = version != null && version.isV5() ? reasonProperties(why, true) : Properties.EMPTY;
        // [MQTT-3.2.2-4] / [MQTT-3.2.2-6] Session Present is 0 with a refusal
        ctx.writeAndFlush(new ConnAckPacket(false, reason, props)).addListener(ChannelFutureListener.CLOSE);
    }

    // ---------------------------------------------------------------- used by ConnectHandler

    void cancelConnectTimeout() {
        connectTimeout.cancel(false);
    }

    /** Holds packets a client pipelines behind its CONNECT while its credentials are checked. */
    void startVerifying() {
        state = State.VERIFYING;
        channel.config().setAutoRead(false);
    }

    /** Holds packets a client pipelines behind its CONNECT until the session is attached. */
    void startOpening() {
        state = State.OPENING;
        channel.config().setAutoRead(false);
    }

    /** The session is attached and CONNACK written: resend, then handle what the client pipelined. */
    void finishOpening() {
        state = State.CONNECTED;
        session.resume();
        while (state == State.CONNECTED && !pendingWhileOpening.isEmpty()) {
            dispatch(pendingWhileOpening.poll());
        }
        pendingWhileOpening.clear();
        updateAutoRead(); // reads again, unless an answer to a pipelined packet found the socket full
    }
}
