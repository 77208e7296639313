package io.starling.server.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.starling.broker.metrics.StripedCounter;
import io.starling.codec.ReasonCode;
import io.starling.server.wire.DecodeFailure;
import io.starling.codec.packet.ConnectPacket;
import io.starling.codec.packet.PublishPacket;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link MqttFrameDecoder} on an {@link EmbeddedChannel}: framing across reads, the size limits checked at the fixed
 * header, and the limits on incomplete packets (bytes held against the broker-wide budget, time from the first
 * byte), with the channel's clock advanced by hand.
 */
class MqttFrameDecoderTest {

    /** A 3.1.1 CONNECT, clean session, empty client id, keep alive 0. */
    private static final byte[] CONNECT = {0x10, 12, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0, 0, 0};

    private EmbeddedChannel channel;

    @AfterEach
    void close() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    private EmbeddedChannel open(MqttFrameDecoder decoder) {
        close();
        channel = new EmbeddedChannel(decoder);
        channel.freezeTime();
        return channel;
    }

    private static MqttFrameDecoder decoder(IncompletePacketBudget budget, Duration timeout) {
        return new MqttFrameDecoder(1 << 20, 1 << 20, budget, timeout);
    }

    /** A QoS 0 PUBLISH to "t" whose whole packet is {@code size} bytes (fixed header included). */
    private static byte[] publish(int size) {
        int remaining = size - 2;
        while (remaining + 1 + lengthBytes(remaining) != size) {
            remaining--;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x30);
        int r = remaining;
        do {
            int b = r % 128;
            r /= 128;
            out.write(r > 0 ? b | 0x80 : b);
        } while (r > 0);
        out.write(0);
        out.write(1);
        out.write('t');
        out.writeBytes(new byte[remaining - 3]);
        byte[] p = out.toByteArray();
        assertThat(p).hasSize(size);
        return p;
    }

    private static int lengthBytes(int remaining) {
        return remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4;
    }

    private void write(byte[] bytes, int from, int to) {
        channel.writeInbound(Unpooled.copiedBuffer(bytes, from, to - from));
    }

    private void write(byte[] bytes) {
        write(bytes, 0, bytes.length);
    }

    private void connect() {
        write(CONNECT);
        assertThat(next()).isInstanceOf(ConnectPacket.class);
    }

    private Object next() {
        return next(channel);
    }

    private static Object next(EmbeddedChannel c) {
        return c.readInbound();
    }

    private DecodeFailure failure() {
        Object o = next();
        assertThat(o).isInstanceOf(DecodeFailure.class);
        return (DecodeFailure) o;
    }

