package io.starling.server.bridge;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.starling.broker.acl.TopicAccess;
import io.starling.broker.message.PendingWill;
import io.starling.broker.session.ClientConnection;
import io.starling.broker.session.ConnectionInfo;
import io.starling.codec.DecodeException;
import io.starling.codec.FixedHeader;
import io.starling.codec.PacketDecoder;
import io.starling.codec.PacketEncoder;
import io.starling.codec.PacketType;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.ConnAckPacket;
import io.starling.codec.packet.DisconnectPacket;
import io.starling.codec.packet.MqttPacket;
import io.starling.codec.packet.PingReqPacket;
import io.starling.codec.packet.PubAckPacket;
import io.starling.codec.packet.PubCompPacket;
import io.starling.codec.packet.PubRecPacket;
import io.starling.codec.packet.PubRelPacket;
import io.starling.codec.packet.PublishPacket;
import io.starling.codec.packet.SubAckPacket;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One network connection of a bridge to its remote broker, and, once the remote accepted it, the connection of the
 * bridge's local session ({@link ClientConnection}): what the session sends it forwards to the remote (topics
 * mapped), the remote's acknowledgements go back to the session, the remote's messages go to the {@link Bridge} to be
 * published locally. Everything runs on the bridge's event loop.
 */
final class RemoteLink extends ByteToMessageDecoder implements ClientConnection {

    /** The packet id of the bridge's SUBSCRIBE, sent before the session sends anything. */
    static final int SUBSCRIBE_PACKET_ID = 1;

    private final Bridge bridge;
    private final ProtocolVersion version;
    private final String address;
    private final int maxPacketSize;
    private Channel channel;
    private ScheduledFuture<?> connectTimeout;
    private ScheduledFuture<?> keepAlive;
    /** CONNACK received and accepted. */
    private boolean accepted;
    /** The session is attached, subscriptions are made on both sides, the session may send. */
    private boolean ready;
    private boolean closed;
    private boolean readSinceTick;
    private boolean keepAliveSent;
    /** A PUBLISH from the remote was routed in the current read batch. */
    private boolean routedInBatch;
    private boolean flushScheduled;
    private final Runnable flushTask = this::flush;
    private int remoteReceiveMaximum = 65_535;
    private long remoteMaximumPacketSize = Long.MAX_VALUE;
    private int remoteMaximumQos = 2;
    private boolean remoteRetainAvailable = true;
    private ConnectionInfo info;

    RemoteLink(Bridge bridge, ProtocolVersion version, String address, int maxPacketSize) {
        this.bridge = bridge;
        this.version = version;
        this.address = address;
        this.maxPacketSize = maxPacketSize;
    }

    String address() {
        return address;
    }

    boolean isReady() {
        return ready;
    }

    boolean isClosed() {
        return closed;
    }

    // ---------------------------------------------------------------- channel events

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        send(bridge.connectPacket());
        flush();
        long timeout = bridge.config().connectTimeout().toMillis();
        connectTimeout = ctx.executor().schedule(() -> close("no CONNACK within " + timeout + " ms"), timeout,
                TimeUnit.MILLISECONDS);
        super.channelActive(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        try {
            while (!closed && in.readableBytes() >= 2) {
                long peeked = FixedHeader.peekRemainingLength(in);
                if (peeked == FixedHeader.NEED_MORE_BYTES) {
                    return;
                }
                int header = FixedHeader.headerSize(peeked);
                int remaining = FixedHeader.remainingLength(peeked);
                if ((long) header + remaining > maxPacketSize) {
                    close("the remote sent a packet of " + (header + remaining) + " bytes, above max-packet-size");
                    return;
                }
                if (in.readableBytes() < header + remaining) {
                    return;
                }
                int start = in.readerIndex();
                int firstByte = in.getUnsignedByte(start);
                ByteBuf body = in.slice(start + header, remaining);
                in.readerIndex(start + header + remaining);
                readSinceTick = true;
                onPacket(PacketDecoder.decode(firstByte, body, version, PacketDecoder.Sender.SERVER));
            }
        } catch (DecodeException e) {
            in.skipBytes(in.readableBytes());
            close("the remote sent a malformed packet: " + e.getMessage());
        }
    }

    private void onPacket(MqttPacket packet) {
        if (!accepted) {
            if (packet instanceof ConnAckPacket ack) {
                onConnAck(ack);
            } else {
                close("the remote sent " + packet.type() + " before CONNACK");
            }
            return;
        }
        switch (packet.type()) {
            case PUBLISH -> {
                routedInBatch = true;
                bridge.forwardIn(this, (PublishPacket) packet);
            }
            case PUBACK -> bridge.onPubAck(this, ((PubAckPacket) packet).packetId());
            case PUBREC -> {
                PubRecPacket p = (PubRecPacket) packet;
                bridge.onPubRec(this, p.packetId(), p.reasonCode());
            }
            case PUBCOMP -> bridge.onPubComp(this, ((PubCompPacket) packet).packetId());
            case PUBREL -> bridge.onPubRel(this, ((PubRelPacket) packet).packetId());
            case SUBACK -> {
                SubAckPacket p = (SubAckPacket) packet;
                if (p.packetId() == SUBSCRIBE_PACKET_ID) {
                    bridge.onSubAck(this, p.reasonCodes());
                }
            }
            case PINGRESP -> {
                // readSinceTick is enough
            }
            case DISCONNECT -> close("the remote disconnected: " + ((DisconnectPacket) packet).reasonCode());
            default -> close("the remote sent " + packet.type() + ", which a server does not send");
        }
    }

