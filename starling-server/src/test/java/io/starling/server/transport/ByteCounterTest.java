package io.starling.server.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/** Bytes read are added once per read batch, bytes written once per flush, and what is left when the channel closes. */
class ByteCounterTest {

    private final LongAdder received = new LongAdder();
    private final LongAdder sent = new LongAdder();
    private final EmbeddedChannel channel = new EmbeddedChannel(new ByteCounter(received, sent));

    @Test
    void readsCountAtTheEndOfTheirBatch() {
        channel.pipeline().fireChannelRead(Unpooled.wrappedBuffer(new byte[10]));
        channel.pipeline().fireChannelRead(Unpooled.wrappedBuffer(new byte[5]));
        assertThat(received.sum()).as("not before the batch ends").isZero();
        channel.pipeline().fireChannelReadComplete();
        assertThat(received.sum()).isEqualTo(15);
        releaseInbound();
    }

    @Test
    void writesCountWhenFlushed() {
        channel.write(Unpooled.wrappedBuffer(new byte[7]));
        channel.write(Unpooled.wrappedBuffer(new byte[3]));
        assertThat(sent.sum()).isZero();
        channel.flush();
        assertThat(sent.sum()).isEqualTo(10);
        channel.writeAndFlush(Unpooled.wrappedBuffer(new byte[4]));
        assertThat(sent.sum()).isEqualTo(14);
        releaseOutbound();
    }

    @Test
    void whatIsLeftIsCountedWhenTheChannelCloses() {
        channel.pipeline().fireChannelRead(Unpooled.wrappedBuffer(new byte[6]));
        channel.write(Unpooled.wrappedBuffer(new byte[2]));
        releaseInbound();
        channel.close(); // flushes what was written, then the channel is inactive
        assertThat(received.sum()).isEqualTo(6);
        assertThat(sent.sum()).isEqualTo(2);
        releaseOutbound();
    }

    private void releaseInbound() {
        for (Object o; (o = channel.readInbound()) != null; ) {
            ((ByteBuf) o).release();
        }
    }

    private void releaseOutbound() {
        for (Object o; (o = channel.readOutbound()) != null; ) {
            ((ByteBuf) o).release();
        }
    }
}
