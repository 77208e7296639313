package io.starling.codec.packet;

import io.starling.codec.PacketType;
import io.starling.codec.Properties;
import io.starling.codec.ReasonCode;

/**
 * CONNACK (section 3.2). For MQTT 3.x the encoder maps the reason code to the return code 0..5:
 * {@code SUCCESS} → 0, {@code UNSUPPORTED_PROTOCOL_VERSION} → 1, {@code CLIENT_IDENTIFIER_NOT_VALID} → 2,
 * {@code BAD_USER_NAME_OR_PASSWORD} → 4, {@code NOT_AUTHORIZED} and {@code BANNED} → 5, anything else → 3 (server
 * unavailable).
 */
public record ConnAckPacket(boolean sessionPresent, ReasonCode reasonCode, Properties properties)
        implements MqttPacket {

    @Override
    public PacketType type() {
        return PacketType.CONNACK;
    }
}
