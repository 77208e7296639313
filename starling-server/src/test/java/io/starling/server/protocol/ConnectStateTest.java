package io.starling.server.protocol;

import static io.starling.server.protocol.EmbeddedClient.connect;
import static org.assertj.core.api.Assertions.assertThat;

import io.starling.broker.auth.AuthResult;
import io.starling.broker.auth.Authenticator;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.ConnAckPacket;
import io.starling.codec.packet.ConnectPacket;
import io.starling.codec.packet.DisconnectPacket;
import io.starling.codec.packet.PingReqPacket;
import io.starling.codec.packet.PingRespPacket;
import io.starling.codec.packet.SubAckPacket;
import io.starling.codec.packet.SubscribePacket;
import io.starling.codec.packet.TopicSubscription;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The CONNECT state machine of {@link MqttConnection}, on an embedded channel in front of a real broker. */
class ConnectStateTest {

    private EmbeddedClient client;

    @AfterEach
    void close() {
        if (client != null) {
            client.close();
        }
    }

    // [MQTT-3.1.0-1] the first packet must be CONNECT: anything else closes the connection without a CONNACK
    @Test
    void firstPacketMustBeConnect() {
        client = new EmbeddedClient(b -> { });
        client.sendBytes(0xC0, 0x00); // PINGREQ
        client.expectNothing();
        assertThat(client.isOpen()).isFalse();
    }

    // [MQTT-3.1.0-2] a second CONNECT is a protocol violation: 3.1.1 closes the connection
    @Test
    void secondConnectClosesA311Connection() {
        client = new EmbeddedClient(b -> { });
        client.send(connect(ProtocolVersion.MQTT_3_1_1, "twice", 60));
        assertThat(client.next(ConnAckPacket.class).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
        client.send(connect(ProtocolVersion.MQTT_3_1_1, "twice", 60));
        client.expectNothing();
        assertThat(client.isOpen()).isFalse();
    }

    // [MQTT-3.1.0-2] a second CONNECT is a protocol violation: 5.0 gets DISCONNECT 0x82 Protocol Error first
    @Test
    void secondConnectGetsDisconnectProtocolErrorOn50() {
        client = new EmbeddedClient(b -> { });
        client.send(connect(ProtocolVersion.MQTT_5, "twice5", 60));
        assertThat(client.next(ConnAckPacket.class).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
        client.send(connect(ProtocolVersion.MQTT_5, "twice5", 60));
        assertThat(client.next(DisconnectPacket.class).reasonCode()).isEqualTo(ReasonCode.PROTOCOL_ERROR);
        assertThat(client.isOpen()).isFalse();
    }

    // packets pipelined behind the CONNECT wait until the session is attached: CONNACK comes first [MQTT-3.2.0-1],
    // then the answers in order
    @Test
    void packetsPipelinedBehindConnectAreHeldUntilTheSessionIsAttached() {
        client = new EmbeddedClient(b -> { });
        // one read, straight into the pipeline (writeInbound would run the loop's tasks right after it)
        client.channel.pipeline().fireChannelRead(encoded(connect(ProtocolVersion.MQTT_3_1_1, "pipelined", 60),
                new SubscribePacket(1, List.of(TopicSubscription.of("a/b", 1)), Properties.EMPTY),
                PingReqPacket.INSTANCE)).fireChannelReadComplete();
        // the session is attached by a task on the loop: until it runs, nothing is answered
        assertThat(client.connection().state()).isEqualTo(MqttConnection.State.OPENING);
        assertThat(client.channel.outboundMessages()).isEmpty();
        assertThat(client.next(ConnAckPacket.class).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
        assertThat(client.connection().state()).isEqualTo(MqttConnection.State.CONNECTED);
        SubAckPacket subAck = client.next(SubAckPacket.class);
        assertThat(subAck.packetId()).isEqualTo(1);
        assertThat(subAck.reasonCodes()).containsExactly(ReasonCode.GRANTED_QOS_1);
        assertThat(client.next()).isEqualTo(PingRespPacket.INSTANCE);
        assertThat(client.channel.config().isAutoRead()).as("reads again").isTrue();
    }

    @Test
    void badCredentialsAreRefusedWithTheCodeOfEachVersion() {
        // 3.1.1: return code 0x04 Bad user name or password; 5.0: 0x86
        assertThat(refusal(ProtocolVersion.MQTT_3_1_1, AuthResult.badCredentials()))
                .isEqualTo(ReasonCode.BAD_USER_NAME_OR_PASSWORD);
        assertThat(refusal(ProtocolVersion.MQTT_5, AuthResult.badCredentials()))
                .isEqualTo(ReasonCode.BAD_USER_NAME_OR_PASSWORD);
    }

    @Test
    void notAuthorizedIsRefusedWithTheCodeOfEachVersion() {
        // 3.1.1: return code 0x05 Not authorized; 5.0: 0x87
        assertThat(refusal(ProtocolVersion.MQTT_3_1_1, AuthResult.notAuthorized()))
                .isEqualTo(ReasonCode.NOT_AUTHORIZED);
        assertThat(refusal(ProtocolVersion.MQTT_5, AuthResult.notAuthorized())).isEqualTo(ReasonCode.NOT_AUTHORIZED);
    }

    @Test
    void theAuthenticatorsAnswerIsAwaitedWithReadsHeld() {
        CompletableFuture<AuthResult> answer = new CompletableFuture<>();
        client = new EmbeddedClient(b -> { }, request -> answer);
        client.send(withCredentials(ProtocolVersion.MQTT_3_1_1, "u", "p"));
        client.send(PingReqPacket.INSTANCE); // pipelined behind the CONNECT
        assertThat(client.connection().state()).isEqualTo(MqttConnection.State.VERIFYING);
        assertThat(client.channel.config().isAutoRead()).isFalse();
        client.expectNothing();
        answer.complete(AuthResult.allow("u"));
        assertThat(client.next(ConnAckPacket.class).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
        assertThat(client.next()).isEqualTo(PingRespPacket.INSTANCE);
    }

    private ReasonCode refusal(ProtocolVersion v, AuthResult result) {
        Authenticator authenticator = request -> CompletableFuture.completedFuture(result);
        try (EmbeddedClient c = new EmbeddedClient(b -> { }, authenticator)) {
            c.send(withCredentials(v, "user", "wrong"));
            ConnAckPacket connAck = c.next(ConnAckPacket.class);
            // [MQTT-3.2.2-4] (3.1.1) / [MQTT-3.2.2-6] (5.0) Session Present 0 with a refusal
            assertThat(connAck.sessionPresent()).isFalse();
            assertThat(c.isOpen()).as("closed after the refusal").isFalse();
            return connAck.reasonCode();
        }
    }

    private static ConnectPacket withCredentials(ProtocolVersion v, String user, String password) {
        return new ConnectPacket(v, "creds-" + v, true, 60, user, password.getBytes(StandardCharsets.UTF_8), null,
                Properties.EMPTY);
    }

    private io.netty.buffer.ByteBuf encoded(io.starling.codec.packet.MqttPacket... packets) {
        io.netty.buffer.ByteBuf buf = io.netty.buffer.Unpooled.buffer();
        for (io.starling.codec.packet.MqttPacket p : packets) {
            io.starling.codec.PacketEncoder.encode(p, ProtocolVersion.MQTT_3_1_1, buf);
        }
        return buf;
    }
}