    private void elapse(long seconds) {
        channel.advanceTimeBy(seconds, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
    }

    @Test
    void packetsSplitOverReadsAreDecodedAndTheirBytesHeldOnlyWhileIncomplete() {
        IncompletePacketBudget budget = IncompletePacketBudget.unbounded();
        open(decoder(budget, Duration.ZERO));
        write(CONNECT, 0, 5);
        assertThat(budget.heldBytes()).as("the first bytes of a packet are not counted").isZero();
        write(CONNECT, 5, CONNECT.length);
        assertThat(next()).isInstanceOf(ConnectPacket.class);

        byte[] p = publish(30_000);
        write(p, 0, IncompletePacketGuard.FREE);
        assertThat(budget.heldBytes()).isZero();
        write(p, IncompletePacketGuard.FREE, IncompletePacketGuard.FREE + 1);
        assertThat(budget.heldBytes()).as("beyond them, reserved in chunks").isEqualTo(IncompletePacketGuard.CHUNK);
        write(p, IncompletePacketGuard.FREE + 1, 20_000);
        assertThat(budget.heldBytes()).isEqualTo(2 * IncompletePacketGuard.CHUNK);
        assertThat(next()).isNull();
        write(p, 20_000, p.length);
        assertThat(next()).isInstanceOf(PublishPacket.class);
        assertThat(budget.heldBytes()).as("given back when the packet is complete").isZero();
    }

    @Test
    void anIncompletePacketOverTheBudgetFailsWithServerBusyAndGivesEverythingBack() {
        IncompletePacketBudget budget = new IncompletePacketBudget(3 * IncompletePacketGuard.CHUNK);
        open(decoder(budget, Duration.ZERO));
        connect();
        byte[] p = publish(100_000);
        write(p, 0, 30_000);
        assertThat(next()).isNull();
        assertThat(budget.heldBytes()).isEqualTo(3 * IncompletePacketGuard.CHUNK);
        write(p, 30_000, 35_000);
        DecodeFailure f = failure();
        assertThat(f.reasonCode()).isEqualTo(ReasonCode.SERVER_BUSY);
        assertThat(f.logged()).as("logged by the budget, at most once per interval").isTrue();
        assertThat(f.duringConnect()).isFalse();
        assertThat(budget.heldBytes()).isZero();
        assertThat(budget.closed(IncompletePacketBudget.Cause.BYTES)).isEqualTo(1);
        write(p, 35_000, p.length);
        assertThat(next()).as("input after the failure is discarded").isNull();
    }

    @Test
    void connectionsShareTheBudgetAndAClosedOneFreesItsPart() {
        IncompletePacketBudget budget = new IncompletePacketBudget(3 * IncompletePacketGuard.CHUNK);
        EmbeddedChannel a = new EmbeddedChannel(decoder(budget, Duration.ZERO));
        EmbeddedChannel b = new EmbeddedChannel(decoder(budget, Duration.ZERO));
        try {
            byte[] p = publish(100_000);
            for (EmbeddedChannel c : new EmbeddedChannel[] {a, b}) {
                c.writeInbound(Unpooled.wrappedBuffer(CONNECT));
                assertThat(next(c)).isInstanceOf(ConnectPacket.class);
            }
            a.writeInbound(Unpooled.copiedBuffer(p, 0, 20_000));
            assertThat(budget.heldBytes()).isEqualTo(2 * IncompletePacketGuard.CHUNK);
            b.writeInbound(Unpooled.copiedBuffer(p, 0, 20_000));
            assertThat(next(b)).as("b would take the total over the bound").isInstanceOf(DecodeFailure.class);
            assertThat(budget.heldBytes()).isEqualTo(2 * IncompletePacketGuard.CHUNK);
            a.close();
            assertThat(budget.heldBytes()).as("released when the connection closes").isZero();
        } finally {
            a.finishAndReleaseAll();
            b.finishAndReleaseAll();
        }
    }

    @Test
    void aPacketNotCompleteWithinTheTimeoutFailsAlthoughBytesKeepArriving() {
        IncompletePacketBudget budget = IncompletePacketBudget.unbounded();
        open(decoder(budget, Duration.ofSeconds(5)));
        connect();
        byte[] p = publish(1_000);
        write(p, 0, 100);
        elapse(4);
        write(p, 100, 200);
        assertThat(next()).as("more bytes do not restart the clock").isNull();
        elapse(1);
        DecodeFailure f = failure();
        assertThat(f.reasonCode()).isEqualTo(ReasonCode.UNSPECIFIED_ERROR);
        assertThat(f.logged()).isTrue();
        assertThat(budget.closed(IncompletePacketBudget.Cause.TIMEOUT)).isEqualTo(1);
        assertThat(budget.heldBytes()).isZero();
    }

    @Test
    void theClockStartsAtTheFirstByteOfEachPacket() {
        open(decoder(IncompletePacketBudget.unbounded(), Duration.ofSeconds(5)));
        connect();
        byte[] p = publish(1_000);
        for (int i = 0; i < 5; i++) {
            // each packet takes 3 s, 15 s in all: only the time per packet counts
            write(p, 0, 500);
            elapse(3);
            write(p, 500, p.length);
            assertThat(next()).isInstanceOf(PublishPacket.class);
        }
        // a packet completed and the next begun in the same read: the new one gets its own 5 s
        write(p, 0, 500);
        elapse(3);
        byte[] twoHalves = new byte[p.length];
        System.arraycopy(p, 500, twoHalves, 0, 500);
        System.arraycopy(p, 0, twoHalves, 500, 500);
        write(twoHalves);
        assertThat(next()).isInstanceOf(PublishPacket.class);
        elapse(3);
        assertThat(next()).isNull();
        write(p, 500, p.length);
        assertThat(next()).isInstanceOf(PublishPacket.class);
        elapse(60);
        assertThat(next()).as("nothing incomplete, nothing timed").isNull();
        assertThat(channel.isActive()).isTrue();
    }

    @Test
    void timeWhileTheBrokerDoesNotReadDoesNotCount() {
        open(decoder(IncompletePacketBudget.unbounded(), Duration.ofSeconds(5)));
        connect();
        byte[] p = publish(1_000);
        write(p, 0, 100);
        channel.config().setAutoRead(false); // e.g. the password being checked, or a budget pausing publishers
        elapse(30);
        assertThat(next()).isNull();
        channel.config().setAutoRead(true);
        elapse(4);
        assertThat(next()).isNull();
        elapse(2);
        assertThat(failure().reasonCode()).isEqualTo(ReasonCode.UNSPECIFIED_ERROR);
    }

    @Test
    void connectAndAuthHaveTheirOwnSmallerLimit() {
        open(new MqttFrameDecoder(100_000, 1_000, IncompletePacketBudget.unbounded(), Duration.ZERO));
        write(new byte[] {0x10, (byte) 0xE9, 0x07}); // a CONNECT of 1004 bytes: refused at these three bytes
        DecodeFailure f = failure();
        assertThat(f.reasonCode()).isEqualTo(ReasonCode.PACKET_TOO_LARGE);
        assertThat(f.duringConnect()).isTrue();
        assertThat(f.logged()).isFalse();

        open(new MqttFrameDecoder(100_000, 1_000, IncompletePacketBudget.unbounded(), Duration.ZERO));
        connect();
        write(publish(50_000));
        assertThat(next()).as("other packets: max-packet-size").isInstanceOf(PublishPacket.class);
        write(new byte[] {(byte) 0xF0, (byte) 0xE9, 0x07}); // AUTH of 1004 bytes
        assertThat(failure().reasonCode()).isEqualTo(ReasonCode.PACKET_TOO_LARGE);
    }

    @Test
    void countsTheBytesOfEveryReadOnceWhenGivenACounter() {
        StripedCounter received = new StripedCounter();
        open(new MqttFrameDecoder(new MqttFrameDecoder.Limits(100_000, 1_000, IncompletePacketBudget.unbounded(),
                Duration.ZERO, received)));
        connect();
        long afterConnect = received.sum();
        assertThat(afterConnect).isPositive();
        byte[] p = publish(300);
        write(p, 0, 100); // half a packet: its bytes were read all the same
        assertThat(received.sum()).isEqualTo(afterConnect + 100);
        write(p, 100, 300);
        assertThat(next()).isInstanceOf(PublishPacket.class);
        assertThat(received.sum()).isEqualTo(afterConnect + 300);
    }
}