    private void onConnAck(ConnAckPacket ack) {
        connectTimeout.cancel(false);
        if (ack.reasonCode().isError()) {
            close("the remote refused the connection: " + ack.reasonCode());
            return;
        }
        accepted = true;
        Properties p = ack.properties();
        if (p.receiveMaximum() != null) {
            remoteReceiveMaximum = p.receiveMaximum();
        }
        if (p.maximumPacketSize() != null) {
            remoteMaximumPacketSize = p.maximumPacketSize();
        }
        if (p.maximumQos() != null) {
            remoteMaximumQos = p.maximumQos();
        }
        if (p.retainAvailable() != null) {
            remoteRetainAvailable = p.retainAvailable() != 0;
        }
        int k = bridge.config().keepAliveSeconds();
        if (p.serverKeepAlive() != null) {
            k = p.serverKeepAlive(); // [MQTT-3.2.2-21] (5.0) the server's keep-alive is the one in force
        }
        if (k > 0) {
            keepAlive = channel.eventLoop().scheduleAtFixedRate(this::tick, k, k, TimeUnit.SECONDS);
        }
        info = new ConnectionInfo(bridge.config().username(), address, "bridge",
                version.isV5() ? "5.0" : "3.1.1", k, bridge.config().cleanStart(), System.currentTimeMillis());
        bridge.onConnAck(this, ack.sessionPresent());
    }

    /** Keep-alive: a PINGREQ every period; nothing read for a whole period after one means the remote is gone. */
    private void tick() {
        if (!readSinceTick && keepAliveSent) {
            close("no answer from the remote within the keep-alive");
            return;
        }
        readSinceTick = false;
        keepAliveSent = true;
        send(PingReqPacket.INSTANCE);
        flush();
    }

    /** The highest QoS the remote takes (5.0 Maximum QoS; 2 when it does not say). */
    int remoteMaximumQos() {
        return remoteMaximumQos;
    }

    /** Whether the remote takes retained messages (5.0 Retain Available). */
    boolean remoteRetainAvailable() {
        return remoteRetainAvailable;
    }

    /** Subscriptions are made: the session may send. */
    void markReady() {
        ready = true;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        // the decoder first: it asks for another read itself when auto-read is off and it passed nothing on
        super.channelReadComplete(ctx);
        if (routedInBatch) {
            routedInBatch = false;
            bridge.afterRouting(this);
        }
    }

    /** Stops reading the remote (the broker's hand-off between loops is overloaded) until {@link #resumeReading}. */
    void pauseReading() {
        channel.config().setAutoRead(false);
    }

    void resumeReading() {
        if (!closed) {
            channel.config().setAutoRead(true);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (ready && channel.isWritable()) {
            bridge.drain(this);
        }
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (!closed) {
            bridge.linkFailed(this, "the remote closed the connection");
        }
        closed = true;
        cancelTimers();
        bridge.onLinkClosed(this);
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        close("connection failed: " + cause.getMessage());
    }

    private void cancelTimers() {
        if (connectTimeout != null) {
            connectTimeout.cancel(false);
        }
        if (keepAlive != null) {
            keepAlive.cancel(false);
        }
    }

    /** Closes the connection (the bridge reconnects); {@code why} is logged. */
    void close(String why) {
        if (closed) {
            return;
        }
        closed = true;
        cancelTimers();
        bridge.linkFailed(this, why);
        if (channel != null) {
            channel.close();
        }
    }

    // ---------------------------------------------------------------- writing

    /** Writes a packet to the remote; flushed once at the end of the loop's current pass. */
    void send(MqttPacket packet) {
        if (closed || channel == null) {
            return;
        }
        channel.write(PacketEncoder.encode(channel.alloc(), packet, version), channel.voidPromise());
        if (!channel.isWritable()) {
            flush();
        } else if (!flushScheduled) {
            flushScheduled = true;
            channel.eventLoop().execute(flushTask);
        }
    }

    /** {@link #send} from any thread (a store's acknowledgement). */
    void sendFromAnyThread(MqttPacket packet) {
        if (channel == null) {
            return;
        }
        if (channel.eventLoop().inEventLoop()) {
            send(packet);
        } else {
            channel.eventLoop().execute(() -> send(packet));
        }
    }

    private void flush() {
        flushScheduled = false;
        if (channel != null) {
            channel.flush();
        }
    }

    // ---------------------------------------------------------------- ClientConnection (the local session's side)

    @Override
    public ProtocolVersion version() {
        return version;
    }

    @Override
    public EventExecutor eventLoop() {
        return bridge.loop();
    }

    @Override
    public boolean isWritable() {
        return ready && !closed && channel.isWritable();
    }

    @Override
    public void write(MqttPacket packet) {
        if (packet instanceof PublishPacket p) {
            bridge.forwardOut(this, p);
        } else if (packet.type() == PacketType.PUBREL) {
            bridge.releaseOut(this, (PubRelPacket) packet);
        }
        // nothing else is forwarded: the session speaks to the remote only with PUBLISH and PUBREL
    }

    @Override
    public int clientReceiveMaximum() {
        return remoteReceiveMaximum;
    }

    @Override
    public long clientMaximumPacketSize() {
        return remoteMaximumPacketSize;
    }

    @Override
    public void closeForTakeover() {
        close("the bridge's session was taken over");
    }

    @Override
    public PendingWill takeWill() {
        return null;
    }

    @Override
    public void closeWithReason(ReasonCode reason) {
        if (!closed && accepted) {
            send(version.isV5() ? new DisconnectPacket(reason, Properties.EMPTY) : DisconnectPacket.NORMAL);
            flush();
        }
        close("closed: " + reason);
    }

    @Override
    public TopicAccess topicAccess() {
        return bridge.topicAccess();
    }

    @Override
    public ConnectionInfo info() {
        return info;
    }
}
