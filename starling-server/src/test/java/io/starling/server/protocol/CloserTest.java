package io.starling.server.protocol;

import static io.starling.server.protocol.EmbeddedClient.connect;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.AuthPacket;
import io.starling.codec.packet.ConnAckPacket;
import io.starling.codec.packet.ConnectPacket;
import io.starling.codec.packet.DisconnectPacket;
import io.starling.codec.packet.Will;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Closer} through {@link MqttConnection}: DISCONNECT with a reason on 5.0 (and its grace period), a plain close
 * on 3.1.1 or when the client does not read, the client's DISCONNECT and the Will, and what a connected client no
 * longer holds of its CONNECT.
 */
class CloserTest {

    private static final Duration NANO = Duration.ofNanos(1);

    private EmbeddedClient client;

    @AfterEach
    void close() {
        if (client != null) {
            client.close();
        }
    }

    private void connected(ProtocolVersion v, Will will, Properties props) {
        client = new EmbeddedClient(b -> { });
        client.send(new ConnectPacket(v, "closer-" + v, true, 60, null, null, will, props));
        assertThat(client.next(ConnAckPacket.class).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
    }

    private static Will retainedWill() {
        return new Will("will/topic", new byte[] {1}, 0, true, Properties.EMPTY);
    }

    @Test
    void a50ClientGetsDisconnectWithTheReasonThenTheConnectionCloses() {
        connected(ProtocolVersion.MQTT_5, null, Properties.EMPTY);
        client.connection().closeWithReason(ReasonCode.ADMINISTRATIVE_ACTION);

        assertThat(client.next(DisconnectPacket.class).reasonCode()).isEqualTo(ReasonCode.ADMINISTRATIVE_ACTION);
        assertThat(client.isOpen()).isFalse();
    }

    @Test
    void a311ClientIsClosedWithoutAWord() {
        connected(ProtocolVersion.MQTT_3_1_1, null, Properties.EMPTY);
        client.connection().closeWithReason(ReasonCode.ADMINISTRATIVE_ACTION);

        client.expectNothing();
        assertThat(client.isOpen()).isFalse();
    }

    @Test
    void a50ClientThatDoesNotReadGetsNoDisconnect() {
        connected(ProtocolVersion.MQTT_5, null, Properties.EMPTY);
        client.writable(false);
        client.connection().closeWithReason(ReasonCode.ADMINISTRATIVE_ACTION);

        client.expectNothing();
        assertThat(client.isOpen()).isFalse();
    }

    @Test
    void aDisconnectThatDoesNotLeaveIsClosedAfterTheGracePeriod() {
        connected(ProtocolVersion.MQTT_5, null, Properties.EMPTY);
        // a socket that takes nothing more: the DISCONNECT's write never completes
        client.channel.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                ReferenceCountUtil.release(msg);
            }
        });
        client.connection().closeWithReason(ReasonCode.ADMINISTRATIVE_ACTION);
        assertThat(client.connection().state()).isEqualTo(MqttConnection.State.CLOSED);

        client.advance(Duration.ofNanos(Closer.CLOSE_GRACE_NANOS).minus(NANO));
        client.sweep();
        assertThat(client.isOpen()).as("open until the grace period ends").isTrue();
        client.advance(NANO.multipliedBy(2));
        client.sweep();
        assertThat(client.isOpen()).isFalse();
    }

    // [MQTT-3.1.2-8] a connection closed without DISCONNECT publishes its Will
    @Test
    void theWillIsPublishedWhenTheConnectionEndsWithoutDisconnect() {
        connected(ProtocolVersion.MQTT_3_1_1, retainedWill(), Properties.EMPTY);
        client.connection().protocolError("test");
        client.channel.runPendingTasks();

        assertThat(client.isOpen()).isFalse();
        assertThat(client.broker.retained().size()).as("the retained Will").isEqualTo(1);
    }

    // [MQTT-3.1.2-10] (3.1.1) the Will is removed on DISCONNECT
    @Test
    void aNormalDisconnectDiscardsTheWill() {
        connected(ProtocolVersion.MQTT_3_1_1, retainedWill(), Properties.EMPTY);
        client.send(DisconnectPacket.NORMAL);
        client.channel.runPendingTasks();

        assertThat(client.isOpen()).isFalse();
        assertThat(client.broker.retained().size()).isZero();
    }

    // 5.0 reason 0x04 Disconnect with Will Message keeps the Will
    @Test
    void a50DisconnectWithWillMessagePublishesIt() {
        connected(ProtocolVersion.MQTT_5, retainedWill(), Properties.EMPTY);
        client.send(new DisconnectPacket(ReasonCode.DISCONNECT_WITH_WILL_MESSAGE, Properties.EMPTY));
        client.channel.runPendingTasks();

        assertThat(client.isOpen()).isFalse();
        assertThat(client.broker.retained().size()).isEqualTo(1);
    }

    // [MQTT-3.14.2-2] (5.0) a session expiry of 0 at CONNECT cannot be changed at DISCONNECT
    @Test
    void aSessionExpiryOfZeroCannotBeChangedAtDisconnect() {
        connected(ProtocolVersion.MQTT_5, null, Properties.EMPTY);
        client.send(new DisconnectPacket(ReasonCode.NORMAL_DISCONNECTION,
                Properties.builder().sessionExpiryInterval(60L).build()));

        assertThat(client.next(DisconnectPacket.class).reasonCode()).isEqualTo(ReasonCode.PROTOCOL_ERROR);
        assertThat(client.isOpen()).isFalse();
    }

    @Test
    void aConnectedClientWithoutAnAuthenticationMethodKeepsNoConnectHandler() {
        connected(ProtocolVersion.MQTT_5, null, Properties.EMPTY);
        assertThat(client.connection().connectHandler()).isNull();

        // [MQTT-4.12.0-5] AUTH without the method of CONNECT (there was none): a protocol error
        client.send(new AuthPacket(ReasonCode.RE_AUTHENTICATE,
                Properties.builder().authenticationMethod("SCRAM-SHA-1").build()));
        assertThat(client.next(DisconnectPacket.class).reasonCode()).isEqualTo(ReasonCode.PROTOCOL_ERROR);
        assertThat(client.isOpen()).isFalse();
    }

    @Test
    void aRefusedConnectGetsConnAckWithTheReasonThenTheConnectionCloses() {
        client = new EmbeddedClient(b -> b.maxClientIdLength(5));
        client.send(connect(ProtocolVersion.MQTT_5, "much-too-long", 60));

        assertThat(client.next(ConnAckPacket.class).reasonCode()).isEqualTo(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID);
        assertThat(client.isOpen()).isFalse();
    }
}
