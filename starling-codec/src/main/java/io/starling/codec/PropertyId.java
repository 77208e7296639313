package io.starling.codec;

import java.util.EnumSet;
import java.util.Set;

/**
 * MQTT 5.0 property identifiers (section 2.2.2.2) with their data type and the packets that may carry them.
 * {@link PacketType#CONNECT} with {@link #willProperty()} marks the properties of the Will.
 */
public enum PropertyId {
    PAYLOAD_FORMAT_INDICATOR(0x01, DataType.BYTE, true, PacketType.PUBLISH),
    MESSAGE_EXPIRY_INTERVAL(0x02, DataType.FOUR_BYTE_INTEGER, true, PacketType.PUBLISH),
    CONTENT_TYPE(0x03, DataType.UTF8_STRING, true, PacketType.PUBLISH),
    RESPONSE_TOPIC(0x08, DataType.UTF8_STRING, true, PacketType.PUBLISH),
    CORRELATION_DATA(0x09, DataType.BINARY_DATA, true, PacketType.PUBLISH),
    SUBSCRIPTION_IDENTIFIER(0x0B, DataType.VARIABLE_BYTE_INTEGER, false, PacketType.PUBLISH, PacketType.SUBSCRIBE),
    SESSION_EXPIRY_INTERVAL(0x11, DataType.FOUR_BYTE_INTEGER, false, PacketType.CONNECT, PacketType.CONNACK,
            PacketType.DISCONNECT),
    ASSIGNED_CLIENT_IDENTIFIER(0x12, DataType.UTF8_STRING, false, PacketType.CONNACK),
    SERVER_KEEP_ALIVE(0x13, DataType.TWO_BYTE_INTEGER, false, PacketType.CONNACK),
    AUTHENTICATION_METHOD(0x15, DataType.UTF8_STRING, false, PacketType.CONNECT, PacketType.CONNACK, PacketType.AUTH),
    AUTHENTICATION_DATA(0x16, DataType.BINARY_DATA, false, PacketType.CONNECT, PacketType.CONNACK, PacketType.AUTH),
    REQUEST_PROBLEM_INFORMATION(0x17, DataType.BYTE, false, PacketType.CONNECT),
    WILL_DELAY_INTERVAL(0x18, DataType.FOUR_BYTE_INTEGER, true),
    REQUEST_RESPONSE_INFORMATION(0x19, DataType.BYTE, false, PacketType.CONNECT),
    RESPONSE_INFORMATION(0x1A, DataType.UTF8_STRING, false, PacketType.CONNACK),
    SERVER_REFERENCE(0x1C, DataType.UTF8_STRING, false, PacketType.CONNACK, PacketType.DISCONNECT),
    REASON_STRING(0x1F, DataType.UTF8_STRING, false, PacketType.CONNACK, PacketType.PUBACK, PacketType.PUBREC,
            PacketType.PUBREL, PacketType.PUBCOMP, PacketType.SUBACK, PacketType.UNSUBACK, PacketType.DISCONNECT,
            PacketType.AUTH),
    RECEIVE_MAXIMUM(0x21, DataType.TWO_BYTE_INTEGER, false, PacketType.CONNECT, PacketType.CONNACK),
    TOPIC_ALIAS_MAXIMUM(0x22, DataType.TWO_BYTE_INTEGER, false, PacketType.CONNECT, PacketType.CONNACK),
    TOPIC_ALIAS(0x23, DataType.TWO_BYTE_INTEGER, false, PacketType.PUBLISH),
    MAXIMUM_QOS(0x24, DataType.BYTE, false, PacketType.CONNACK),
    RETAIN_AVAILABLE(0x25, DataType.BYTE, false, PacketType.CONNACK),
    USER_PROPERTY(0x26, DataType.UTF8_STRING_PAIR, true, PacketType.values()),
    MAXIMUM_PACKET_SIZE(0x27, DataType.FOUR_BYTE_INTEGER, false, PacketType.CONNECT, PacketType.CONNACK),
    WILDCARD_SUBSCRIPTION_AVAILABLE(0x28, DataType.BYTE, false, PacketType.CONNACK),
    SUBSCRIPTION_IDENTIFIER_AVAILABLE(0x29, DataType.BYTE, false, PacketType.CONNACK),
    SHARED_SUBSCRIPTION_AVAILABLE(0x2A, DataType.BYTE, false, PacketType.CONNACK);

    /** Wire data types of properties (section 1.5). */
    public enum DataType {
        BYTE, TWO_BYTE_INTEGER, FOUR_BYTE_INTEGER, VARIABLE_BYTE_INTEGER, UTF8_STRING, BINARY_DATA, UTF8_STRING_PAIR
    }

    private static final PropertyId[] BY_ID = new PropertyId[0x2B];

    static {
        for (PropertyId p : values()) {
            BY_ID[p.id] = p;
        }
    }

    private final int id;
    private final DataType dataType;
    private final boolean willProperty;
    private final Set<PacketType> packets;

    PropertyId(int id, DataType dataType, boolean willProperty, PacketType... packets) {
        this.id = id;
        this.dataType = dataType;
        this.willProperty = willProperty;
        this.packets = packets.length == 0 ? EnumSet.noneOf(PacketType.class) : EnumSet.of(packets[0], packets);
    }

    public int id() {
        return id;
    }

    public DataType dataType() {
        return dataType;
    }

    /** True when the property may appear among the Will Properties of a CONNECT. */
    public boolean willProperty() {
        return willProperty;
    }

    /** True when the property may appear in the variable header of this packet type. */
    public boolean allowedIn(PacketType type) {
        return packets.contains(type);
    }

    /** The property for an identifier, or {@code null} if the identifier is not defined. */
    public static PropertyId of(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }
}
