package io.starling.codec.packet;

import io.starling.codec.PacketType;
import io.starling.codec.Properties;
import io.starling.codec.ReasonCode;
import java.util.List;

/**
 * SUBACK (section 3.9): one reason code per filter, in order. For MQTT 3.x the encoder writes granted QoS
 * 0..2 as is and any error as 0x80.
 */
public record SubAckPacket(int packetId, List<ReasonCode> reasonCodes, Properties properties) implements MqttPacket {

    @Override
    public PacketType type() {
        return PacketType.SUBACK;
    }
}
