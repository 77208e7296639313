package io.starling.server.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.starling.broker.metrics.StripedCounter;
import io.starling.codec.DecodeException;
import io.starling.codec.FixedHeader;
import io.starling.codec.PacketDecoder;
import io.starling.codec.PacketType;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.ConnectPacket;
import io.starling.server.wire.DecodeFailure;
import io.starling.server.wire.PacketFlow;
import java.time.Duration;
import java.util.List;

/**
 * Frames MQTT packets from the byte stream: reads the fixed header, checks the Remaining Length against the
 * maximum packet size before buffering the body (so an oversized packet costs nothing), waits for the whole
 * packet and decodes it once. Emits {@link io.starling.codec.packet.MqttPacket}s or one {@link DecodeFailure},
 * after which input is discarded.
 *
 * <p>The first packet must be CONNECT [MQTT-3.1.0-1]; it sets the version used for the rest of the connection.
 * A second CONNECT is a protocol error [MQTT-3.1.0-2]. CONNECT and AUTH packets, which arrive before the client is
 * authenticated, have a limit of their own ({@code max-connect-packet-size}).
 *
 * <p>A packet that is not complete after a read is held in the cumulation: its bytes are reserved from the broker's
 * {@link IncompletePacketBudget}, and it must be complete within {@code incomplete-packet-timeout-seconds} of its
 * first byte (see {@link IncompletePacketGuard}). Beyond either, the decoder discards its input and passes up a
 * {@link DecodeFailure} (logged by the budget, at most one line per interval): 0x89 Server busy for the bytes,
 * 0x80 Unspecified error for the time.
 *
 * <p>Packets are passed on one at a time, each before the next is decoded, so that the protocol handler can stop the
 * decoding between two packets ({@link #hold}): a client that does not read what the broker writes must not get
 * answers to everything it has sent. What is held stays in the buffer (at most what one read brought) until
 * {@link #release}. Not sharable: one per channel.
 */
public final class MqttFrameDecoder extends ByteToMessageDecoder implements PacketFlow {

    private final Limits limits;
    /** The limits on the incomplete packet held now; created with the first packet that is incomplete after a read. */
    private IncompletePacketGuard guard;
    private ChannelHandlerContext ctx;
    private ProtocolVersion version;
    private boolean failed;
    /** Bytes of whole packets taken from the stream so far: where the next packet starts. */
    private long consumed;
    /** No packet is decoded while set ({@link #hold}). */
    private boolean held;
    /** Inside {@link #channelRead}: the decoding loop is running and sees {@link #held} change. */
    private boolean reading;

    /** A decoder without a CONNECT limit of its own, a bound on incomplete packets or a time limit (for tests). */
    public MqttFrameDecoder(int maxPacketSize) {
        this(maxPacketSize, maxPacketSize, IncompletePacketBudget.unbounded(), Duration.ZERO);
    }

    /**
     * @param maxPacketSize largest packet accepted
     * @param maxConnectPacketSize largest CONNECT or AUTH packet accepted (at most {@code maxPacketSize} applies)
     * @param budget the broker's bound of bytes held for incomplete packets
     * @param timeout time a packet may take from its first byte to its last; zero = no limit
     */
    public MqttFrameDecoder(int maxPacketSize, int maxConnectPacketSize, IncompletePacketBudget budget,
            Duration timeout) {
        this(new Limits(maxPacketSize, maxConnectPacketSize, budget, timeout));
    }

    /** A decoder with limits shared by the connections of a listener (one object, not four fields each). */
    public MqttFrameDecoder(Limits limits) {
        this.limits = limits;
    }

