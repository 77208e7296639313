package io.starling.codec.packet;

import io.starling.codec.PacketType;
import io.starling.codec.Properties;
import io.starling.codec.ReasonCode;

/** PUBACK (section 3.4). MQTT 3.x carries only the packet id; reason code and properties are 5.0. */
public record PubAckPacket(int packetId, ReasonCode reasonCode, Properties properties) implements MqttPacket {

    /** A successful PUBACK without properties. */
    public static PubAckPacket of(int packetId) {
        return new PubAckPacket(packetId, ReasonCode.SUCCESS, Properties.EMPTY);
    }

    @Override
    public PacketType type() {
        return PacketType.PUBACK;
    }
}
