package io.starling.benchmarks;

import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.starling.broker.Broker;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.message.Message;
import io.starling.broker.session.Session;
import io.starling.broker.topic.Subscription;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One PUBLISH routed to many sessions subscribed to its topic: matching, the per-session delivery decision and
 * building each outbound packet (the connections count and drop them). The sessions run on the calling thread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RouterFanOutBenchmark {

    @Param({"100", "10000"})
    int sessions;

    @Param({"0", "1"})
    int qos;

    private DefaultEventExecutorGroup loops;
    private Broker broker;
    private Session[] all;
    private Message message;

    @Setup
    public void setUp() {
        loops = new DefaultEventExecutorGroup(1);
        broker = new Broker(BrokerConfig.builder().maxInflightMessages(65_535).build(), loops);
        all = new Session[sessions];
        for (int i = 0; i < sessions; i++) {
            String id = "c" + i;
            CountingConnection conn = new CountingConnection(ProtocolVersion.MQTT_3_1_1);
            broker.sessions().open(id, true, 0, conn, (s, present) -> { });
            all[i] = broker.sessions().get(id);
            broker.subscribe(all[i], new Subscription(id, "bench/fan-out", 1, false, false, 0, 0));
        }
        message = new Message("bench/fan-out", qos, false, new byte[64], Properties.EMPTY, "pub", Message.NEVER);
    }

    @TearDown
    public void tearDown() {
        loops.shutdownGracefully();
    }

    @Benchmark
    public boolean publish() {
        boolean matched = broker.publish(message);
        if (qos == 1) {
            // acknowledge so the inflight windows stay open
            for (Session s : all) {
                s.onPubAck(lastPacketId(s));
            }
        }
        return matched;
    }

    private static int lastPacketId(Session s) {
        io.starling.codec.packet.MqttPacket p = ((CountingConnection) s.connection()).last;
        return ((io.starling.codec.packet.PublishPacket) p).packetId();
    }
}
