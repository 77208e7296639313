package io.starling.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.starling.codec.packet.AuthPacket;
import io.starling.codec.packet.ConnAckPacket;
import io.starling.codec.packet.ConnectPacket;
import io.starling.codec.packet.DisconnectPacket;
import io.starling.codec.packet.MqttPacket;
import io.starling.codec.packet.PubAckPacket;
import io.starling.codec.packet.PubCompPacket;
import io.starling.codec.packet.PubRecPacket;
import io.starling.codec.packet.PubRelPacket;
import io.starling.codec.packet.PublishPacket;
import io.starling.codec.packet.SubAckPacket;
import io.starling.codec.packet.SubscribePacket;
import io.starling.codec.packet.TopicSubscription;
import io.starling.codec.packet.UnsubAckPacket;
import io.starling.codec.packet.UnsubscribePacket;
import io.starling.codec.packet.Will;
import java.util.List;

/**
 * Encodes packets for one protocol version. The size is computed first, then the packet is written in one go
 * ({@link #encodedSize} lets a caller allocate a buffer of exactly the right size).
 *
 * <p>MQTT 3.x has no properties and no reason codes on acks: properties are ignored; CONNACK reason codes map to
 * return codes 0..5 as documented on {@link ConnAckPacket} (Session Present is written only with return code 0
 * [MQTT-3.2.2-4], never for 3.1 whose first byte is reserved); SUBACK writes granted QoS 0..2 as is and any error as
 * 0x80; UNSUBACK has no payload; PUBACK/PUBREC/PUBREL/PUBCOMP carry the packet identifier only; DISCONNECT has
 * Remaining Length 0; AUTH cannot be encoded. MQTT 5.0 uses the short forms: an ack with Success and no properties
 * is the packet identifier only (section 3.4.2.1), DISCONNECT with Normal disconnection and AUTH with Success
 * and no properties have Remaining Length 0, and a reason code without properties omits the Property Length.
 *
 * <p>Packets are trusted (they come from the broker), but a property that is not allowed in the packet, a string or
 * binary longer than 65,535 bytes or a packet larger than 268,435,455 bytes throws {@link IllegalArgumentException}.
 */
public final class PacketEncoder {

    private PacketEncoder() {
    }

