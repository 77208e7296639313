package io.starling.server.protocol;

import static io.starling.server.protocol.EmbeddedClient.connect;
import static org.assertj.core.api.Assertions.assertThat;

import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.ConnAckPacket;
import io.starling.codec.packet.DisconnectPacket;
import io.starling.codec.packet.PingReqPacket;
import io.starling.codec.packet.PingRespPacket;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The deadlines of {@link MqttConnection} (keep-alive, connect timeout), on the manual clock of an embedded channel,
 * checked one nanosecond before and after they fall.
 */
class DeadlinesTest {

    private static final Duration NANO = Duration.ofNanos(1);

    private EmbeddedClient client;

    @AfterEach
    void close() {
        if (client != null) {
            client.close();
        }
    }

    private void connected(ProtocolVersion v, int keepAliveSeconds) {
        client = new EmbeddedClient(b -> { });
        client.send(connect(v, "ka-" + v, keepAliveSeconds));
        assertThat(client.next(ConnAckPacket.class).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
    }

    // [MQTT-3.1.2-24] (3.1.1) nothing received within one and a half times the Keep Alive: the connection is closed
    @Test
    void a311ClientSilentFor15TimesItsKeepAliveIsClosed() {
        connected(ProtocolVersion.MQTT_3_1_1, 10);
        client.advance(Duration.ofSeconds(15).minus(NANO));
        client.sweep();
        assertThat(client.isOpen()).as("open at 1.5 x Keep Alive - 1 ns").isTrue();
        client.advance(NANO.multipliedBy(2));
        client.sweep();
        client.expectNothing(); // 3.1.1: no DISCONNECT from the server
        assertThat(client.isOpen()).as("closed at 1.5 x Keep Alive + 1 ns").isFalse();
    }

    // [MQTT-3.1.2-22] (5.0) the same rule; the client gets DISCONNECT 0x8D Keep Alive timeout first
    @Test
    void a50ClientSilentFor15TimesItsKeepAliveGetsDisconnectKeepAliveTimeout() {
        connected(ProtocolVersion.MQTT_5, 4);
        client.advance(Duration.ofSeconds(6).minus(NANO));
        client.sweep();
        client.expectNothing();
        assertThat(client.isOpen()).isTrue();
        client.advance(NANO.multipliedBy(2));
        client.sweep();
        assertThat(client.next(DisconnectPacket.class).reasonCode()).isEqualTo(ReasonCode.KEEP_ALIVE_TIMEOUT);
        assertThat(client.isOpen()).isFalse();
    }

    // [MQTT-3.1.2-24] (3.1.1) a packet starts the period again: the deadline moves to 1.5 x Keep Alive after it
    @Test
    void aPacketStartsTheKeepAlivePeriodAgain() {
        connected(ProtocolVersion.MQTT_3_1_1, 10);
        client.advance(Duration.ofSeconds(14));
        client.send(PingReqPacket.INSTANCE);
        assertThat(client.next()).isEqualTo(PingRespPacket.INSTANCE); // [MQTT-3.12.4-1]
        client.advance(Duration.ofSeconds(15).minus(NANO));
        client.sweep();
        assertThat(client.isOpen()).as("open 1.5 x Keep Alive - 1 ns after the PINGREQ").isTrue();
        client.advance(NANO.multipliedBy(2));
        client.sweep();
        assertThat(client.isOpen()).as("closed 1.5 x Keep Alive + 1 ns after the PINGREQ").isFalse();
    }

    // Keep Alive 0 switches the mechanism off (3.1.2.10 in 3.1.1, 3.1.2.10 in 5.0): a silent client stays
    @Test
    void keepAliveZeroNeverExpires() {
        connected(ProtocolVersion.MQTT_3_1_1, 0);
        client.advance(Duration.ofDays(2));
        client.sweep();
        assertThat(client.isOpen()).isTrue();
    }

    // connect-timeout-seconds (default 10 s): a connection that sends no CONNECT is closed when it runs out
    @Test
    void noConnectWithinTheConnectTimeoutCloses() {
        client = new EmbeddedClient(b -> b.connectTimeout(Duration.ofSeconds(3)));
        client.advance(Duration.ofSeconds(3).minus(NANO));
        client.sweep();
        assertThat(client.isOpen()).isTrue();
        client.advance(NANO.multipliedBy(2));
        client.sweep();
        assertThat(client.isOpen()).isFalse();
    }

    // the connect timeout ends with the CONNECT: a connected client without keep-alive stays past it
    @Test
    void theConnectTimeoutEndsWithTheConnect() {
        client = new EmbeddedClient(b -> b.connectTimeout(Duration.ofSeconds(3)));
        client.send(connect(ProtocolVersion.MQTT_3_1_1, "in-time", 0));
        client.next(ConnAckPacket.class);
        client.advance(Duration.ofSeconds(4));
        client.sweep();
        assertThat(client.isOpen()).isTrue();
        assertThat(client.sweepers.of(client.channel.eventLoop()).size()).as("nothing left to watch").isZero();
    }
}
