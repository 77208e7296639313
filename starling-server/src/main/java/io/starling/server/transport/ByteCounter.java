package io.starling.server.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts the bytes of one connection as they come off and go to the socket (first in the pipeline, so TLS records and
 * WebSocket frames are counted as sent): what is read is added to the broker-wide total once per read batch, what is
 * written once per flush, so the totals cost one add per batch, not one per packet. Confined to the channel's loop.
 */
public final class ByteCounter extends ChannelDuplexHandler {

    private final LongAdder received;
    private final LongAdder sent;
    private long readInBatch;
    private long writtenSinceFlush;

    /**
     * @param received the broker-wide total of bytes read
     * @param sent the broker-wide total of bytes written
     */
    public ByteCounter(LongAdder received, LongAdder sent) {
        this.received = received;
        this.sent = sent;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        readInBatch += size(msg);
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        addRead();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        addRead();
        addWritten();
        super.channelInactive(ctx);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        writtenSinceFlush += size(msg);
        ctx.write(msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        addWritten();
        ctx.flush();
    }

    private void addRead() {
        if (readInBatch != 0) {
            received.add(readInBatch);
            readInBatch = 0;
        }
    }

    private void addWritten() {
        if (writtenSinceFlush != 0) {
            sent.add(writtenSinceFlush);
            writtenSinceFlush = 0;
        }
    }

    private static long size(Object msg) {
        if (msg instanceof ByteBuf b) {
            return b.readableBytes();
        }
        if (msg instanceof ByteBufHolder h) {
            return h.content().readableBytes();
        }
        return 0;
    }
}
