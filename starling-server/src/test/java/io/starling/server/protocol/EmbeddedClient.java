package io.starling.server.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.starling.broker.Broker;
import io.starling.broker.auth.AuthFailureLimiter;
import io.starling.broker.auth.Authenticator;
import io.starling.broker.auth.ListenerSecurity;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.ListenerConfig;
import io.starling.broker.store.InMemoryStore;
import io.starling.codec.DecodeException;
import io.starling.codec.FixedHeader;
import io.starling.codec.PacketDecoder;
import io.starling.codec.PacketEncoder;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.packet.ConnectPacket;
import io.starling.codec.packet.MqttPacket;
import io.starling.server.transport.MqttFrameDecoder;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * One client connection on an {@link EmbeddedChannel}: the real frame decoder and {@link MqttConnection} in front of
 * a real {@link Broker} with the in-memory store, whose event loop is the channel's own. Time is a manual clock
 * ({@link #advance}); the deadlines are checked when the test runs the loop's sweeper ({@link #sweep}). Packets go
 * in encoded by the codec and come out as bytes decoded by it.
 */
final class EmbeddedClient implements AutoCloseable {

    /** The manual clock of the connection's deadlines, in nanoseconds; starts far from zero. */
    private long now = 1_000_000_000_000L;
    final ConnectionSweepers sweepers = new ConnectionSweepers(() -> now);
    final EmbeddedChannel channel;
    Broker broker;
    private ProtocolVersion version = ProtocolVersion.MQTT_3_1_1;

    EmbeddedClient(Consumer<BrokerConfig.Builder> config) {
        this(config, null);
    }

    /** @param authenticator checks user names and passwords; {@code null}: anonymous clients only */
    EmbeddedClient(Consumer<BrokerConfig.Builder> config, Authenticator authenticator) {
        BrokerConfig.Builder b = BrokerConfig.builder().storage(BrokerConfig.Storage.MEMORY);
        config.accept(b);
        BrokerConfig cfg = b.build();
        ListenerSecurity security = new ListenerSecurity(ListenerConfig.tcp("127.0.0.1", 0), authenticator,
                new AuthFailureLimiter(10, Duration.ofMinutes(1), Duration.ofMinutes(1)));
        channel = new EmbeddedChannel(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                // the broker's only loop is the channel's: sessions are owned by it, hand-offs are posted to it
                broker = new Broker(cfg, ch.eventLoop(), new InMemoryStore());
                MqttFrameDecoder decoder = new MqttFrameDecoder(cfg.maxPacketSize());
                ch.pipeline().addLast(decoder, new MqttConnection(
                        new ProtocolSetup(broker, security, sweepers, c -> null), decoder));
            }
        });
    }

    /** The connection handler under test. */
    MqttConnection connection() {
        return channel.pipeline().get(MqttConnection.class);
    }

    /** Moves the manual clock on. */
    void advance(Duration d) {
        now += d.toNanos();
    }

    /**
     * Moves the manual clock and the channel's own time (for timers of its loop; frozen by this call, so that only
     * the test moves it) on, then runs the timers that are due and the tasks they posted.
     */
    void advanceTimers(Duration d) {
        channel.freezeTime();
        advance(d);
        channel.advanceTimeBy(d.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
        channel.runScheduledPendingTasks();
        channel.runPendingTasks();
    }

    /** Runs the deadline sweeper of the channel's loop at the current time, then the tasks it posted. */
    void sweep() {
        sweepers.of(channel.eventLoop()).runDue();
        channel.runPendingTasks();
    }

    /** Sends packets, each encoded by the codec in the connection's version, in one read. */
    EmbeddedClient send(MqttPacket... packets) {
        ByteBuf in = ByteBufAllocator.DEFAULT.buffer();
        for (MqttPacket p : packets) {
            if (p instanceof ConnectPacket c) {
                version = c.version();
            }
            PacketEncoder.encode(p, version, in);
        }
        channel.writeInbound(in);
        channel.runPendingTasks();
        return this;
    }

    /** Sends raw bytes in one read. */
    EmbeddedClient sendBytes(int... bytes) {
        ByteBuf in = ByteBufAllocator.DEFAULT.buffer(bytes.length);
        for (int b : bytes) {
            in.writeByte(b);
        }
        channel.writeInbound(in);
        channel.runPendingTasks();
        return this;
    }

    /**
     * The next packet the broker wrote, decoded; runs the loop's pending tasks (hand-offs between the session and the
     * connection) until one appears, at most a bounded number of rounds.
     */
    MqttPacket next() {
        for (int i = 0; i < 100; i++) {
            ByteBuf out = channel.readOutbound();
            if (out != null) {
                try {
                    return decode(out);
                } finally {
                    out.release();
                }
            }
            channel.runPendingTasks();
        }
        throw new AssertionError("the broker wrote nothing");
    }

    /** The next packet, of the given class. */
    <T extends MqttPacket> T next(Class<T> type) {
        MqttPacket p = next();
        assertThat(p).isInstanceOf(type);
        return type.cast(p);
    }

    /** Asserts that nothing more was written, after the loop's pending tasks have run. */
    void expectNothing() {
        channel.runPendingTasks();
        Object out = channel.readOutbound();
        if (out instanceof ByteBuf b) {
            try {
                throw new AssertionError("unexpected " + decode(b));
            } finally {
                b.release();
            }
        }
        assertThat(out).isNull();
    }

    /**
     * Makes the channel (un)writable as a socket whose client stops (or starts again) reading would: the change of
     * writability is fired through the pipeline.
     */
    void writable(boolean writable) {
        channel.unsafe().outboundBuffer().setUserDefinedWritability(1, writable);
        channel.runPendingTasks();
    }

    boolean isOpen() {
        channel.runPendingTasks();
        return channel.isOpen();
    }

    private MqttPacket decode(ByteBuf out) {
        int firstByte = out.getUnsignedByte(out.readerIndex());
        try {
            long header = FixedHeader.peekRemainingLength(out);
            int length = FixedHeader.remainingLength(header);
            int headerSize = 1 + FixedHeader.lengthFieldSize(header);
            assertThat(out.readableBytes()).as("one whole packet per write").isEqualTo(headerSize + length);
            return PacketDecoder.decode(firstByte, out.slice(out.readerIndex() + headerSize, length), version,
                    PacketDecoder.Sender.SERVER);
        } catch (DecodeException e) {
            throw new AssertionError("the broker wrote a malformed packet", e);
        }
    }

    /** A CONNECT with a clean session and no credentials. */
    static ConnectPacket connect(ProtocolVersion v, String clientId, int keepAliveSeconds) {
        return new ConnectPacket(v, clientId, true, keepAliveSeconds, null, null, null, Properties.EMPTY);
    }

    @Override
    public void close() {
        channel.finishAndReleaseAll();
    }
}
