package io.starling.codec.packet;

import io.starling.codec.PacketType;
import io.starling.codec.Properties;
import io.starling.codec.ReasonCode;

/** PUBREL (section 3.6). MQTT 3.x carries only the packet id; reason code and properties are 5.0. */
public record PubRelPacket(int packetId, ReasonCode reasonCode, Properties properties) implements MqttPacket {

    /** A successful PUBREL without properties. */
    public static PubRelPacket of(int packetId) {
        return new PubRelPacket(packetId, ReasonCode.SUCCESS, Properties.EMPTY);
    }

    @Override
    public PacketType type() {
        return PacketType.PUBREL;
    }
}
