package io.starling.codec.packet;

import io.starling.codec.PacketType;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;

/**
 * CONNECT (section 3.1).
 *
 * @param version protocol version from the protocol name and level
 * @param clientId Client Identifier, possibly empty
 * @param cleanStart Clean Session (3.x) or Clean Start (5.0)
 * @param keepAliveSeconds Keep Alive, 0..65535
 * @param username User Name, or {@code null} when the flag is clear
 * @param password Password, or {@code null} when the flag is clear
 * @param will the Will, or {@code null} when the Will Flag is clear
 * @param properties CONNECT properties (5.0)
 * @param bridge the bridge flag of MQTT 3.1 and 3.1.1 as Mosquitto's bridges send it: bit 7 of the Protocol Level
 *     set (0x83, 0x84), telling the server that the client is a broker bridging to it, which must not be sent back
 *     its own messages and gets RETAIN as published
 */
public record ConnectPacket(ProtocolVersion version, String clientId, boolean cleanStart, int keepAliveSeconds,
        String username, byte[] password, Will will, Properties properties, boolean bridge) implements MqttPacket {

    /** A CONNECT without the bridge flag. */
    public ConnectPacket(ProtocolVersion version, String clientId, boolean cleanStart, int keepAliveSeconds,
            String username, byte[] password, Will will, Properties properties) {
        this(version, clientId, cleanStart, keepAliveSeconds, username, password, will, properties, false);
    }

    @Override
    public PacketType type() {
        return PacketType.CONNECT;
    }
}
