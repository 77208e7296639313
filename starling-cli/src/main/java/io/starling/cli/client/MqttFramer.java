package io.starling.cli.client;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.starling.codec.DecodeException;
import io.starling.codec.FixedHeader;
import java.util.List;

/**
 * Splits the byte stream from a server into MQTT packets and hands each one to {@link #onPacket} while it is
 * still in the cumulation buffer: no copy, no intermediate object. Subclasses decode what they need (with
 * {@code PacketDecoder}, or by hand on the hot path).
 */
public abstract class MqttFramer extends ByteToMessageDecoder {

    @Override
    protected final void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        while (in.readableBytes() >= 2 && ctx.channel().isActive()) {
            long peeked = FixedHeader.peekRemainingLength(in);
            if (peeked == FixedHeader.NEED_MORE_BYTES) {
                return;
            }
            int header = FixedHeader.headerSize(peeked);
            int remaining = FixedHeader.remainingLength(peeked);
            if (in.readableBytes() < header + remaining) {
                return;
            }
            int start = in.readerIndex();
            int firstByte = in.getUnsignedByte(start);
            int bodyStart = start + header;
            in.readerIndex(bodyStart + remaining);
            onPacket(ctx, firstByte, in, bodyStart, remaining);
        }
    }

    /**
     * One whole packet: its body is {@code in[bodyStart, bodyStart + bodyLength)}, readable only during the call
     * (use absolute gets, or {@link #body}).
     */
    protected abstract void onPacket(ChannelHandlerContext ctx, int firstByte, ByteBuf in, int bodyStart, int bodyLength)
            throws DecodeException;

    /** A view of the body for {@code PacketDecoder} (valid only during {@link #onPacket}). */
    protected static ByteBuf body(ByteBuf in, int bodyStart, int bodyLength) {
        return in.slice(bodyStart, bodyLength);
    }
}
