package io.starling.codec.packet;

import io.starling.codec.PacketType;
import io.starling.codec.Properties;

/**
 * PUBLISH (section 3.3).
 *
 * @param topic Topic Name; empty only in MQTT 5.0 when a Topic Alias is set
 * @param qos 0, 1 or 2
 * @param retain RETAIN flag
 * @param dup DUP flag
 * @param packetId Packet Identifier, 0 for QoS 0
 * @param properties PUBLISH properties (5.0)
 * @param payload the Application Message, read-only
 */
public record PublishPacket(String topic, int qos, boolean retain, boolean dup, int packetId, Properties properties,
        byte[] payload) implements MqttPacket {

    @Override
    public PacketType type() {
        return PacketType.PUBLISH;
    }

    /** This packet with another packet id and DUP flag, for (re)delivery. */
    public PublishPacket withDelivery(int newPacketId, boolean newDup) {
        return new PublishPacket(topic, qos, retain, newDup, newPacketId, properties, payload);
    }
}