    /**
     * The limits of a listener's decoders.
     *
     * @param maxPacketSize largest packet accepted
     * @param maxConnectPacketSize largest CONNECT or AUTH packet accepted (at most {@code maxPacketSize} applies)
     * @param budget the broker's bound of bytes held for incomplete packets
     * @param timeoutNanos time a packet may take from its first byte to its last; zero = no limit
     * @param bytesReceived the broker-wide count of MQTT bytes received, added to once per read; or null
     */
    public record Limits(int maxPacketSize, int maxConnectPacketSize, IncompletePacketBudget budget,
            long timeoutNanos, StripedCounter bytesReceived) {

        /** @param timeout time a packet may take from its first byte to its last; zero = no limit */
        public Limits(int maxPacketSize, int maxConnectPacketSize, IncompletePacketBudget budget, Duration timeout) {
            this(maxPacketSize, maxConnectPacketSize, budget, timeout, null);
        }

        /**
         * @param timeout time a packet may take from its first byte to its last; zero = no limit
         * @param bytesReceived the broker-wide count of MQTT bytes received; or null
         */
        public Limits(int maxPacketSize, int maxConnectPacketSize, IncompletePacketBudget budget, Duration timeout,
                StripedCounter bytesReceived) {
            this(maxPacketSize, Math.min(maxPacketSize, maxConnectPacketSize), budget, timeout.toNanos(), bytesReceived);
        }
    }

    public ProtocolVersion version() {
        return version;
    }

    /** Stops decoding after the packet being handled now; the rest waits in the buffer. On the channel's loop. */
    @Override
    public void hold() {
        held = true;
    }

    /** Whether decoding is held. */
    public boolean isHeld() {
        return held;
    }

    /**
     * Decodes again, starting with what was held back, as if it had just arrived (packets, then the end of a read
     * batch). On the channel's loop; from inside the decoding itself it only lifts the hold, and the running loop
     * goes on.
     */
    @Override
    public void release() throws Exception {
        if (!held) {
            return;
        }
        held = false;
        if (!reading && ctx != null && !ctx.isRemoved() && actualReadableBytes() > 0) {
            channelRead(ctx, Unpooled.EMPTY_BUFFER);
            channelReadComplete(ctx);
        }
    }

