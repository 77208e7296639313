package io.starling.codec.packet;

import io.starling.codec.PacketType;
import io.starling.codec.Properties;
import io.starling.codec.ReasonCode;
import java.util.List;

/** UNSUBACK (section 3.11). MQTT 3.x has no payload: the reason codes are 5.0 only. */
public record UnsubAckPacket(int packetId, List<ReasonCode> reasonCodes, Properties properties)
        implements MqttPacket {

    @Override
    public PacketType type() {
        return PacketType.UNSUBACK;
    }
}
