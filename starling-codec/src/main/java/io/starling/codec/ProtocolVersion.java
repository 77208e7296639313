package io.starling.codec;

/**
 * The MQTT protocol versions Starling speaks, identified on the wire by the protocol name and level
 * of the CONNECT packet.
 */
public enum ProtocolVersion {
    /** MQTT 3.1: protocol name {@code MQIsdp}, level 3. */
    MQTT_3_1("MQIsdp", 3),
    /** MQTT 3.1.1: protocol name {@code MQTT}, level 4. */
    MQTT_3_1_1("MQTT", 4),
    /** MQTT 5.0: protocol name {@code MQTT}, level 5. */
    MQTT_5("MQTT", 5);

    private final String protocolName;
    private final int level;

    ProtocolVersion(String protocolName, int level) {
        this.protocolName = protocolName;
        this.level = level;
    }

    public String protocolName() {
        return protocolName;
    }

    public int level() {
        return level;
    }

    /** True for MQTT 5.0, the only version with properties and reason codes on every ack. */
    public boolean isV5() {
        return this == MQTT_5;
    }

    /** The version for a protocol name and level, or {@code null} when the pair is not one we speak. */
    public static ProtocolVersion of(String protocolName, int level) {
        for (ProtocolVersion v : values()) {
            if (v.level == level && v.protocolName.equals(protocolName)) {
                return v;
            }
        }
        return null;
    }
}
