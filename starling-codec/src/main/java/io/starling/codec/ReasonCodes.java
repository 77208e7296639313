package io.starling.codec;

/**
 * Decoding of MQTT 5.0 reason codes per packet type (section 2.4 and the per-packet tables), allocation-free.
 * A value that is not a reason code of that packet type is a Malformed Packet: the packet cannot be parsed
 * according to the specification (section 1.2, "Malformed Packet").
 */
final class ReasonCodes {

    private static final ReasonCode[] BY_VALUE = new ReasonCode[256];
    private static final boolean[][] VALID = new boolean[16][];

    static {
        for (ReasonCode c : ReasonCode.values()) {
            if (BY_VALUE[c.value()] == null) {
                BY_VALUE[c.value()] = c;
            }
        }
        // Table 3-1 Connect Reason Code values
        valid(PacketType.CONNACK, 0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90,
                0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F);
        // section 3.4.2.1 PUBACK / 3.5.2.1 PUBREC Reason Codes
        valid(PacketType.PUBACK, 0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99);
        valid(PacketType.PUBREC, 0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99);
        // section 3.6.2.1 PUBREL / 3.7.2.1 PUBCOMP Reason Codes
        valid(PacketType.PUBREL, 0x00, 0x92);
        valid(PacketType.PUBCOMP, 0x00, 0x92);
        // section 3.9.3 SUBACK Payload
        valid(PacketType.SUBACK, 0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2);
        // section 3.11.3 UNSUBACK Payload
        valid(PacketType.UNSUBACK, 0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91);
        // section 3.14.2.1 Disconnect Reason Code
        valid(PacketType.DISCONNECT, 0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93,
                0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2);
        // section 3.15.2.1 Authenticate Reason Code
        valid(PacketType.AUTH, 0x00, 0x18, 0x19);
    }

    private ReasonCodes() {
    }

    private static void valid(PacketType type, int... values) {
        boolean[] v = new boolean[256];
        for (int value : values) {
            v[value] = true;
        }
        VALID[type.value()] = v;
    }

    /** The first constant with this value, or {@code null}; like {@link ReasonCode#of(int)} without allocating. */
    static ReasonCode of(int value) {
        return value >= 0 && value < 256 ? BY_VALUE[value] : null;
    }

    /** True when {@code value} is a reason code the packet type may carry in MQTT 5.0. */
    static boolean isValid(PacketType type, int value) {
        boolean[] v = VALID[type.value()];
        return v != null && value >= 0 && value < 256 && v[value];
    }

    /**
     * The reason code for a byte of a packet, with the context-specific name for 0x00: Normal disconnection in
     * DISCONNECT, Granted QoS 0 in SUBACK, Success elsewhere.
     */
    static ReasonCode decode(PacketType type, int value) throws DecodeException {
        if (!isValid(type, value)) {
            throw new DecodeException(ReasonCode.MALFORMED_PACKET,
                    String.format("reason code 0x%02X is not valid in %s", value, type));
        }
        if (value == 0) {
            if (type == PacketType.DISCONNECT) {
                return ReasonCode.NORMAL_DISCONNECTION;
            }
            if (type == PacketType.SUBACK) {
                return ReasonCode.GRANTED_QOS_0;
            }
            return ReasonCode.SUCCESS;
        }
        return BY_VALUE[value];
    }
}