    /**
     * Decodes what arrived; then what is left in the cumulation is one incomplete packet, which is held against the
     * budget and timed from its first byte (not while decoding is held: those bytes wait for the broker, not the
     * client).
     */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        StripedCounter counted = limits.bytesReceived();
        if (counted != null && msg instanceof ByteBuf b) {
            counted.add(b.readableBytes()); // one add per read from the socket (or per TLS record / WebSocket frame)
        }
        boolean outer = !reading;
        reading = true;
        try {
            super.channelRead(ctx, msg);
        } finally {
            if (outer) {
                reading = false;
            }
        }
        if (!outer || failed || held || !(msg instanceof ByteBuf)) {
            return;
        }
        int incomplete = internalBuffer().readableBytes();
        if (incomplete > 0 && guard == null) {
            guard = new IncompletePacketGuard(limits.budget(), limits.timeoutNanos(), this::timedOut);
        }
        if (guard != null && !guard.update(ctx, incomplete, consumed)) {
            limits.budget().closed(IncompletePacketBudget.Cause.BYTES, ctx.channel().remoteAddress(),
                    "a packet of which " + incomplete + " bytes had arrived");
            failLater(ReasonCode.SERVER_BUSY, "too many bytes held for incomplete packets on the server");
        }
    }

    /** Decodes at most one packet: ByteToMessageDecoder passes it on, then calls again for the next. */
    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (held) {
            return;
        }
        int start = in.readerIndex();
        int readable = in.readableBytes();
        if (readable < 1) {
            return;
        }
        int firstByte = in.getUnsignedByte(start);
        if (version == null && firstByte >> 4 != PacketType.CONNECT.value()) {
            // [MQTT-3.1.0-1] the first packet must be CONNECT: refuse at its first byte, before any body
            fail(in, out, ReasonCode.PROTOCOL_ERROR, "first packet has type " + (firstByte >> 4) + ", not CONNECT",
                    true);
            return;
        }
        if (readable < 2) {
            return;
        }
        int remainingLength;
        int headerSize;
        try {
            long header = FixedHeader.peekRemainingLength(in);
            if (header == FixedHeader.NEED_MORE_BYTES) {
                return;
            }
            remainingLength = FixedHeader.remainingLength(header);
            headerSize = 1 + FixedHeader.lengthFieldSize(header);
        } catch (DecodeException e) {
            fail(in, out, e.reasonCode(), e.getMessage(), version == null);
            return;
        }
        int limit = version == null || firstByte >> 4 == PacketType.AUTH.value() ? limits.maxConnectPacketSize()
                : limits.maxPacketSize();
        if ((long) headerSize + remainingLength > limit) {
            // checked before the body is buffered
            fail(in, out, ReasonCode.PACKET_TOO_LARGE, (version == null ? "CONNECT" : "packet") + " of "
                    + (headerSize + remainingLength) + " bytes exceeds the maximum " + limit, version == null);
            return;
        }
        if (readable < headerSize + remainingLength) {
            return;
        }
        ByteBuf body = in.slice(start + headerSize, remainingLength);
        in.skipBytes(headerSize + remainingLength);
        consumed += headerSize + remainingLength;
        PacketType type = PacketType.of(firstByte >> 4);
        try {
            if (version == null) {
                ConnectPacket connect = PacketDecoder.decodeConnect(firstByte, body);
                version = connect.version();
                out.add(connect);
            } else if (type == PacketType.CONNECT) {
                // [MQTT-3.1.0-2] a second CONNECT is a protocol violation
                fail(in, out, ReasonCode.PROTOCOL_ERROR, "second CONNECT", false);
                return;
            } else {
                out.add(PacketDecoder.decode(firstByte, body, version));
            }
        } catch (DecodeException e) {
            if (version == null) {
                version = requestedVersion(body);
                fail(in, out, e.reasonCode(), e.getMessage(), true);
                version = null;
            } else {
                fail(in, out, e.reasonCode(), e.getMessage(), false);
            }
        }
    }

    private void fail(ByteBuf in, List<Object> out, ReasonCode reason, String message, boolean duringConnect) {
        failed = true;
        in.skipBytes(in.readableBytes());
        releaseGuard();
        out.add(new DecodeFailure(reason, message, version, duringConnect));
    }

    private void releaseGuard() {
        if (guard != null) {
            guard.release();
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        super.handlerAdded(ctx);
    }

    /** The packet whose first byte came {@code incomplete-packet-timeout-seconds} ago is still not complete. */
    private void timedOut() {
        if (failed) {
            return;
        }
        long seconds = limits.timeoutNanos() / 1_000_000_000L;
        limits.budget().closed(IncompletePacketBudget.Cause.TIMEOUT, ctx.channel().remoteAddress(), "a packet of which "
                + internalBuffer().readableBytes() + " bytes had arrived, not complete within " + seconds + " s");
        failLater(ReasonCode.UNSPECIFIED_ERROR, "packet not complete within " + seconds + " s");
    }

    /** Fails outside {@link #decode}: discards the cumulation and passes the (already logged) failure on. */
    private void failLater(ReasonCode reason, String message) {
        failed = true;
        releaseGuard();
        ByteBuf cumulation = internalBuffer();
        cumulation.skipBytes(cumulation.readableBytes());
        ctx.fireChannelRead(new DecodeFailure(reason, message, version, version == null, true));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        releaseGuard();
        super.channelInactive(ctx);
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        releaseGuard();
    }

    /** The version a CONNECT that failed to decode asked for, to answer in its format; null if unknown. */
    private static ProtocolVersion requestedVersion(ByteBuf body) {
        int i = body.readerIndex();
        if (body.writerIndex() - i < 2) {
            return null;
        }
        int nameLength = body.getUnsignedShort(i);
        if (body.writerIndex() - i < 3 + nameLength) {
            return null;
        }
        int level = body.getUnsignedByte(i + 2 + nameLength);
        for (ProtocolVersion v : ProtocolVersion.values()) {
            if (v.level() == level) {
                return v;
            }
        }
        return null;
    }
}
