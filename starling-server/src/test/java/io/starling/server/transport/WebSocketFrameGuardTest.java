package io.starling.server.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.util.ReferenceCountUtil;
import io.starling.codec.ReasonCode;
import io.starling.server.wire.DecodeFailure;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link WebSocketFrameGuard} in front of Netty's frame decoder on an {@link EmbeddedChannel}: it follows frame
 * boundaries through reads of any shape, holds the bytes of an incomplete frame against the budget and its time
 * limit, and does nothing before the WebSocket handshake.
 */
class WebSocketFrameGuardTest {

    private EmbeddedChannel channel;

    @AfterEach
    void close() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    private EmbeddedChannel open(IncompletePacketBudget budget, Duration timeout) {
        channel = new EmbeddedChannel(new WebSocketFrameGuard(budget, timeout),
                new WebSocket13FrameDecoder(WebSocketDecoderConfig.newBuilder().maxFramePayloadLength(1 << 20).build()));
        channel.freezeTime();
        return channel;
    }

    /** A masked binary frame of {@code length} payload bytes (zero masking key); header only if {@code headerOnly}. */
    private static byte[] frame(int length, boolean headerOnly) {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write(0x82);
        if (length < 126) {
            f.write(0x80 | length);
        } else if (length < 65_536) {
            f.write(0x80 | 126);
            f.write(length >> 8);
            f.write(length);
        } else {
            f.write(0x80 | 127);
            f.writeBytes(new byte[] {0, 0, 0, 0, (byte) (length >> 24), (byte) (length >> 16), (byte) (length >> 8),
                (byte) length});
        }
        f.writeBytes(new byte[4]);
        if (!headerOnly) {
            f.writeBytes(new byte[length]);
        }
        return f.toByteArray();
    }

    private void write(byte[] bytes, int from, int to) {
        channel.writeInbound(Unpooled.copiedBuffer(bytes, from, to - from));
    }

    /** Reads and releases the frames decoded so far; returns how many. */
    private int frames() {
        int n = 0;
        Object o;
        while ((o = channel.readInbound()) != null) {
            assertThat(o).isInstanceOf(BinaryWebSocketFrame.class);
            ReferenceCountUtil.release(o);
            n++;
        }
        return n;
    }

    @Test
    void followsFramesOfEverySizeAcrossReads() {
        IncompletePacketBudget budget = IncompletePacketBudget.unbounded();
        open(budget, Duration.ZERO);
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        for (int length : new int[] {0, 5, 125, 126, 300, 65_535, 65_536, 100_000}) {
            stream.writeBytes(frame(length, false));
        }
        byte[] all = stream.toByteArray();
        // in reads of 7 bytes, then 1000, then the rest: the guard never loses a boundary
        int at = 0;
        for (int i = 0; i < 50; i++) {
            write(all, at, at + 7);
            at += 7;
        }
        write(all, at, at + 1000);
        at += 1000;
        int inLastFrame = all.length - 50_000;
        write(all, at, inLastFrame);
        assertThat(budget.heldBytes()).as("inside the 100,000-byte frame").isPositive();
        write(all, inLastFrame, all.length);
        assertThat(frames()).isEqualTo(8);
        assertThat(budget.heldBytes()).as("everything complete").isZero();
    }

    @Test
    void anIncompleteFrameOverTheBudgetIsNotPassedOnAndFails() {
        IncompletePacketBudget budget = new IncompletePacketBudget(3 * IncompletePacketGuard.CHUNK);
        open(budget, Duration.ZERO);
        byte[] f = frame(200_000, false);
        write(f, 0, 30_000);
        assertThat(budget.heldBytes()).isEqualTo(3 * IncompletePacketGuard.CHUNK);
        write(f, 30_000, 40_000);
        Object o = channel.readInbound();
        assertThat(o).isInstanceOf(DecodeFailure.class);
        DecodeFailure failure = (DecodeFailure) o;
        assertThat(failure.reasonCode()).isEqualTo(ReasonCode.SERVER_BUSY);
        assertThat(failure.logged()).isTrue();
        assertThat(budget.heldBytes()).isZero();
        assertThat(budget.closed(IncompletePacketBudget.Cause.BYTES)).isEqualTo(1);
        write(f, 40_000, f.length);
        assertThat(frames()).as("nothing after the failure reaches the frame decoder").isZero();
    }

    @Test
    void anIncompleteFrameMustBeCompleteInTime() {
        IncompletePacketBudget budget = IncompletePacketBudget.unbounded();
        open(budget, Duration.ofSeconds(5));
        write(frame(10, false), 0, 12);
        channel.advanceTimeBy(3, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        write(frame(10, false), 12, 16);
        assertThat(frames()).isEqualTo(1);
        byte[] f = frame(1000, false);
        write(f, 0, 20);
        channel.advanceTimeBy(4, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        Object none = channel.readInbound();
        assertThat(none).as("4 s into the second frame").isNull();
        channel.advanceTimeBy(1, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        Object o = channel.readInbound();
        assertThat(o).isInstanceOf(DecodeFailure.class);
        assertThat(((DecodeFailure) o).reasonCode()).isEqualTo(ReasonCode.UNSPECIFIED_ERROR);
        assertThat(budget.closed(IncompletePacketBudget.Cause.TIMEOUT)).isEqualTo(1);
    }

    @Test
    void beforeTheHandshakeBytesPassUntouchedAndUncounted() {
        IncompletePacketBudget budget = new IncompletePacketBudget(IncompletePacketGuard.CHUNK);
        channel = new EmbeddedChannel(new WebSocketFrameGuard(budget, Duration.ofSeconds(1)));
        channel.writeInbound(Unpooled.wrappedBuffer(frame(100_000, true), new byte[50_000]));
        ByteBuf passed = channel.readInbound();
        assertThat(passed.readableBytes()).isEqualTo(14 + 50_000);
        passed.release();
        assertThat(budget.heldBytes()).isZero();
    }
}
