package io.starling.server.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.starling.codec.DecodeException;
import io.starling.codec.FixedHeader;
import io.starling.codec.PacketDecoder;
import io.starling.codec.PacketType;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.ConnectPacket;
import java.util.List;

/**
 * Frames MQTT packets from the byte stream: reads the fixed header, checks the Remaining Length against the
 * maximum packet size before buffering the body (so an oversized packet costs nothing), waits for the whole
 * packet and decodes it once. Emits {@link io.starling.codec.packet.MqttPacket}s or one {@link DecodeFailure},
 * after which input is discarded.
 *
 * <p>The first packet must be CONNECT [MQTT-3.1.0-1]; it sets the version used for the rest of the connection.
 * A second CONNECT is a protocol error [MQTT-3.1.0-2]. Not sharable: one per channel.
 *
 * <p>Packets are passed on one at a time, each before the next is decoded, so that the protocol handler can stop the
 * decoding between two packets ({@link #hold}): a client that does not read what the broker writes must not get
 * answers to everything it has sent. What is held stays in the buffer (at most what one read brought) until
 * {@link #release}.
 */
public final class MqttFrameDecoder extends ByteToMessageDecoder {

    private final int maxPacketSize;
    private ProtocolVersion version;
    private boolean failed;
    /** No packet is decoded while set ({@link #hold}). */
    private boolean held;
    /** Inside {@link #channelRead}: the decoding loop is running and sees {@link #held} change. */
    private boolean reading;
    private ChannelHandlerContext ctx;

    public MqttFrameDecoder(int maxPacketSize) {
        this.maxPacketSize = maxPacketSize;
    }

    public ProtocolVersion version() {
        return version;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** Stops decoding after the packet being handled now; the rest waits in the buffer. On the channel's loop. */
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

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        boolean outer = !reading;
        reading = true;
        try {
            super.channelRead(ctx, msg);
        } finally {
            if (outer) {
                reading = false;
            }
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
        if ((long) headerSize + remainingLength > maxPacketSize) {
            // checked before the body is buffered
            fail(in, out, ReasonCode.PACKET_TOO_LARGE,
                    "packet of " + (headerSize + remainingLength) + " bytes exceeds the maximum " + maxPacketSize,
                    version == null);
            return;
        }
        if (readable < headerSize + remainingLength) {
            return;
        }
        ByteBuf body = in.slice(start + headerSize, remainingLength);
        in.skipBytes(headerSize + remainingLength);
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
        out.add(new DecodeFailure(reason, message, version, duringConnect));
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
