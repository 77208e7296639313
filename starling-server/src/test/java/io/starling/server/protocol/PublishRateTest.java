package io.starling.server.protocol;

import static io.starling.server.protocol.EmbeddedClient.connect;
import static org.assertj.core.api.Assertions.assertThat;

import io.starling.broker.config.BrokerConfig;
import io.starling.codec.PacketEncoder;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.ConnAckPacket;
import io.starling.codec.packet.PingReqPacket;
import io.starling.codec.packet.PingRespPacket;
import io.starling.codec.packet.PubAckPacket;
import io.starling.codec.packet.PublishPacket;
import java.time.Duration;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * max-publish-rate and max-publish-bytes-rate: a connection over its rate stops being read (autoRead off) until its
 * bucket has refilled enough, then is read again; what it sent meanwhile is still handled; without a rate there is
 * no limiter and no pause.
 */
class PublishRateTest {

    private EmbeddedClient client;

    @AfterEach
    void close() {
        if (client != null) {
            client.close();
        }
    }

    private void connected(Consumer<BrokerConfig.Builder> config, int keepAliveSeconds) {
        client = new EmbeddedClient(config);
        client.channel.freezeTime();
        client.send(connect(ProtocolVersion.MQTT_3_1_1, "rate", keepAliveSeconds));
        assertThat(client.next(ConnAckPacket.class).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
    }

    private static PublishPacket publish(int qos, int packetId, int payloadBytes) {
        return new PublishPacket("a/b", qos, false, false, packetId, Properties.EMPTY, new byte[payloadBytes]);
    }

    private static PublishPacket[] publishes(int n) {
        PublishPacket[] p = new PublishPacket[n];
        for (int i = 0; i < n; i++) {
            p[i] = publish(0, 0, 1);
        }
        return p;
    }

    private boolean autoRead() {
        return client.channel.config().isAutoRead();
    }

    private long rateLimited() {
        return client.broker.metrics().publishRateLimited.sum();
    }

    @Test
    void aConnectionWithoutARateHasNoLimiterAndIsNotPaused() {
        connected(b -> { }, 60);
        client.send(publishes(1000));

        assertThat(client.connection().publishHandlerIfCreated()).isNotNull();
        assertThat(client.connection().publishHandlerIfCreated().rateLimiter()).isNull();
        assertThat(client.connection().isReadPaused()).isFalse();
        assertThat(autoRead()).isTrue();
        assertThat(rateLimited()).isZero();
    }

    @Test
    void anIdleConnectionHasNoLimiterEvenWithARate() {
        connected(b -> b.maxPublishRate(10), 60);
        client.send(PingReqPacket.INSTANCE);
        assertThat(client.next()).isEqualTo(PingRespPacket.INSTANCE);

        assertThat(client.connection().publishHandlerIfCreated()).isNull();
        assertThat(client.connection().readGate()).isNull();
    }

    @Test
    void overThePacketRateReadsStopUntilTheBucketHasRefilledForTheNextPacket() {
        connected(b -> b.maxPublishRate(10), 60);
        client.send(publishes(9));
        assertThat(client.connection().publishHandlerIfCreated().rateLimiter()).isNotNull();
        assertThat(autoRead()).as("nine of a burst of ten").isTrue();

        client.send(publishes(1));
        assertThat(autoRead()).as("the tenth empties the bucket").isFalse();
        assertThat(client.connection().isReadPaused()).isTrue();
        assertThat(rateLimited()).isEqualTo(1);

        client.advanceTimers(Duration.ofMillis(99));
        assertThat(autoRead()).isFalse();
        client.advanceTimers(Duration.ofMillis(1));
        assertThat(autoRead()).as("one packet refilled after 1/10 s").isTrue();
        assertThat(client.connection().isReadPaused()).isFalse();

        client.send(publishes(1));
        assertThat(autoRead()).as("the next one takes it over again").isFalse();
        assertThat(rateLimited()).isEqualTo(2);
    }

    @Test
    void packetsReadInTheSameBatchAreHandledAndDelayTheResumption() {
        connected(b -> b.maxPublishRate(10), 60);
        PublishPacket[] batch = new PublishPacket[15];
        for (int i = 0; i < batch.length; i++) {
            batch[i] = publish(1, i + 1, 1);
        }
        client.send(batch);
        for (int i = 0; i < batch.length; i++) {
            assertThat(client.next(PubAckPacket.class).packetId()).as("every PUBLISH read is answered").isEqualTo(i + 1);
        }
        assertThat(autoRead()).isFalse();
        assertThat(rateLimited()).as("one pause for the whole batch").isEqualTo(1);

        client.advanceTimers(Duration.ofMillis(100));
        assertThat(autoRead()).as("five more packets than the burst: 0.6 s").isFalse();
        client.advanceTimers(Duration.ofMillis(499));
        assertThat(autoRead()).isFalse();
        client.advanceTimers(Duration.ofMillis(1));
        assertThat(autoRead()).isTrue();
    }

    @Test
    void overTheBytesRateReadsStopUntilTheBucketIsOutOfDeficit() {
        connected(b -> b.maxPublishBytesRate(1000).maxPacketSize(1000), 60);
        PublishPacket p = publish(0, 0, 600);
        int size = PacketEncoder.encodedSize(p, ProtocolVersion.MQTT_3_1_1);
        client.send(p);
        assertThat(autoRead()).as("%d of a bucket of 1000 bytes", size).isTrue();

        client.send(p);
        assertThat(autoRead()).isFalse();
        assertThat(rateLimited()).isEqualTo(1);

        long deficitMillis = 2L * size - 1000; // at 1000 bytes per second
        client.advanceTimers(Duration.ofMillis(deficitMillis - 1));
        assertThat(autoRead()).isFalse();
        client.advanceTimers(Duration.ofMillis(1));
        assertThat(autoRead()).isTrue();
    }

    @Test
    void theBytesBucketHoldsAtLeastTheLargestPacket() {
        connected(b -> b.maxPublishBytesRate(100).maxPacketSize(1000), 60);
        client.send(publish(0, 0, 900));
        assertThat(autoRead()).as("a packet of up to max-packet-size fits a full bucket").isTrue();
        client.send(publish(0, 0, 100));
        assertThat(autoRead()).as("over 1000 bytes").isFalse();
    }

    @Test
    void aClientPausedForItsRateAndForOutputReadsAgainOnlyWhenBothAreOver() {
        connected(b -> b.maxPublishRate(1), 60);
        client.send(publishes(1));
        assertThat(autoRead()).isFalse();

        client.writable(false);
        client.send(PingReqPacket.INSTANCE);
        assertThat(client.next()).isEqualTo(PingRespPacket.INSTANCE);
        client.advanceTimers(Duration.ofSeconds(1));
        assertThat(autoRead()).as("still paused for output").isFalse();

        client.writable(true);
        assertThat(autoRead()).isTrue();
    }

    @Test
    void aClientPausedForItsRateIsNotTimedOutByItsKeepAlive() {
        connected(b -> b.maxPublishBytesRate(100).maxPacketSize(1000), 10);
        client.send(publish(0, 0, 900), publish(0, 0, 900));
        assertThat(autoRead()).isFalse();

        client.advance(Duration.ofSeconds(16));
        client.sweep();
        assertThat(client.isOpen()).isTrue();
    }
}
