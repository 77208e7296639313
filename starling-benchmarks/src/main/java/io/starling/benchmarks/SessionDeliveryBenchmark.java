package io.starling.benchmarks;

import io.starling.broker.config.BrokerConfig;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.message.Message;
import io.starling.broker.message.Delivery;
import io.starling.broker.session.Session;
import io.starling.broker.session.SessionContext;
import io.starling.broker.session.SessionManager;
import io.starling.broker.topic.SubscriptionIndex;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.packet.PublishPacket;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A session's outbound cycle: deliver a QoS 1 message (packet id, inflight entry, outbound packet), then its
 * PUBACK; and the same through the queue when the inflight window is full.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SessionDeliveryBenchmark {

    private Session session;
    private CountingConnection connection;
    private Delivery delivery;

    @Setup
    public void setUp() {
        BrokerConfig config = BrokerConfig.builder().maxInflightMessages(1).build();
        SessionManager manager = new SessionManager(new SubscriptionIndex(),
                SessionContext.of(config, new BrokerMetrics()), m -> { }, (d, from) -> { });
        connection = new CountingConnection(ProtocolVersion.MQTT_5);
        manager.open("bench", true, 0, connection, (s, present) -> { });
        session = manager.get("bench");
        Message m = new Message("bench/session", 1, false, new byte[256], Properties.EMPTY, "pub", Message.NEVER);
        delivery = new Delivery(m, 1, false, List.of());
    }

    /** Window has room: deliver sends at once; PUBACK frees the slot. */
    @Benchmark
    public long deliverAndAck() {
        session.deliver(delivery);
        session.onPubAck(((PublishPacket) connection.last).packetId());
        return connection.written;
    }

    /** Window of 1 is full: the second delivery is queued and sent when the first is acknowledged. */
    @Benchmark
    public long deliverQueuedAndAck() {
        session.deliver(delivery);
        session.deliver(delivery);
        session.onPubAck(((PublishPacket) connection.last).packetId());
        session.onPubAck(((PublishPacket) connection.last).packetId());
        return connection.written;
    }
}
