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
 */
public record ConnectPacket(ProtocolVersion version, String clientId, boolean cleanStart, int keepAliveSeconds,
        String username, byte[] password, Will will, Properties properties) implements MqttPacket {

    @Override
    public PacketType type() {
        return PacketType.CONNECT;
    }
}
