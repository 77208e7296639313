package io.starling.codec.packet;

import io.starling.codec.PacketType;
import io.starling.codec.Properties;
import io.starling.codec.ReasonCode;

/** PUBCOMP (section 3.7). MQTT 3.x carries only the packet id; reason code and properties are 5.0. */
public record PubCompPacket(int packetId, ReasonCode reasonCode, Properties properties) implements MqttPacket {

    /** A successful PUBCOMP without properties. */
    public static PubCompPacket of(int packetId) {
        return new PubCompPacket(packetId, ReasonCode.SUCCESS, Properties.EMPTY);
    }

    @Override
    public PacketType type() {
        return PacketType.PUBCOMP;
    }
}
