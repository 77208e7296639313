package io.starling.server.protocol;

import static io.starling.server.protocol.EmbeddedClient.connect;
import static org.assertj.core.api.Assertions.assertThat;

import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.ConnAckPacket;
import io.starling.codec.packet.PingReqPacket;
import io.starling.codec.packet.PingRespPacket;
import io.starling.codec.packet.PublishPacket;
import io.starling.codec.packet.SubAckPacket;
import io.starling.codec.packet.SubscribePacket;
import io.starling.codec.packet.TopicSubscription;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ReadGate}: created only when reads may first be paused; reads (and decoding) paused by an answer written to
 * a socket that is not writable, resumed when it is writable again; the keep-alive of a client paused for output.
 */
class ReadGateTest {

    private EmbeddedClient client;

    @AfterEach
    void close() {
        if (client != null) {
            client.close();
        }
    }

    private void connected(int keepAliveSeconds) {
        client = new EmbeddedClient(b -> { });
        client.send(connect(ProtocolVersion.MQTT_3_1_1, "gate", keepAliveSeconds));
        assertThat(client.next(ConnAckPacket.class).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
    }

    @Test
    void aConnectionThatOnlySubscribesAndPingsHasNoGate() {
        connected(60);
        client.send(new SubscribePacket(1, List.of(TopicSubscription.of("a/b", 1)), Properties.EMPTY));
        client.next(SubAckPacket.class);
        client.send(PingReqPacket.INSTANCE);
        assertThat(client.next()).isEqualTo(PingRespPacket.INSTANCE);

        assertThat(client.connection().readGate()).isNull();
        assertThat(client.connection().isReadPaused()).isFalse();
    }

    @Test
    void theGateIsCreatedByTheFirstPublishingBatchAndDoesNotPauseAnUnloadedBroker() {
        connected(60);
        client.send(new PublishPacket("a/b", 0, false, false, 0, Properties.EMPTY, new byte[] {1}));

        assertThat(client.connection().readGate()).isNotNull();
        assertThat(client.connection().isReadPaused()).isFalse();
        assertThat(client.channel.config().isAutoRead()).isTrue();
    }

    @Test
    void anAnswerToAFullSocketPausesReadsAndDecodingUntilItIsWritableAgain() {
        connected(60);
        client.writable(false);
        client.send(PingReqPacket.INSTANCE);
        assertThat(client.next()).as("the answer is written anyway").isEqualTo(PingRespPacket.INSTANCE);
        assertThat(client.connection().isReadPaused()).isTrue();
        assertThat(client.channel.config().isAutoRead()).isFalse();

        client.send(PingReqPacket.INSTANCE); // read, but held undecoded
        client.expectNothing();

        client.writable(true);
        assertThat(client.connection().isReadPaused()).isFalse();
        assertThat(client.channel.config().isAutoRead()).isTrue();
        assertThat(client.next()).as("what was held is decoded now").isEqualTo(PingRespPacket.INSTANCE);
    }

    @Test
    void aClientPausedForOutputThatTakesNothingForAWholeKeepAlivePeriodIsClosed() {
        connected(10);
        client.writable(false);
        client.send(PingReqPacket.INSTANCE);
        assertThat(client.next()).isEqualTo(PingRespPacket.INSTANCE);

        client.advance(Duration.ofSeconds(15));
        client.sweep();
        assertThat(client.isOpen()).as("the first check after the pause only takes note").isTrue();

        client.advance(Duration.ofSeconds(15));
        client.sweep();
        assertThat(client.isOpen()).as("nothing taken for a whole period").isFalse();
    }

    @Test
    void aClientPausedForOutputIsNotTimedOutWhileItReadsAgain() {
        connected(10);
        client.writable(false);
        client.send(PingReqPacket.INSTANCE);
        client.next();
        client.advance(Duration.ofSeconds(15));
        client.sweep();

        client.writable(true);
        client.advance(Duration.ofSeconds(14));
        client.sweep();
        assertThat(client.isOpen()).isTrue();
    }
}