    /** Allocates a buffer of exactly the encoded size and writes the whole packet into it. */
    public static ByteBuf encode(ByteBufAllocator alloc, MqttPacket packet, ProtocolVersion version) {
        int remaining = remainingLength(packet, version);
        ByteBuf out = alloc.buffer(FixedHeader.headerSizeFor(remaining) + remaining);
        try {
            write(packet, version, out, remaining);
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }

    /** Writes the whole packet (fixed header included) into {@code out}. */
    public static void encode(MqttPacket packet, ProtocolVersion version, ByteBuf out) {
        write(packet, version, out, remainingLength(packet, version));
    }

    /** Total encoded size in bytes including the fixed header, without encoding. */
    public static int encodedSize(MqttPacket packet, ProtocolVersion version) {
        int remaining = remainingLength(packet, version);
        return FixedHeader.headerSizeFor(remaining) + remaining;
    }

    // ---------------------------------------------------------------- sizes

    /** The Remaining Length of the packet in this version. */
    public static int remainingLength(MqttPacket packet, ProtocolVersion version) {
        boolean v5 = version.isV5();
        switch (packet.type()) {
            case PUBLISH: {
                PublishPacket p = (PublishPacket) packet;
                int n = MqttStrings.stringSize(p.topic()) + (p.qos() > 0 ? 2 : 0) + p.payload().length;
                if (v5) {
                    n += PropertiesCodec.sizeWithLength(PropertiesCodec.size(p.properties(), PacketType.PUBLISH, false));
                }
                return checkRemaining(n);
            }
            case PUBACK: {
                PubAckPacket p = (PubAckPacket) packet;
                return ackSize(p.reasonCode(), p.properties(), PacketType.PUBACK, v5);
            }
            case PUBREC: {
                PubRecPacket p = (PubRecPacket) packet;
                return ackSize(p.reasonCode(), p.properties(), PacketType.PUBREC, v5);
            }
            case PUBREL: {
                PubRelPacket p = (PubRelPacket) packet;
                return ackSize(p.reasonCode(), p.properties(), PacketType.PUBREL, v5);
            }
            case PUBCOMP: {
                PubCompPacket p = (PubCompPacket) packet;
                return ackSize(p.reasonCode(), p.properties(), PacketType.PUBCOMP, v5);
            }
            case CONNECT:
                return connectSize((ConnectPacket) packet, version);
            case CONNACK: {
                ConnAckPacket p = (ConnAckPacket) packet;
                return 2 + (v5 ? PropertiesCodec.sizeWithLength(PropertiesCodec.size(p.properties(), PacketType.CONNACK, false)) : 0);
            }
            case SUBSCRIBE: {
                SubscribePacket p = (SubscribePacket) packet;
                int n = 2 + (v5 ? PropertiesCodec.sizeWithLength(PropertiesCodec.size(p.properties(), PacketType.SUBSCRIBE, false)) : 0);
                List<TopicSubscription> subs = p.subscriptions();
                for (int i = 0, size = subs.size(); i < size; i++) {
                    n += MqttStrings.stringSize(subs.get(i).filter()) + 1;
                }
                return checkRemaining(n);
            }
            case SUBACK: {
                SubAckPacket p = (SubAckPacket) packet;
                return 2 + p.reasonCodes().size()
                        + (v5 ? PropertiesCodec.sizeWithLength(PropertiesCodec.size(p.properties(), PacketType.SUBACK, false)) : 0);
            }
            case UNSUBSCRIBE: {
                UnsubscribePacket p = (UnsubscribePacket) packet;
                int n = 2 + (v5 ? PropertiesCodec.sizeWithLength(PropertiesCodec.size(p.properties(), PacketType.UNSUBSCRIBE, false))
                        : 0);
                List<String> filters = p.filters();
                for (int i = 0, size = filters.size(); i < size; i++) {
                    n += MqttStrings.stringSize(filters.get(i));
                }
                return checkRemaining(n);
            }
            case UNSUBACK: {
                UnsubAckPacket p = (UnsubAckPacket) packet;
                if (!v5) {
                    return 2;
                }
                return 2 + p.reasonCodes().size()
                        + PropertiesCodec.sizeWithLength(PropertiesCodec.size(p.properties(), PacketType.UNSUBACK, false));
            }
            case PINGREQ:
            case PINGRESP:
                return 0;
            case DISCONNECT: {
                DisconnectPacket p = (DisconnectPacket) packet;
                return v5 ? shortFormSize(p.reasonCode(), p.properties(), PacketType.DISCONNECT) : 0;
            }
            case AUTH: {
                if (!v5) {
                    throw new IllegalArgumentException("AUTH exists only in MQTT 5.0, not " + version);
                }
                AuthPacket p = (AuthPacket) packet;
                return shortFormSize(p.reasonCode(), p.properties(), PacketType.AUTH);
            }
            default:
                throw new IllegalArgumentException("unknown packet " + packet);
        }
    }

    private static int checkRemaining(int n) {
        if (n < 0 || n > FixedHeader.MAX_VARIABLE_BYTE_INTEGER) {
            throw new IllegalArgumentException("packet too large: remaining length " + n);
        }
        return n;
    }

    /** PUBACK/PUBREC/PUBREL/PUBCOMP: packet id, then (5.0) reason code unless Success with no properties. */
    private static int ackSize(ReasonCode rc, Properties props, PacketType type, boolean v5) {
        if (!v5) {
            return 2;
        }
        int propsSize = PropertiesCodec.size(props, type, false);
        if (propsSize == 0) {
            return rc.value() == 0 ? 2 : 3;
        }
        return 3 + PropertiesCodec.sizeWithLength(propsSize);
    }

    /** DISCONNECT/AUTH (5.0): nothing for code 0 without properties, the code alone, or code and properties. */
    private static int shortFormSize(ReasonCode rc, Properties props, PacketType type) {
        int propsSize = PropertiesCodec.size(props, type, false);
        if (propsSize == 0) {
            return rc.value() == 0 ? 0 : 1;
        }
        return 1 + PropertiesCodec.sizeWithLength(propsSize);
    }

    private static int connectSize(ConnectPacket p, ProtocolVersion version) {
        boolean v5 = version.isV5();
        int n = MqttStrings.stringSize(version.protocolName()) + 1 + 1 + 2;
        if (v5) {
            n += PropertiesCodec.sizeWithLength(PropertiesCodec.size(p.properties(), PacketType.CONNECT, false));
        }
        n += MqttStrings.stringSize(p.clientId());
        Will will = p.will();
        if (will != null) {
            if (v5) {
                n += PropertiesCodec.sizeWithLength(PropertiesCodec.size(will.properties(), PacketType.CONNECT, true));
            }
            n += MqttStrings.stringSize(will.topic()) + MqttStrings.binarySize(will.payload());
        }
        if (p.username() != null) {
            n += MqttStrings.stringSize(p.username());
        }
        if (p.password() != null) {
            n += MqttStrings.binarySize(p.password());
        }
        return checkRemaining(n);
    }

    // ---------------------------------------------------------------- writing

    private static void write(MqttPacket packet, ProtocolVersion version, ByteBuf out, int remaining) {
        boolean v5 = version.isV5();
        switch (packet.type()) {
            case PUBLISH:
                writePublish((PublishPacket) packet, v5, out, remaining);
                break;
            case PUBACK: {
                PubAckPacket p = (PubAckPacket) packet;
                writeAck(0x40, p.packetId(), p.reasonCode(), p.properties(), PacketType.PUBACK, v5, out, remaining);
                break;
            }
            case PUBREC: {
                PubRecPacket p = (PubRecPacket) packet;
                writeAck(0x50, p.packetId(), p.reasonCode(), p.properties(), PacketType.PUBREC, v5, out, remaining);
                break;
            }
            case PUBREL: {
                PubRelPacket p = (PubRelPacket) packet;
                // [MQTT-3.6.1-1] PUBREL flags 0010
                writeAck(0x62, p.packetId(), p.reasonCode(), p.properties(), PacketType.PUBREL, v5, out, remaining);
                break;
            }
            case PUBCOMP: {
                PubCompPacket p = (PubCompPacket) packet;
                writeAck(0x70, p.packetId(), p.reasonCode(), p.properties(), PacketType.PUBCOMP, v5, out, remaining);
                break;
            }
            case CONNECT:
                writeConnect((ConnectPacket) packet, version, out, remaining);
                break;
            case CONNACK:
                writeConnAck((ConnAckPacket) packet, version, out, remaining);
                break;
            case SUBSCRIBE:
                writeSubscribe((SubscribePacket) packet, v5, out, remaining);
                break;
            case SUBACK:
                writeSubAck((SubAckPacket) packet, v5, out, remaining);
                break;
            case UNSUBSCRIBE: {
                UnsubscribePacket p = (UnsubscribePacket) packet;
                // [MQTT-3.10.1-1] UNSUBSCRIBE flags 0010
                header(out, 0xA2, remaining);
                out.writeShort(p.packetId());
                if (v5) {
                    PropertiesCodec.write(out, p.properties(), PropertiesCodec.size(p.properties(), PacketType.UNSUBSCRIBE, false));
                }
                List<String> filters = p.filters();
                for (int i = 0, size = filters.size(); i < size; i++) {
                    MqttStrings.writeString(out, filters.get(i));
                }
                break;
            }
            case UNSUBACK: {
                UnsubAckPacket p = (UnsubAckPacket) packet;
                header(out, 0xB0, remaining);
                out.writeShort(p.packetId());
                if (v5) {
                    PropertiesCodec.write(out, p.properties(), PropertiesCodec.size(p.properties(), PacketType.UNSUBACK, false));
                    List<ReasonCode> codes = p.reasonCodes();
                    for (int i = 0, size = codes.size(); i < size; i++) {
                        out.writeByte(codes.get(i).value());
                    }
                }
                break;
            }
            case PINGREQ:
                header(out, 0xC0, 0);
                break;
            case PINGRESP:
                header(out, 0xD0, 0);
                break;
            case DISCONNECT: {
                DisconnectPacket p = (DisconnectPacket) packet;
                writeShortForm(0xE0, p.reasonCode(), p.properties(), PacketType.DISCONNECT, out, remaining);
                break;
            }
            case AUTH: {
                AuthPacket p = (AuthPacket) packet;
                writeShortForm(0xF0, p.reasonCode(), p.properties(), PacketType.AUTH, out, remaining);
                break;
            }
            default:
                throw new IllegalArgumentException("unknown packet " + packet);
        }
    }

    private static void header(ByteBuf out, int firstByte, int remaining) {
        out.ensureWritable(FixedHeader.headerSizeFor(remaining) + remaining);
        out.writeByte(firstByte);
        FixedHeader.writeVariableByteInteger(out, remaining);
    }

    private static void writePublish(PublishPacket p, boolean v5, ByteBuf out, int remaining) {
        int qos = p.qos();
        if (qos < 0 || qos > 2) {
            throw new IllegalArgumentException("QoS " + qos);
        }
        // [MQTT-3.3.1-2] DUP is 0 for QoS 0
        int flags = (p.dup() && qos > 0 ? 0x08 : 0) | (qos << 1) | (p.retain() ? 0x01 : 0);
        header(out, 0x30 | flags, remaining);
        MqttStrings.writeString(out, p.topic());
        if (qos > 0) {
            out.writeShort(p.packetId());
        }
        if (v5) {
            Properties props = p.properties();
            PropertiesCodec.write(out, props, PropertiesCodec.size(props, PacketType.PUBLISH, false));
        }
        out.writeBytes(p.payload());
    }

    private static void writeAck(int firstByte, int packetId, ReasonCode rc, Properties props, PacketType type, boolean v5,
            ByteBuf out, int remaining) {
        header(out, firstByte, remaining);
        out.writeShort(packetId);
        if (remaining > 2) {
            out.writeByte(rc.value());
            if (remaining > 3) {
                PropertiesCodec.write(out, props, PropertiesCodec.size(props, type, false));
            }
        }
    }

    private static void writeShortForm(int firstByte, ReasonCode rc, Properties props, PacketType type, ByteBuf out,
            int remaining) {
        header(out, firstByte, remaining);
        if (remaining > 0) {
            out.writeByte(rc.value());
            if (remaining > 1) {
                PropertiesCodec.write(out, props, PropertiesCodec.size(props, type, false));
            }
        }
    }

    private static void writeConnect(ConnectPacket p, ProtocolVersion version, ByteBuf out, int remaining) {
        boolean v5 = version.isV5();
        header(out, 0x10, remaining);
        MqttStrings.writeString(out, version.protocolName());
        if (p.bridge() && version.isV5()) {
            throw new IllegalArgumentException("the bridge flag is for MQTT 3.1 and 3.1.1 only");
        }
        out.writeByte(version.level() | (p.bridge() ? 0x80 : 0));
        Will will = p.will();
        int flags = 0;
        if (p.username() != null) {
            flags |= 0x80;
        }
        if (p.password() != null) {
            flags |= 0x40;
        }
        if (will != null) {
            if (will.qos() < 0 || will.qos() > 2) {
                throw new IllegalArgumentException("Will QoS " + will.qos());
            }
            flags |= 0x04 | (will.qos() << 3) | (will.retain() ? 0x20 : 0);
        }
        if (p.cleanStart()) {
            flags |= 0x02;
        }
        out.writeByte(flags);
        out.writeShort(p.keepAliveSeconds());
        if (v5) {
            PropertiesCodec.write(out, p.properties(), PropertiesCodec.size(p.properties(), PacketType.CONNECT, false));
        }
        MqttStrings.writeString(out, p.clientId());
        if (will != null) {
            if (v5) {
                PropertiesCodec.write(out, will.properties(), PropertiesCodec.size(will.properties(), PacketType.CONNECT, true));
            }
            MqttStrings.writeString(out, will.topic());
            MqttStrings.writeBinary(out, will.payload());
        }
        if (p.username() != null) {
            MqttStrings.writeString(out, p.username());
        }
        if (p.password() != null) {
            MqttStrings.writeBinary(out, p.password());
        }
    }

    private static void writeConnAck(ConnAckPacket p, ProtocolVersion version, ByteBuf out, int remaining) {
        header(out, 0x20, remaining);
        if (version.isV5()) {
            // [MQTT-3.2.2-6] Session Present is 0 with a non-zero reason code
            out.writeByte(p.sessionPresent() && p.reasonCode().value() == 0 ? 1 : 0);
            out.writeByte(p.reasonCode().value());
            PropertiesCodec.write(out, p.properties(), PropertiesCodec.size(p.properties(), PacketType.CONNACK, false));
            return;
        }
        int code = connectReturnCode(p.reasonCode());
        // 3.1.1 [MQTT-3.2.2-4]: Session Present 0 with a non-zero return code; 3.1: the byte is reserved, write 0
        boolean sessionPresent = version == ProtocolVersion.MQTT_3_1_1 && p.sessionPresent() && code == 0;
        out.writeByte(sessionPresent ? 1 : 0);
        out.writeByte(code);
    }

    /** The MQTT 3.x Connect Return code for a reason code, as documented on {@link ConnAckPacket}. */
    private static int connectReturnCode(ReasonCode rc) {
        switch (rc) {
            case SUCCESS:
                return 0;
            case UNSUPPORTED_PROTOCOL_VERSION:
                return 1;
            case CLIENT_IDENTIFIER_NOT_VALID:
                return 2;
            case BAD_USER_NAME_OR_PASSWORD:
                return 4;
            case NOT_AUTHORIZED:
            case BANNED:
                return 5;
            default:
                return 3;
        }
    }

    private static void writeSubscribe(SubscribePacket p, boolean v5, ByteBuf out, int remaining) {
        // [MQTT-3.8.1-1] SUBSCRIBE flags 0010
        header(out, 0x82, remaining);
        out.writeShort(p.packetId());
        if (v5) {
            PropertiesCodec.write(out, p.properties(), PropertiesCodec.size(p.properties(), PacketType.SUBSCRIBE, false));
        }
        List<TopicSubscription> subs = p.subscriptions();
        for (int i = 0, size = subs.size(); i < size; i++) {
            TopicSubscription s = subs.get(i);
            MqttStrings.writeString(out, s.filter());
            int options = s.qos() & 0x03;
            if (v5) {
                options |= (s.noLocal() ? 0x04 : 0) | (s.retainAsPublished() ? 0x08 : 0) | ((s.retainHandling() & 0x03) << 4);
            }
            out.writeByte(options);
        }
    }

    private static void writeSubAck(SubAckPacket p, boolean v5, ByteBuf out, int remaining) {
        header(out, 0x90, remaining);
        out.writeShort(p.packetId());
        if (v5) {
            PropertiesCodec.write(out, p.properties(), PropertiesCodec.size(p.properties(), PacketType.SUBACK, false));
        }
        List<ReasonCode> codes = p.reasonCodes();
        for (int i = 0, size = codes.size(); i < size; i++) {
            int value = codes.get(i).value();
            if (!v5 && value > 2) {
                // 3.x: granted QoS 0..2, or 0x80 Failure
                value = 0x80;
            }
            out.writeByte(value);
        }
    }
}
