package io.starling.codec.packet;

import io.starling.codec.PacketType;
import io.starling.codec.Properties;
import io.starling.codec.ReasonCode;

/** DISCONNECT (section 3.14). MQTT 3.x has neither reason code nor properties: they read as normal, empty. */
public record DisconnectPacket(ReasonCode reasonCode, Properties properties) implements MqttPacket {

    public static final DisconnectPacket NORMAL = new DisconnectPacket(ReasonCode.NORMAL_DISCONNECTION,
            Properties.EMPTY);

    @Override
    public PacketType type() {
        return PacketType.DISCONNECT;
    }
}
