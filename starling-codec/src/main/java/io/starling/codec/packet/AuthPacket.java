package io.starling.codec.packet;

import io.starling.codec.PacketType;
import io.starling.codec.Properties;
import io.starling.codec.ReasonCode;

/** AUTH (section 3.15, MQTT 5.0 only). */
public record AuthPacket(ReasonCode reasonCode, Properties properties) implements MqttPacket {

    @Override
    public PacketType type() {
        return PacketType.AUTH;
    }
}
