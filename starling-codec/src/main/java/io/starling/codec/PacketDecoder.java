package io.starling.codec;

import io.netty.buffer.ByteBuf;
import io.starling.codec.packet.AuthPacket;
import io.starling.codec.packet.ConnAckPacket;
import io.starling.codec.packet.ConnectPacket;
import io.starling.codec.packet.DisconnectPacket;
import io.starling.codec.packet.MqttPacket;
import io.starling.codec.packet.PingReqPacket;
import io.starling.codec.packet.PingRespPacket;
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
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Decodes the body of one MQTT control packet, already framed: the caller passes the first byte of the fixed
 * header and a buffer holding exactly the Remaining Length bytes. The decoder reads the body to its end (leaving
 * its reader index at the writer index; when it throws, the reader index is restored), copies everything it keeps
 * (strings, payloads, binary data), and neither retains nor releases the buffer.
 *
 * <p>Every violation of MQTT 3.1, 3.1.1 and 5.0 that one packet shows on its own is refused with a
 * {@link DecodeException} carrying the reason code to answer with:
 * <ul>
 * <li>{@code MALFORMED_PACKET} when the packet cannot be parsed or the specification says "Malformed";</li>
 * <li>{@code PROTOCOL_ERROR} for MQTT 5.0 packets that parse but hold data the protocol forbids ("It is a
 * Protocol Error ..."). MQTT 3.x has no reason codes — the server closes the connection on either — so the same
 * conditions are reported as {@code MALFORMED_PACKET} there;</li>
 * <li>{@code TOPIC_NAME_INVALID} for wildcards in a PUBLISH Topic Name (and, on 5.0, an invalid Will Topic),
 * {@code TOPIC_ALIAS_INVALID} for Topic Alias 0, {@code UNSUPPORTED_PROTOCOL_VERSION} for a CONNECT of an
 * unsupported level.</li>
 * </ul>
 * What needs connection state (topic alias mapping, packet identifiers in use, client identifier rules, limits
 * the server announced, Topic Filter syntax answered per filter in SUBACK) is the broker's job.
 */
public final class PacketDecoder {

    /** Which side sent the packets being decoded; decides the one direction-dependent rule (see {@link #decode}). */
    public enum Sender {
        /** Packets a client sends to the server: what the server decodes. */
        CLIENT,
        /** Packets a server sends to a client: what a test client decodes. */
        SERVER
    }

    private PacketDecoder() {
    }

    // ---------------------------------------------------------------- CONNECT

    /**
     * Decodes a CONNECT: {@code firstByte} is the fixed header byte; {@code body} holds exactly the Remaining Length
     * bytes. The protocol name and level pick the version.
     *
     * @throws DecodeException {@code PROTOCOL_ERROR} when the packet is not a CONNECT [MQTT-3.1.0-1] or the protocol
     *         name is neither "MQTT" nor "MQIsdp" [MQTT-3.1.2-1] (close without CONNACK);
     *         {@code UNSUPPORTED_PROTOCOL_VERSION} for a known name with a level other than 3 ("MQIsdp"), 4 or 5
     *         ("MQTT") [MQTT-3.1.2-2]; otherwise as described on the class
     */
    public static ConnectPacket decodeConnect(int firstByte, ByteBuf body) throws DecodeException {
        int start = body.readerIndex();
        try {
            return connect(firstByte, body);
        } catch (DecodeException e) {
            body.readerIndex(start);
            throw e;
        }
    }

    private static ConnectPacket connect(int firstByte, ByteBuf body) throws DecodeException {
        if (PacketType.of((firstByte >> 4) & 0x0F) != PacketType.CONNECT) {
            // [MQTT-3.1.0-1] the first packet sent from the Client to the Server MUST be a CONNECT packet
            throw new DecodeException(ReasonCode.PROTOCOL_ERROR, "expected CONNECT [MQTT-3.1.0-1]");
        }
        if ((firstByte & 0x0F) != 0) {
            // [MQTT-2.2.2-1] (3.1.1) / [MQTT-2.1.3-1] (5.0): reserved flags of CONNECT are 0000
            throw malformed("CONNECT fixed header flags must be 0 [MQTT-2.2.2-1]");
        }
        String name = MqttStrings.readString(body);
        if (!body.isReadable()) {
            throw malformed("CONNECT ends before the Protocol Level");
        }
        int level = body.readUnsignedByte();
        if (!"MQTT".equals(name) && !"MQIsdp".equals(name)) {
            // [MQTT-3.1.2-1] a wrong protocol name: the server MAY disconnect; we do, without CONNACK
            throw new DecodeException(ReasonCode.PROTOCOL_ERROR, "unknown protocol name \"" + name + "\" [MQTT-3.1.2-1]");
        }
        // Mosquitto's bridges set bit 7 of the level on 3.1 and 3.1.1 (0x83, 0x84) to say they are a bridge
        boolean bridge = (level & 0x80) != 0 && (level & 0x7F) != 5;
        ProtocolVersion version = ProtocolVersion.of(name, bridge ? level & 0x7F : level);
        if (version == null) {
            // [MQTT-3.1.2-2] unsupported level: CONNACK 0x01 (3.1.1) / 0x84 (5.0), then close
            throw new DecodeException(ReasonCode.UNSUPPORTED_PROTOCOL_VERSION,
                    "unsupported protocol level " + level + " for \"" + name + "\" [MQTT-3.1.2-2]");
        }
        boolean v5 = version.isV5();
        if (!body.isReadable()) {
            throw malformed("CONNECT ends before the Connect Flags");
        }
        int flags = body.readUnsignedByte();
        if ((flags & 0x01) != 0) {
            // [MQTT-3.1.2-3] the reserved flag MUST be 0 (5.0: "If the reserved flag is not 0 it is a Malformed Packet")
            throw malformed("CONNECT reserved flag is set [MQTT-3.1.2-3]");
        }
        boolean cleanStart = (flags & 0x02) != 0;
        boolean willFlag = (flags & 0x04) != 0;
        int willQos = (flags >> 3) & 0x03;
        boolean willRetain = (flags & 0x20) != 0;
        boolean passwordFlag = (flags & 0x40) != 0;
        boolean usernameFlag = (flags & 0x80) != 0;
        if (!willFlag && willQos != 0) {
            // [MQTT-3.1.2-13] (3.1.1) / [MQTT-3.1.2-11] (5.0): Will Flag 0 requires Will QoS 0
            throw malformed("Will QoS " + willQos + " without Will Flag [MQTT-3.1.2-11]");
        }
        if (!willFlag && willRetain) {
            // [MQTT-3.1.2-15] (3.1.1) / [MQTT-3.1.2-13] (5.0): Will Flag 0 requires Will Retain 0
            throw malformed("Will Retain without Will Flag [MQTT-3.1.2-13]");
        }
        if (willQos == 3) {
            // [MQTT-3.1.2-14] (3.1.1) / [MQTT-3.1.2-12] (5.0): Will QoS 3 is a Malformed Packet
            throw malformed("Will QoS 3 [MQTT-3.1.2-12]");
        }
        if (!v5 && passwordFlag && !usernameFlag) {
            // [MQTT-3.1.2-22] (3.1.1; lifted in 5.0): Password Flag requires User Name Flag
            throw malformed("Password Flag without User Name Flag [MQTT-3.1.2-22]");
        }
        if (body.readableBytes() < 2) {
            throw malformed("CONNECT ends before the Keep Alive");
        }
        int keepAlive = body.readUnsignedShort();
        Properties properties = v5 ? PropertiesCodec.read(body, PacketType.CONNECT, false) : Properties.EMPTY;
        // [MQTT-3.1.3-3] the Client Identifier MUST be present and first; [MQTT-3.1.3-4] a UTF-8 string
        String clientId = MqttStrings.readString(body);
        Will will = null;
        if (willFlag) {
            // [MQTT-3.1.2-9] Will Flag 1: Will Properties (5.0), Will Topic and Will Payload MUST be present
            Properties willProperties = v5 ? PropertiesCodec.read(body, PacketType.CONNECT, true) : Properties.EMPTY;
            String willTopic = MqttStrings.readString(body);
            if (willTopic.isEmpty() || MqttStrings.hasWildcard(willTopic)) {
                // [MQTT-3.1.3-11] Will Topic is a Topic Name: [MQTT-4.7.1-1] no wildcards, [MQTT-4.7.3-1] non-empty
                throw new DecodeException(v5 ? ReasonCode.TOPIC_NAME_INVALID : ReasonCode.MALFORMED_PACKET,
                        "Will Topic \"" + willTopic + "\" is not a valid Topic Name [MQTT-4.7.1-1]");
            }
            byte[] willPayload = MqttStrings.readBinary(body);
            will = new Will(willTopic, willPayload, willQos, willRetain, willProperties);
        }
        // [MQTT-3.1.2-19] (3.1.1) / [MQTT-3.1.2-17] (5.0): User Name present when its flag is set
        String username = usernameFlag ? MqttStrings.readString(body) : null;
        // [MQTT-3.1.2-21] (3.1.1) / [MQTT-3.1.2-19] (5.0): Password present when its flag is set
        byte[] password = passwordFlag ? MqttStrings.readBinary(body) : null;
        // [MQTT-3.1.2-18] / [MQTT-3.1.2-20] (3.1.1), [MQTT-3.1.2-16] / [MQTT-3.1.2-18] (5.0): nothing else follows
        requireEnd(body, PacketType.CONNECT);
        return new ConnectPacket(version, clientId, cleanStart, keepAlive, username, password, will, properties, bridge);
    }

    // ---------------------------------------------------------------- everything else

    /**
     * Decodes any packet other than CONNECT for an established connection's version, as sent by a client (the
     * server's view): equivalent to {@code decode(firstByte, body, version, Sender.CLIENT)}. {@code body} holds
     * exactly the Remaining Length bytes. A test client decoding what a server sends uses {@link Sender#SERVER}.
     */
    public static MqttPacket decode(int firstByte, ByteBuf body, ProtocolVersion version) throws DecodeException {
        return decode(firstByte, body, version, Sender.CLIENT);
    }

    /**
     * Decodes any packet other than CONNECT for an established connection's version. Every packet type is decoded
     * whichever side sent it (which types a side may send is connection state, for the caller); {@code sender}
     * decides the one direction-dependent packet rule: a PUBLISH from a client MUST NOT carry a Subscription
     * Identifier [MQTT-3.3.4-6], while one from a server may carry several.
     *
     * @throws DecodeException {@code PROTOCOL_ERROR} for a CONNECT [MQTT-3.1.0-2]; otherwise as described on the
     *         class
     */
    public static MqttPacket decode(int firstByte, ByteBuf body, ProtocolVersion version, Sender sender)
            throws DecodeException {
        int start = body.readerIndex();
        try {
            return packet(firstByte, body, version, sender);
        } catch (DecodeException e) {
            body.readerIndex(start);
            throw e;
        }
    }

    private static MqttPacket packet(int firstByte, ByteBuf body, ProtocolVersion version, Sender sender)
            throws DecodeException {
        PacketType type = PacketType.of((firstByte >> 4) & 0x0F);
        int flags = firstByte & 0x0F;
        if (type == null) {
            // packet type 0 is Reserved (Table 2.1 of 3.1.1, Table 2-1 of 5.0)
            throw malformed("reserved packet type 0");
        }
        MqttPacket packet;
        switch (type) {
            case PUBLISH:
                packet = decodePublish(flags, body, version, sender);
                break;
            case PUBACK:
                checkFlags(type, flags, 0, version);
                packet = decodePubAck(body, version);
                break;
            case PUBREC:
                checkFlags(type, flags, 0, version);
                packet = decodePubRec(body, version);
                break;
            case PUBREL:
                // [MQTT-3.6.1-1] PUBREL flags are 0010
                checkFlags(type, flags, 2, version);
                packet = decodePubRel(body, version);
                break;
            case PUBCOMP:
                checkFlags(type, flags, 0, version);
                packet = decodePubComp(body, version);
                break;
            case SUBSCRIBE:
                // [MQTT-3.8.1-1] SUBSCRIBE flags are 0010
                checkFlags(type, flags, 2, version);
                packet = decodeSubscribe(body, version);
                break;
            case SUBACK:
                checkFlags(type, flags, 0, version);
                packet = decodeSubAck(body, version);
                break;
            case UNSUBSCRIBE:
                // [MQTT-3.10.1-1] UNSUBSCRIBE flags are 0010
                checkFlags(type, flags, 2, version);
                packet = decodeUnsubscribe(body, version);
                break;
            case UNSUBACK:
                checkFlags(type, flags, 0, version);
                packet = decodeUnsubAck(body, version);
                break;
            case PINGREQ:
                checkFlags(type, flags, 0, version);
                packet = PingReqPacket.INSTANCE;
                break;
            case PINGRESP:
                checkFlags(type, flags, 0, version);
                packet = PingRespPacket.INSTANCE;
                break;
            case DISCONNECT:
                checkFlags(type, flags, 0, version);
                packet = decodeDisconnect(body, version);
                break;
            case CONNACK:
                checkFlags(type, flags, 0, version);
                packet = decodeConnAck(body, version);
                break;
            case AUTH:
                if (!version.isV5()) {
                    // packet type 15 is Reserved in MQTT 3.1.1 (Table 2.1); AUTH exists only in 5.0
                    throw malformed("packet type 15 (AUTH) is reserved before MQTT 5.0");
                }
                checkFlags(type, flags, 0, version);
                packet = decodeAuth(body);
                break;
            case CONNECT:
                // [MQTT-3.1.0-2] a second CONNECT is a protocol violation
                throw new DecodeException(ReasonCode.PROTOCOL_ERROR, "second CONNECT [MQTT-3.1.0-2]");
            default:
                throw malformed("unknown packet type " + type);
        }
        // PINGREQ/PINGRESP (sections 3.12/3.13) and v3 DISCONNECT (3.14) have no variable header and no payload;
        // every other packet must be consumed exactly by its fields
        requireEnd(body, type);
        return packet;
    }

    private static void checkFlags(PacketType type, int flags, int expected, ProtocolVersion version)
            throws DecodeException {
        if (flags == expected) {
            return;
        }
        if (version == ProtocolVersion.MQTT_3_1 && expected == 2 && flags == 0x0A) {
            // MQTT 3.1 set DUP on retransmitted PUBREL, SUBSCRIBE and UNSUBSCRIBE (its QoS 1 messages)
            return;
        }
        // [MQTT-2.2.2-1] / [MQTT-2.2.2-2] (3.1.1), section 2.1.3 (5.0): invalid reserved flags are malformed
        throw malformed(String.format("invalid fixed header flags 0x%X for %s [MQTT-2.2.2-2]", flags, type));
    }

    // ---------------------------------------------------------------- PUBLISH

    private static PublishPacket decodePublish(int flags, ByteBuf body, ProtocolVersion version, Sender sender)
            throws DecodeException {
        boolean dup = (flags & 0x08) != 0;
        int qos = (flags >> 1) & 0x03;
        boolean retain = (flags & 0x01) != 0;
        if (qos == 3) {
            // [MQTT-3.3.1-4] both QoS bits set is a Malformed Packet
            throw malformed("PUBLISH with QoS 3 [MQTT-3.3.1-4]");
        }
        if (dup && qos == 0) {
            // [MQTT-3.3.1-2] the DUP flag MUST be 0 for all QoS 0 messages
            throw violation(version, "PUBLISH QoS 0 with DUP set [MQTT-3.3.1-2]");
        }
        // [MQTT-3.3.2-1] the Topic Name is present first and is a UTF-8 string
        String topic = MqttStrings.readString(body);
        if (MqttStrings.hasWildcard(topic)) {
            // [MQTT-3.3.2-2] the Topic Name MUST NOT contain wildcard characters
            throw new DecodeException(ReasonCode.TOPIC_NAME_INVALID,
                    "PUBLISH Topic Name \"" + topic + "\" contains a wildcard [MQTT-3.3.2-2]");
        }
        int packetId = 0;
        if (qos > 0) {
            packetId = readPacketId(body, version, PacketType.PUBLISH);
        }
        Properties properties = Properties.EMPTY;
        if (version.isV5()) {
            properties = PropertiesCodec.read(body, PacketType.PUBLISH, false);
            if (sender == Sender.CLIENT && !properties.subscriptionIdentifiers().isEmpty()) {
                // [MQTT-3.3.4-6] a PUBLISH from a Client MUST NOT contain a Subscription Identifier
                throw protocolError("Subscription Identifier in a PUBLISH from a client [MQTT-3.3.4-6]");
            }
            if (topic.isEmpty() && properties.topicAlias() == null) {
                // section 3.3.2.1: "It is a Protocol Error if the Topic Name is zero length and there is no Topic Alias"
                throw protocolError("PUBLISH with an empty Topic Name and no Topic Alias");
            }
        } else if (topic.isEmpty()) {
            // [MQTT-4.7.3-1] Topic Names are at least one character long
            throw malformed("PUBLISH with an empty Topic Name [MQTT-4.7.3-1]");
        }
        byte[] payload = MqttStrings.readBytes(body, body.readableBytes());
        return new PublishPacket(topic, qos, retain, dup, packetId, properties, payload);
    }

    private static int readPacketId(ByteBuf body, ProtocolVersion version, PacketType type) throws DecodeException {
        if (body.readableBytes() < 2) {
            throw malformed(type + " ends before the Packet Identifier");
        }
        int id = body.readUnsignedShort();
        if (id == 0) {
            // [MQTT-2.3.1-1] (3.1.1) / [MQTT-2.2.1-3] (5.0): SUBSCRIBE, UNSUBSCRIBE and QoS>0 PUBLISH carry a
            // non-zero Packet Identifier
            throw violation(version, type + " with Packet Identifier 0 [MQTT-2.3.1-1]");
        }
        return id;
    }

    private static int readAckPacketId(ByteBuf body, PacketType type) throws DecodeException {
        if (body.readableBytes() < 2) {
            throw malformed(type + " ends before the Packet Identifier");
        }
        return body.readUnsignedShort();
    }

    // ---------------------------------------------------------------- PUBACK, PUBREC, PUBREL, PUBCOMP

    /** Reads the reason code of a v5 ack: absent (Remaining Length 2) means Success [section 3.4.2.1]. */
    private static ReasonCode ackReasonCode(ByteBuf body, PacketType type, ProtocolVersion version)
            throws DecodeException {
        if (!version.isV5() || !body.isReadable()) {
            return ReasonCode.SUCCESS;
        }
        return ReasonCodes.decode(type, body.readUnsignedByte());
    }

    /** Reads the properties of a v5 ack: absent (Remaining Length below 4) means none [section 3.4.2.2]. */
    private static Properties ackProperties(ByteBuf body, PacketType type, ProtocolVersion version)
            throws DecodeException {
        if (!version.isV5() || !body.isReadable()) {
            return Properties.EMPTY;
        }
        return PropertiesCodec.read(body, type, false);
    }

    private static PubAckPacket decodePubAck(ByteBuf body, ProtocolVersion version) throws DecodeException {
        int id = readAckPacketId(body, PacketType.PUBACK);
        ReasonCode rc = ackReasonCode(body, PacketType.PUBACK, version);
        Properties p = ackProperties(body, PacketType.PUBACK, version);
        return rc == ReasonCode.SUCCESS && p == Properties.EMPTY ? PubAckPacket.of(id) : new PubAckPacket(id, rc, p);
    }

    private static PubRecPacket decodePubRec(ByteBuf body, ProtocolVersion version) throws DecodeException {
        int id = readAckPacketId(body, PacketType.PUBREC);
        ReasonCode rc = ackReasonCode(body, PacketType.PUBREC, version);
        Properties p = ackProperties(body, PacketType.PUBREC, version);
        return new PubRecPacket(id, rc, p);
    }

    private static PubRelPacket decodePubRel(ByteBuf body, ProtocolVersion version) throws DecodeException {
        int id = readAckPacketId(body, PacketType.PUBREL);
        ReasonCode rc = ackReasonCode(body, PacketType.PUBREL, version);
        Properties p = ackProperties(body, PacketType.PUBREL, version);
        return new PubRelPacket(id, rc, p);
    }

    private static PubCompPacket decodePubComp(ByteBuf body, ProtocolVersion version) throws DecodeException {
        int id = readAckPacketId(body, PacketType.PUBCOMP);
        ReasonCode rc = ackReasonCode(body, PacketType.PUBCOMP, version);
        Properties p = ackProperties(body, PacketType.PUBCOMP, version);
        return new PubCompPacket(id, rc, p);
    }

    // ---------------------------------------------------------------- SUBSCRIBE, SUBACK

    private static SubscribePacket decodeSubscribe(ByteBuf body, ProtocolVersion version) throws DecodeException {
        boolean v5 = version.isV5();
        int packetId = readPacketId(body, version, PacketType.SUBSCRIBE);
        // 5.0 section 3.8.2.1.2: at most one Subscription Identifier, not 0 (checked while reading)
        Properties properties = v5 ? PropertiesCodec.read(body, PacketType.SUBSCRIBE, false) : Properties.EMPTY;
        if (!body.isReadable()) {
            // [MQTT-3.8.3-3] (3.1.1) / [MQTT-3.8.3-2] (5.0): at least one Topic Filter; none is a protocol violation
            throw violation(version, "SUBSCRIBE without Topic Filters [MQTT-3.8.3-3]");
        }
        List<TopicSubscription> subscriptions = new ArrayList<>(4);
        while (body.isReadable()) {
            // [MQTT-3.8.3-1] Topic Filters are UTF-8 strings (their syntax is checked by the broker, per filter)
            String filter = MqttStrings.readString(body);
            if (!body.isReadable()) {
                throw malformed("SUBSCRIBE Topic Filter without Subscription Options");
            }
            int options = body.readUnsignedByte();
            int qos = options & 0x03;
            if (!v5) {
                if ((options & 0xFC) != 0 || qos == 3) {
                    // [MQTT-3-8.3-4] (3.1.1): reserved bits non-zero or QoS 3: malformed
                    throw malformed(String.format("SUBSCRIBE options 0x%02X [MQTT-3.8.3-4]", options));
                }
                subscriptions.add(TopicSubscription.of(filter, qos));
                continue;
            }
            if ((options & 0xC0) != 0) {
                // [MQTT-3.8.3-5] (5.0): reserved bits 6 and 7 non-zero: malformed
                throw malformed(String.format("SUBSCRIBE options 0x%02X have reserved bits set [MQTT-3.8.3-5]", options));
            }
            if (qos == 3) {
                // 5.0 section 3.8.3.1: "It is a Protocol Error if the Maximum QoS field has the value 3"
                throw protocolError("SUBSCRIBE with Maximum QoS 3");
            }
            boolean noLocal = (options & 0x04) != 0;
            boolean retainAsPublished = (options & 0x08) != 0;
            int retainHandling = (options >> 4) & 0x03;
            if (retainHandling == 3) {
                // 5.0 section 3.8.3.1: "It is a Protocol Error to send a Retain Handling value of 3"
                throw protocolError("SUBSCRIBE with Retain Handling 3");
            }
            if (noLocal && filter.startsWith("$share/")) {
                // [MQTT-3.8.3-4] (5.0): No Local set on a Shared Subscription is a Protocol Error
                throw protocolError("No Local on Shared Subscription \"" + filter + "\" [MQTT-3.8.3-4]");
            }
            subscriptions.add(new TopicSubscription(filter, qos, noLocal, retainAsPublished, retainHandling));
        }
        return new SubscribePacket(packetId, Collections.unmodifiableList(subscriptions), properties);
    }

    private static SubAckPacket decodeSubAck(ByteBuf body, ProtocolVersion version) throws DecodeException {
        boolean v5 = version.isV5();
        int packetId = readAckPacketId(body, PacketType.SUBACK);
        Properties properties = v5 ? PropertiesCodec.read(body, PacketType.SUBACK, false) : Properties.EMPTY;
        if (!body.isReadable()) {
            // section 3.9.3: one return / reason code per Topic Filter of the SUBSCRIBE, which has at least one
            throw violation(version, "SUBACK without reason codes");
        }
        List<ReasonCode> codes = new ArrayList<>(body.readableBytes());
        while (body.isReadable()) {
            int value = body.readUnsignedByte();
            if (v5) {
                codes.add(ReasonCodes.decode(PacketType.SUBACK, value));
            } else if (value <= 2) {
                codes.add(ReasonCode.grantedQos(value));
            } else if (value == 0x80) {
                codes.add(ReasonCode.UNSPECIFIED_ERROR);
            } else {
                // [MQTT-3.9.3-2] (3.1.1): return codes other than 0x00, 0x01, 0x02, 0x80 are reserved
                throw malformed(String.format("SUBACK return code 0x%02X [MQTT-3.9.3-2]", value));
            }
        }
        return new SubAckPacket(packetId, Collections.unmodifiableList(codes), properties);
    }

    // ---------------------------------------------------------------- UNSUBSCRIBE, UNSUBACK

    private static UnsubscribePacket decodeUnsubscribe(ByteBuf body, ProtocolVersion version) throws DecodeException {
        int packetId = readPacketId(body, version, PacketType.UNSUBSCRIBE);
        Properties properties = version.isV5()
                ? PropertiesCodec.read(body, PacketType.UNSUBSCRIBE, false) : Properties.EMPTY;
        if (!body.isReadable()) {
            // [MQTT-3.10.3-2] at least one Topic Filter; an UNSUBSCRIBE without payload is a protocol violation
            throw violation(version, "UNSUBSCRIBE without Topic Filters [MQTT-3.10.3-2]");
        }
        List<String> filters = new ArrayList<>(4);
        while (body.isReadable()) {
            // [MQTT-3.10.3-1] Topic Filters are UTF-8 strings
            filters.add(MqttStrings.readString(body));
        }
        return new UnsubscribePacket(packetId, Collections.unmodifiableList(filters), properties);
    }

    private static UnsubAckPacket decodeUnsubAck(ByteBuf body, ProtocolVersion version) throws DecodeException {
        int packetId = readAckPacketId(body, PacketType.UNSUBACK);
        if (!version.isV5()) {
            // 3.1.1 section 3.11: only the Packet Identifier (remaining length 2), no payload
            return new UnsubAckPacket(packetId, List.of(), Properties.EMPTY);
        }
        Properties properties = PropertiesCodec.read(body, PacketType.UNSUBACK, false);
        if (!body.isReadable()) {
            // 5.0 section 3.11.3: one reason code per Topic Filter of the UNSUBSCRIBE, which has at least one
            throw protocolError("UNSUBACK without reason codes");
        }
        List<ReasonCode> codes = new ArrayList<>(body.readableBytes());
        while (body.isReadable()) {
            codes.add(ReasonCodes.decode(PacketType.UNSUBACK, body.readUnsignedByte()));
        }
        return new UnsubAckPacket(packetId, Collections.unmodifiableList(codes), properties);
    }

    // ---------------------------------------------------------------- CONNACK, DISCONNECT, AUTH

    private static ConnAckPacket decodeConnAck(ByteBuf body, ProtocolVersion version) throws DecodeException {
        if (body.readableBytes() < 2) {
            throw malformed("CONNACK shorter than 2 bytes");
        }
        int ackFlags = body.readUnsignedByte();
        int code = body.readUnsignedByte();
        boolean sessionPresent = false;
        if (version != ProtocolVersion.MQTT_3_1) {
            // (MQTT 3.1: the whole first byte is reserved and not used)
            if ((ackFlags & 0xFE) != 0) {
                // [MQTT-3.2.2-1] (5.0) / section 3.2.2.1 (3.1.1): bits 7-1 are reserved and MUST be 0
                throw malformed(String.format("CONNACK acknowledge flags 0x%02X [MQTT-3.2.2-1]", ackFlags));
            }
            sessionPresent = (ackFlags & 0x01) != 0;
        }
        ReasonCode reasonCode;
        Properties properties = Properties.EMPTY;
        if (version.isV5()) {
            reasonCode = ReasonCodes.decode(PacketType.CONNACK, code);
            // [MQTT-2.2.2-1] the Property Length is always present (0 when there are no properties)
            properties = PropertiesCodec.read(body, PacketType.CONNACK, false);
        } else {
            reasonCode = connectReturnCode(code);
        }
        if (sessionPresent && reasonCode != ReasonCode.SUCCESS) {
            // [MQTT-3.2.2-4] (3.1.1) / [MQTT-3.2.2-6] (5.0): Session Present MUST be 0 with a non-zero code
            throw violation(version, "CONNACK with Session Present and a failure code [MQTT-3.2.2-6]");
        }
        return new ConnAckPacket(sessionPresent, reasonCode, properties);
    }

    /** The MQTT 3.x Connect Return code (3.1.1 Table 3.1) in the 5.0 vocabulary; see {@link ConnAckPacket}. */
    private static ReasonCode connectReturnCode(int code) throws DecodeException {
        switch (code) {
            case 0:
                return ReasonCode.SUCCESS;
            case 1:
                return ReasonCode.UNSUPPORTED_PROTOCOL_VERSION;
            case 2:
                return ReasonCode.CLIENT_IDENTIFIER_NOT_VALID;
            case 3:
                return ReasonCode.SERVER_UNAVAILABLE;
            case 4:
                return ReasonCode.BAD_USER_NAME_OR_PASSWORD;
            case 5:
                return ReasonCode.NOT_AUTHORIZED;
            default:
                // 3.1.1 Table 3.1: 6-255 are reserved
                throw malformed("CONNACK return code " + code + " is reserved");
        }
    }

    private static DisconnectPacket decodeDisconnect(ByteBuf body, ProtocolVersion version) throws DecodeException {
        if (!version.isV5() || !body.isReadable()) {
            // 3.x: no variable header (trailing bytes are refused by the caller); 5.0: Remaining Length 0 means
            // Normal disconnection without properties (section 3.14.2.1)
            return DisconnectPacket.NORMAL;
        }
        ReasonCode rc = ReasonCodes.decode(PacketType.DISCONNECT, body.readUnsignedByte());
        // section 3.14.2.2.1: with Remaining Length 1 the Property Length is absent, meaning 0
        Properties p = body.isReadable() ? PropertiesCodec.read(body, PacketType.DISCONNECT, false) : Properties.EMPTY;
        return rc == ReasonCode.NORMAL_DISCONNECTION && p == Properties.EMPTY ? DisconnectPacket.NORMAL
                : new DisconnectPacket(rc, p);
    }

    private static AuthPacket decodeAuth(ByteBuf body) throws DecodeException {
        if (!body.isReadable()) {
            // section 3.15.2.1: Remaining Length 0 means Success without properties
            return new AuthPacket(ReasonCode.SUCCESS, Properties.EMPTY);
        }
        ReasonCode rc = ReasonCodes.decode(PacketType.AUTH, body.readUnsignedByte());
        Properties p = body.isReadable() ? PropertiesCodec.read(body, PacketType.AUTH, false) : Properties.EMPTY;
        return new AuthPacket(rc, p);
    }

    // ---------------------------------------------------------------- helpers

    private static void requireEnd(ByteBuf body, PacketType type) throws DecodeException {
        if (body.isReadable()) {
            throw malformed(body.readableBytes() + " unexpected trailing bytes in " + type);
        }
    }

    private static DecodeException malformed(String message) {
        return new DecodeException(ReasonCode.MALFORMED_PACKET, message);
    }

    private static DecodeException protocolError(String message) {
        return new DecodeException(ReasonCode.PROTOCOL_ERROR, message);
    }

    /** A protocol violation: Protocol Error in 5.0; in 3.x, which has no reason codes, Malformed (close). */
    private static DecodeException violation(ProtocolVersion version, String message) {
        return new DecodeException(version.isV5() ? ReasonCode.PROTOCOL_ERROR : ReasonCode.MALFORMED_PACKET, message);
    }
}
