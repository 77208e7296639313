package io.starling.benchmarks;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.starling.codec.DecodeException;
import io.starling.codec.FixedHeader;
import io.starling.codec.PacketDecoder;
import io.starling.codec.PacketEncoder;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.packet.MqttPacket;
import io.starling.codec.packet.PublishPacket;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/** Decoding and encoding one PUBLISH. Run: see docs/benchmarks.md. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PublishCodecBenchmark {

    @Param({"64", "1024"})
    int payloadSize;

    @Param({"MQTT_3_1_1", "MQTT_5"})
    ProtocolVersion version;

    private PublishPacket packet;
    private ByteBuf encoded;
    private ByteBuf out;

    @Setup(Level.Trial)
    public void setUp() {
        packet = new PublishPacket("sensors/building-1/floor-2/temperature", 1, false, false, 42, Properties.EMPTY,
                new byte[payloadSize]);
        encoded = PacketEncoder.encode(PooledByteBufAllocator.DEFAULT, packet, version);
        out = PooledByteBufAllocator.DEFAULT.directBuffer(payloadSize + 128);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        encoded.release();
        out.release();
    }

    @Benchmark
    public MqttPacket decode() throws DecodeException {
        int headerSize = FixedHeader.headerSize(FixedHeader.peekRemainingLength(encoded));
        ByteBuf body = encoded.slice(headerSize, encoded.readableBytes() - headerSize);
        return PacketDecoder.decode(encoded.getUnsignedByte(0), body, version);
    }

    @Benchmark
    public int encode() {
        out.clear();
        PacketEncoder.encode(packet, version, out);
        return out.writerIndex();
    }
}
