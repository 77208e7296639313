package io.starling.server.protocol;

import io.starling.broker.session.Session;
import io.starling.codec.PacketType;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.AuthPacket;
import io.starling.codec.packet.ConnectPacket;
import io.starling.codec.packet.DisconnectPacket;
import io.starling.codec.packet.MqttPacket;
import io.starling.codec.packet.PingRespPacket;
import io.starling.codec.packet.PubAckPacket;
import io.starling.codec.packet.PubCompPacket;
import io.starling.codec.packet.PubRecPacket;
import io.starling.codec.packet.PubRelPacket;
import io.starling.codec.packet.PublishPacket;
import io.starling.codec.packet.SubscribePacket;
import io.starling.codec.packet.UnsubscribePacket;

/**
 * Which handler each packet a connection reads goes to, by the connection's state: before CONNACK only CONNECT and
 * AUTH (to the {@link ConnectHandler}); once connected PUBLISH and PUBREL to the {@link PublishHandler}, SUBSCRIBE
 * and UNSUBSCRIBE to the {@link SubscribeHandler}, the acknowledgements of outbound messages straight to the
 * session, PINGREQ answered, DISCONNECT to the {@link Closer}, AUTH (re-authentication) to the ConnectHandler.
 * Packets held while VERIFYING and OPENING are dispatched by {@link MqttConnection#accept}.
 *
 * <p>Stateless (static methods): a packet costs a switch and a call, no object. Thread-safety: called on the
 * connection's event loop only.
 */
final class PacketDispatch {

    private PacketDispatch() {
    }

    static void dispatch(MqttConnection c, MqttPacket packet) {
        MqttConnection.State state = c.state();
        if (state == MqttConnection.State.AWAIT_CONNECT || state == MqttConnection.State.AUTHENTICATING) {
            beforeConnAck(c, packet);
            return;
        }
        Session session = c.session();
        switch (packet.type()) {
            case PUBLISH -> {
                c.routed(true);
                c.publishHandler().onPublish((PublishPacket) packet);
            }
            case PUBACK -> session.onPubAck(((PubAckPacket) packet).packetId());
            case PUBREC -> {
                PubRecPacket p = (PubRecPacket) packet;
                session.onPubRec(p.packetId(), p.reasonCode());
            }
            case PUBREL -> c.publishHandler().onPubRel((PubRelPacket) packet);
            case PUBCOMP -> session.onPubComp(((PubCompPacket) packet).packetId());
            case SUBSCRIBE -> {
                c.routed(false); // retained messages may be queued
                SubscribeHandler.onSubscribe(c, c.broker(), (SubscribePacket) packet);
            }
            case UNSUBSCRIBE -> SubscribeHandler.onUnsubscribe(c, c.broker(), (UnsubscribePacket) packet);
            case PINGREQ -> c.write(PingRespPacket.INSTANCE); // [MQTT-3.12.4-1]
            case DISCONNECT -> Closer.clientDisconnected(c, (DisconnectPacket) packet, c.expiryWasZero());
            case AUTH -> {
                ConnectHandler h = c.connectHandler();
                if (h != null) {
                    h.onAuth((AuthPacket) packet);
                } else {
                    c.protocolError(ConnectHandler.notTheMethodOfConnect((AuthPacket) packet));
                }
            }
            default -> c.protocolError("unexpected " + packet.type() + " from a client");
        }
    }

    private static void beforeConnAck(MqttConnection c, MqttPacket packet) {
        switch (packet.type()) {
            case CONNECT -> c.connectHandler().onConnect((ConnectPacket) packet);
            case AUTH -> c.connectHandler().onAuth((AuthPacket) packet);
            default -> {
                // [MQTT-4.12.0-4] nothing but AUTH or DISCONNECT before the CONNACK
                if (packet.type() == PacketType.DISCONNECT) {
                    c.end();
                } else {
                    Closer.refuse(c, ReasonCode.PROTOCOL_ERROR, packet.type() + " during authentication", true);
                }
            }
        }
    }
}
