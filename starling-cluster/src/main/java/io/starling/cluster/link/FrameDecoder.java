package io.starling.cluster.link;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import java.util.List;

/**
 * Cuts the node link's byte stream into frames ({@code [int length][type][body]}), passing on {@code [type][body]}.
 * Until the peer has proven it holds the secret a frame may be at most {@value #HANDSHAKE_MAX} bytes, so a stranger
 * cannot make this node buffer much; afterwards up to the largest frame the link sends. Half a frame waits for the
 * rest; a length out of bounds is an error (the link is closed).
 */
final class FrameDecoder extends ByteToMessageDecoder {

    static final int HANDSHAKE_MAX = 1024;

    private int maxFrame = HANDSHAKE_MAX;

    /** After the handshake: frames up to {@code max} bytes. */
    void authenticated(int max) {
        this.maxFrame = max;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.readableBytes() >= 4) {
            int length = in.getInt(in.readerIndex());
            if (length < 1 || length > maxFrame) {
                in.skipBytes(in.readableBytes());
                throw new CorruptedFrameException("frame length " + length + " out of bounds (1.." + maxFrame + ")");
            }
            if (in.readableBytes() < 4 + length) {
                return;
            }
            in.skipBytes(4);
            out.add(in.readRetainedSlice(length));
        }
    }
}
