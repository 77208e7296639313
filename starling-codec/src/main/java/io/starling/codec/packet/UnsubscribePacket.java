package io.starling.codec.packet;

import io.starling.codec.PacketType;
import io.starling.codec.Properties;
import java.util.List;

/** UNSUBSCRIBE (section 3.10): at least one filter. */
public record UnsubscribePacket(int packetId, List<String> filters, Properties properties) implements MqttPacket {

    @Override
    public PacketType type() {
        return PacketType.UNSUBSCRIBE;
    }
}
