package io.starling.codec.packet;

import io.starling.codec.PacketType;
import io.starling.codec.Properties;
import io.starling.codec.ReasonCode;

/** PUBREC (section 3.5). MQTT 3.x carries only the packet id; reason code and properties are 5.0. */
public record PubRecPacket(int packetId, ReasonCode reasonCode, Properties properties) implements MqttPacket {

    /** A successful PUBREC without properties. */
    public static PubRecPacket of(int packetId) {
        return new PubRecPacket(packetId, ReasonCode.SUCCESS, Properties.EMPTY);
    }

    @Override
    public PacketType type() {
        return PacketType.PUBREC;
    }
}
