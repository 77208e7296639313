package io.starling.codec.packet;

import io.starling.codec.PacketType;

/**
 * An MQTT control packet. Every packet type is a record of its own, so handlers switch on the type and never
 * cast from {@code Object}. Packets are immutable; byte arrays inside them are shared and must not be changed.
 */
public sealed interface MqttPacket permits ConnectPacket, ConnAckPacket, PublishPacket, PubAckPacket, PubRecPacket,
        PubRelPacket, PubCompPacket, SubscribePacket, SubAckPacket, UnsubscribePacket, UnsubAckPacket, PingReqPacket,
        PingRespPacket, DisconnectPacket, AuthPacket {

    PacketType type();
}
