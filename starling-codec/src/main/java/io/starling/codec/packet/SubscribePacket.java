package io.starling.codec.packet;

import io.starling.codec.PacketType;
import io.starling.codec.Properties;
import java.util.List;

/** SUBSCRIBE (section 3.8): at least one filter. */
public record SubscribePacket(int packetId, List<TopicSubscription> subscriptions, Properties properties)
        implements MqttPacket {

    @Override
    public PacketType type() {
        return PacketType.SUBSCRIBE;
    }
}
