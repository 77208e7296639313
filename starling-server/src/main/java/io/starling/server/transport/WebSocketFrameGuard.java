package io.starling.server.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.starling.codec.ReasonCode;
import io.starling.server.wire.DecodeFailure;
import java.time.Duration;

/**
 * The limits on incomplete packets, applied to WebSocket frames: Netty's frame decoder buffers a whole frame before
 * passing it on, so a client could otherwise hold up to a frame of {@code max-packet-size} bytes in it, out of
 * sight of {@link MqttFrameDecoder}. This handler sits in front of that decoder and reads along without changing
 * anything: it parses frame headers (RFC 6455 section 5.2) to know where each frame ends, and holds the bytes of the
 * frame not yet complete against the {@link IncompletePacketBudget} and its time limit, as the MQTT decoder does for
 * packets. Over either, the connection is closed through the protocol handler (a {@link DecodeFailure}, already
 * logged), and the bytes are never passed on.
 *
 * <p>It starts counting once the WebSocket handshake has put Netty's frame decoder into the pipeline (every byte
 * read from then on goes to it); before that, the HTTP request is bounded by the aggregator's 64 KiB and its time by
 * {@code connect-timeout-seconds}. Not sharable: one per channel.
 */
public final class WebSocketFrameGuard extends ChannelInboundHandlerAdapter {

    private final IncompletePacketBudget budget;
    private final IncompletePacketGuard guard;
    private final long timeoutSeconds;
    private ChannelHandlerContext ctx;
    private boolean frames;
    private boolean failed;
    /** The header of the frame being read, as far as it has arrived. */
    private final byte[] header = new byte[14];
    private int headerLength;
    /** Payload bytes of the current frame still to come. */
    private long payloadLeft;
    /** Stream offset of the current frame's first byte, and of the next byte to read. */
    private long frameStart;
    private long offset;

    public WebSocketFrameGuard(IncompletePacketBudget budget, Duration timeout) {
        this.budget = budget;
        this.timeoutSeconds = timeout.toSeconds();
        this.guard = new IncompletePacketGuard(budget, timeout.toNanos(), this::timedOut);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (failed) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!(msg instanceof ByteBuf buf)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (!frames) {
            if (ctx.pipeline().get(io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder.class) == null) {
                ctx.fireChannelRead(msg); // still the HTTP handshake
                return;
            }
            frames = true;
        }
        scan(buf);
        long held = headerLength > 0 || payloadLeft > 0 ? offset - frameStart : 0;
        if (!guard.update(ctx, held, frameStart)) {
            buf.release();
            budget.closed(IncompletePacketBudget.Cause.BYTES, ctx.channel().remoteAddress(),
                    "a WebSocket frame of which " + held + " bytes had arrived");
            fail(ReasonCode.SERVER_BUSY, "too many bytes held for incomplete packets on the server");
            return;
        }
        ctx.fireChannelRead(buf);
    }

    /** Follows the frames through {@code buf}: headers byte by byte, payloads skipped. */
    private void scan(ByteBuf buf) {
        int i = buf.readerIndex();
        int end = buf.writerIndex();
        while (i < end) {
            if (payloadLeft > 0) {
                int n = (int) Math.min(payloadLeft, end - i);
                i += n;
                offset += n;
                payloadLeft -= n;
                continue;
            }
            if (headerLength == 0) {
                frameStart = offset;
            }
            header[headerLength++] = buf.getByte(i++);
            offset++;
            if (headerLength >= 2 && headerLength == headerSize()) {
                payloadLeft = payloadLength();
                headerLength = 0;
            }
        }
    }

    /** The size of the header whose first two bytes have arrived: 2, the extended length, the masking key. */
    private int headerSize() {
        int len7 = header[1] & 0x7F;
        int size = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
        return (header[1] & 0x80) != 0 ? size + 4 : size;
    }

    private long payloadLength() {
        int len7 = header[1] & 0x7F;
        if (len7 < 126) {
            return len7;
        }
        int bytes = len7 == 126 ? 2 : 8;
        long length = 0;
        for (int k = 0; k < bytes; k++) {
            length = length << 8 | (header[2 + k] & 0xFF);
        }
        return length < 0 ? Long.MAX_VALUE : length; // Netty refuses such a frame; count it as endless meanwhile
    }

    private void timedOut() {
        if (failed) {
            return;
        }
        budget.closed(IncompletePacketBudget.Cause.TIMEOUT, ctx.channel().remoteAddress(), "a WebSocket frame of which "
                + (offset - frameStart) + " bytes had arrived, not complete within " + timeoutSeconds + " s");
        fail(ReasonCode.UNSPECIFIED_ERROR, "packet not complete within " + timeoutSeconds + " s");
    }

    /**
     * Closes through the protocol handler, which answers as for any failure of the input (DISCONNECT on 5.0); what
     * Netty's frame decoder holds is released when the channel closes.
     */
    private void fail(ReasonCode reason, String message) {
        failed = true;
        guard.release();
        MqttFrameDecoder mqtt = ctx.pipeline().get(MqttFrameDecoder.class);
        ctx.fireChannelRead(new DecodeFailure(reason, message, mqtt == null ? null : mqtt.version(),
                mqtt == null || mqtt.version() == null, true));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        guard.release();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        guard.release();
    }
}
