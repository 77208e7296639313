package io.starling.codec;

import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * Reads and writes MQTT 5.0 properties (section 2.2.2): a Variable Byte Integer Property Length followed by
 * identifier/value pairs.
 *
 * <p>Reading validates: the length fits the packet; each identifier is known and allowed in the packet (or among
 * the Will Properties) — otherwise a Malformed Packet (section 2.2.2.2); values are complete and well-formed
 * (Malformed); a property that may appear once appears once, and Byte properties that must be 0 or 1, Receive
 * Maximum, Maximum Packet Size and Subscription Identifier that must not be 0, a Response Topic without wildcards
 * and Authentication Data only with an Authentication Method (all Protocol Errors, per the text of each property).
 * A Topic Alias of 0 is {@code TOPIC_ALIAS_INVALID} [MQTT-3.3.2-8] (section 3.3.4).
 */
final class PropertiesCodec {

    private PropertiesCodec() {
    }

    /**
     * Reads the properties of a packet of {@code type} (or the Will Properties when {@code will}) and advances past
     * them. Returns {@link Properties#EMPTY} when the Property Length is 0.
     */
    static Properties read(ByteBuf buf, PacketType type, boolean will) throws DecodeException {
        int len = FixedHeader.readVariableByteInteger(buf);
        if (len == 0) {
            return Properties.EMPTY;
        }
        if (len > buf.readableBytes()) {
            throw malformed("Property Length " + len + " runs past the end of the packet");
        }
        ByteBuf in = buf.readSlice(len);
        Properties.Builder b = Properties.builder();
        long seen = 0;
        boolean hasAuthMethod = false;
        boolean hasAuthData = false;
        while (in.isReadable()) {
            int id = FixedHeader.readVariableByteInteger(in);
            PropertyId p = PropertyId.of(id);
            if (p == null) {
                // section 2.2.2.2: an identifier that is not defined is a Malformed Packet
                throw malformed(String.format("unknown property identifier 0x%02X", id));
            }
            if (will ? !p.willProperty() : !p.allowedIn(type)) {
                // section 2.2.2.2: "an Identifier which is not valid for its packet type ... is a Malformed Packet"
                throw malformed(p + " is not allowed in " + (will ? "the Will Properties" : type.toString()));
            }
            long bit = 1L << id;
            boolean repeatable = p == PropertyId.USER_PROPERTY
                    || (p == PropertyId.SUBSCRIPTION_IDENTIFIER && type == PacketType.PUBLISH && !will);
            if ((seen & bit) != 0 && !repeatable) {
                // "It is a Protocol Error to include the <property> more than once" (each property's text)
                throw protocolError(p + " included more than once");
            }
            seen |= bit;
            switch (p) {
                case PAYLOAD_FORMAT_INDICATOR:
                    b.payloadFormatIndicator(zeroOrOne(in, p));
                    break;
                case MESSAGE_EXPIRY_INTERVAL:
                    b.messageExpiryInterval(fourByte(in, p));
                    break;
                case CONTENT_TYPE:
                    b.contentType(string(in));
                    break;
                case RESPONSE_TOPIC: {
                    String topic = string(in);
                    if (topic.isEmpty() || MqttStrings.hasWildcard(topic)) {
                        // [MQTT-3.3.2-14] no wildcards; [MQTT-4.7.3-1] at least one character
                        throw protocolError("Response Topic \"" + topic + "\" is not a valid Topic Name [MQTT-3.3.2-14]");
                    }
                    b.responseTopic(topic);
                    break;
                }
                case CORRELATION_DATA:
                    b.correlationData(MqttStrings.readBinary(in));
                    break;
                case SUBSCRIPTION_IDENTIFIER: {
                    int v = FixedHeader.readVariableByteInteger(in);
                    if (v == 0) {
                        // section 3.3.2.3.8 / 3.8.2.1.2: "It is a Protocol Error if the Subscription Identifier has a value of 0"
                        throw protocolError("Subscription Identifier 0");
                    }
                    b.addSubscriptionIdentifier(v);
                    break;
                }
                case SESSION_EXPIRY_INTERVAL:
                    b.sessionExpiryInterval(fourByte(in, p));
                    break;
                case ASSIGNED_CLIENT_IDENTIFIER:
                    b.assignedClientIdentifier(string(in));
                    break;
                case SERVER_KEEP_ALIVE:
                    b.serverKeepAlive(twoByte(in, p));
                    break;
                case AUTHENTICATION_METHOD:
                    b.authenticationMethod(string(in));
                    hasAuthMethod = true;
                    break;
                case AUTHENTICATION_DATA:
                    b.authenticationData(MqttStrings.readBinary(in));
                    hasAuthData = true;
                    break;
                case REQUEST_PROBLEM_INFORMATION:
                    b.requestProblemInformation(zeroOrOne(in, p));
                    break;
                case WILL_DELAY_INTERVAL:
                    b.willDelayInterval(fourByte(in, p));
                    break;
                case REQUEST_RESPONSE_INFORMATION:
                    b.requestResponseInformation(zeroOrOne(in, p));
                    break;
                case RESPONSE_INFORMATION:
                    b.responseInformation(string(in));
                    break;
                case SERVER_REFERENCE:
                    b.serverReference(string(in));
                    break;
                case REASON_STRING:
                    b.reasonString(string(in));
                    break;
                case RECEIVE_MAXIMUM:
                    b.receiveMaximum(nonZeroTwoByte(in, p));
                    break;
                case TOPIC_ALIAS_MAXIMUM:
                    b.topicAliasMaximum(twoByte(in, p));
                    break;
                case TOPIC_ALIAS: {
                    int alias = twoByte(in, p);
                    if (alias == 0) {
                        // [MQTT-3.3.2-8] a Topic Alias of 0 is not permitted; section 3.3.4: DISCONNECT 0x94
                        throw new DecodeException(ReasonCode.TOPIC_ALIAS_INVALID, "Topic Alias 0 [MQTT-3.3.2-8]");
                    }
                    b.topicAlias(alias);
                    break;
                }
                case MAXIMUM_QOS:
                case RETAIN_AVAILABLE:
                case WILDCARD_SUBSCRIPTION_AVAILABLE:
                case SUBSCRIPTION_IDENTIFIER_AVAILABLE:
                case SHARED_SUBSCRIPTION_AVAILABLE:
                    setAvailability(b, p, zeroOrOne(in, p));
                    break;
                case USER_PROPERTY: {
                    String name = string(in);
                    b.addUserProperty(name, string(in));
                    break;
                }
                case MAXIMUM_PACKET_SIZE: {
                    long v = fourByte(in, p);
                    if (v == 0) {
                        // sections 3.1.2.11.4 / 3.2.2.3.6: "a Protocol Error ... for the value to be set to zero"
                        throw protocolError("Maximum Packet Size 0");
                    }
                    b.maximumPacketSize(v);
                    break;
                }
                default:
                    throw malformed("unhandled property " + p);
            }
        }
        if (hasAuthData && !hasAuthMethod) {
            // section 3.1.2.11.10: "It is a Protocol Error to include Authentication Data if there is no Authentication Method"
            throw protocolError("Authentication Data without Authentication Method");
        }
        return b.build();
    }

    private static void setAvailability(Properties.Builder b, PropertyId p, int v) {
        switch (p) {
            case MAXIMUM_QOS:
                b.maximumQos(v);
                break;
            case RETAIN_AVAILABLE:
                b.retainAvailable(v);
                break;
            case WILDCARD_SUBSCRIPTION_AVAILABLE:
                b.wildcardSubscriptionAvailable(v);
                break;
            case SUBSCRIPTION_IDENTIFIER_AVAILABLE:
                b.subscriptionIdentifierAvailable(v);
                break;
            default:
                b.sharedSubscriptionAvailable(v);
                break;
        }
    }

    private static String string(ByteBuf in) throws DecodeException {
        return MqttStrings.readString(in);
    }

    private static int zeroOrOne(ByteBuf in, PropertyId p) throws DecodeException {
        if (!in.isReadable()) {
            throw malformed(p + " value runs past the properties");
        }
        int v = in.readUnsignedByte();
        if (v > 1) {
            // e.g. 3.1.2.11.6/7, 3.2.2.3.4/5/11/12/13: "a Protocol Error ... to have a value other than 0 or 1"
            throw protocolError(p + " has value " + v + ", not 0 or 1");
        }
        return v;
    }

    private static int twoByte(ByteBuf in, PropertyId p) throws DecodeException {
        if (in.readableBytes() < 2) {
            throw malformed(p + " value runs past the properties");
        }
        return in.readUnsignedShort();
    }

    private static int nonZeroTwoByte(ByteBuf in, PropertyId p) throws DecodeException {
        int v = twoByte(in, p);
        if (v == 0) {
            // 3.1.2.11.3 / 3.2.2.3.3: "a Protocol Error ... for it to have the value 0"
            throw protocolError(p + " is 0");
        }
        return v;
    }

    private static long fourByte(ByteBuf in, PropertyId p) throws DecodeException {
        if (in.readableBytes() < 4) {
            throw malformed(p + " value runs past the properties");
        }
        return in.readUnsignedInt();
    }

    private static DecodeException malformed(String message) {
        return new DecodeException(ReasonCode.MALFORMED_PACKET, message);
    }

    private static DecodeException protocolError(String message) {
        return new DecodeException(ReasonCode.PROTOCOL_ERROR, message);
    }

    // ---------------------------------------------------------------- encoding

    /**
     * The size of the properties without the Property Length field. Checks that every present property is allowed
     * in {@code type} (or among Will Properties when {@code will}); an encoder bug otherwise.
     */
    static int size(Properties p, PacketType type, boolean will) {
        if (p == Properties.EMPTY) {
            return 0;
        }
        int n = 0;
        if (p.payloadFormatIndicator() != null) {
            n += 2 + check(PropertyId.PAYLOAD_FORMAT_INDICATOR, type, will);
        }
        if (p.messageExpiryInterval() != null) {
            n += 5 + check(PropertyId.MESSAGE_EXPIRY_INTERVAL, type, will);
        }
        if (p.contentType() != null) {
            n += 1 + MqttStrings.stringSize(p.contentType()) + check(PropertyId.CONTENT_TYPE, type, will);
        }
        if (p.responseTopic() != null) {
            n += 1 + MqttStrings.stringSize(p.responseTopic()) + check(PropertyId.RESPONSE_TOPIC, type, will);
        }
        if (p.correlationData() != null) {
            n += 1 + MqttStrings.binarySize(p.correlationData()) + check(PropertyId.CORRELATION_DATA, type, will);
        }
        List<Integer> subIds = p.subscriptionIdentifiers();
        if (!subIds.isEmpty()) {
            check(PropertyId.SUBSCRIPTION_IDENTIFIER, type, will);
            for (int i = 0, size = subIds.size(); i < size; i++) {
                n += 1 + FixedHeader.variableByteIntegerSize(subIds.get(i));
            }
        }
        if (p.sessionExpiryInterval() != null) {
            n += 5 + check(PropertyId.SESSION_EXPIRY_INTERVAL, type, will);
        }
        if (p.assignedClientIdentifier() != null) {
            n += 1 + MqttStrings.stringSize(p.assignedClientIdentifier())
                    + check(PropertyId.ASSIGNED_CLIENT_IDENTIFIER, type, will);
        }
        if (p.serverKeepAlive() != null) {
            n += 3 + check(PropertyId.SERVER_KEEP_ALIVE, type, will);
        }
        if (p.authenticationMethod() != null) {
            n += 1 + MqttStrings.stringSize(p.authenticationMethod()) + check(PropertyId.AUTHENTICATION_METHOD, type, will);
        }
        if (p.authenticationData() != null) {
            n += 1 + MqttStrings.binarySize(p.authenticationData()) + check(PropertyId.AUTHENTICATION_DATA, type, will);
        }
        if (p.requestProblemInformation() != null) {
            n += 2 + check(PropertyId.REQUEST_PROBLEM_INFORMATION, type, will);
        }
        if (p.willDelayInterval() != null) {
            n += 5 + check(PropertyId.WILL_DELAY_INTERVAL, type, will);
        }
        if (p.requestResponseInformation() != null) {
            n += 2 + check(PropertyId.REQUEST_RESPONSE_INFORMATION, type, will);
        }
        if (p.responseInformation() != null) {
            n += 1 + MqttStrings.stringSize(p.responseInformation()) + check(PropertyId.RESPONSE_INFORMATION, type, will);
        }
        if (p.serverReference() != null) {
            n += 1 + MqttStrings.stringSize(p.serverReference()) + check(PropertyId.SERVER_REFERENCE, type, will);
        }
        if (p.reasonString() != null) {
            n += 1 + MqttStrings.stringSize(p.reasonString()) + check(PropertyId.REASON_STRING, type, will);
        }
        if (p.receiveMaximum() != null) {
            n += 3 + check(PropertyId.RECEIVE_MAXIMUM, type, will);
        }
        if (p.topicAliasMaximum() != null) {
            n += 3 + check(PropertyId.TOPIC_ALIAS_MAXIMUM, type, will);
        }
        if (p.topicAlias() != null) {
            n += 3 + check(PropertyId.TOPIC_ALIAS, type, will);
        }
        if (p.maximumQos() != null) {
            n += 2 + check(PropertyId.MAXIMUM_QOS, type, will);
        }
        if (p.retainAvailable() != null) {
            n += 2 + check(PropertyId.RETAIN_AVAILABLE, type, will);
        }
        List<UserProperty> ups = p.userProperties();
        for (int i = 0, size = ups.size(); i < size; i++) {
            UserProperty up = ups.get(i);
            n += 1 + MqttStrings.stringSize(up.name()) + MqttStrings.stringSize(up.value());
        }
        if (p.maximumPacketSize() != null) {
            n += 5 + check(PropertyId.MAXIMUM_PACKET_SIZE, type, will);
        }
        if (p.wildcardSubscriptionAvailable() != null) {
            n += 2 + check(PropertyId.WILDCARD_SUBSCRIPTION_AVAILABLE, type, will);
        }
        if (p.subscriptionIdentifierAvailable() != null) {
            n += 2 + check(PropertyId.SUBSCRIPTION_IDENTIFIER_AVAILABLE, type, will);
        }
        if (p.sharedSubscriptionAvailable() != null) {
            n += 2 + check(PropertyId.SHARED_SUBSCRIPTION_AVAILABLE, type, will);
        }
        return n;
    }

    /** The size including the Property Length field, for a properties size from {@link #size}. */
    static int sizeWithLength(int size) {
        return FixedHeader.variableByteIntegerSize(size) + size;
    }

    private static int check(PropertyId id, PacketType type, boolean will) {
        if (will ? !id.willProperty() : !id.allowedIn(type)) {
            throw new IllegalArgumentException(id + " is not allowed in " + (will ? "Will Properties" : type.toString()));
        }
        return 0;
    }

    /** Writes the Property Length ({@code size}, from {@link #size}) and the properties, in identifier order. */
    static void write(ByteBuf out, Properties p, int size) {
        FixedHeader.writeVariableByteInteger(out, size);
        if (size == 0) {
            return;
        }
        if (p.payloadFormatIndicator() != null) {
            out.writeByte(PropertyId.PAYLOAD_FORMAT_INDICATOR.id()).writeByte(p.payloadFormatIndicator());
        }
        if (p.messageExpiryInterval() != null) {
            out.writeByte(PropertyId.MESSAGE_EXPIRY_INTERVAL.id()).writeInt((int) p.messageExpiryInterval().longValue());
        }
        writeString(out, PropertyId.CONTENT_TYPE, p.contentType());
        writeString(out, PropertyId.RESPONSE_TOPIC, p.responseTopic());
        writeBinary(out, PropertyId.CORRELATION_DATA, p.correlationData());
        List<Integer> subIds = p.subscriptionIdentifiers();
        for (int i = 0, n = subIds.size(); i < n; i++) {
            out.writeByte(PropertyId.SUBSCRIPTION_IDENTIFIER.id());
            FixedHeader.writeVariableByteInteger(out, subIds.get(i));
        }
        if (p.sessionExpiryInterval() != null) {
            out.writeByte(PropertyId.SESSION_EXPIRY_INTERVAL.id()).writeInt((int) p.sessionExpiryInterval().longValue());
        }
        writeString(out, PropertyId.ASSIGNED_CLIENT_IDENTIFIER, p.assignedClientIdentifier());
        if (p.serverKeepAlive() != null) {
            out.writeByte(PropertyId.SERVER_KEEP_ALIVE.id()).writeShort(p.serverKeepAlive());
        }
        writeString(out, PropertyId.AUTHENTICATION_METHOD, p.authenticationMethod());
        writeBinary(out, PropertyId.AUTHENTICATION_DATA, p.authenticationData());
        if (p.requestProblemInformation() != null) {
            out.writeByte(PropertyId.REQUEST_PROBLEM_INFORMATION.id()).writeByte(p.requestProblemInformation());
        }
        if (p.willDelayInterval() != null) {
            out.writeByte(PropertyId.WILL_DELAY_INTERVAL.id()).writeInt((int) p.willDelayInterval().longValue());
        }
        if (p.requestResponseInformation() != null) {
            out.writeByte(PropertyId.REQUEST_RESPONSE_INFORMATION.id()).writeByte(p.requestResponseInformation());
        }
        writeString(out, PropertyId.RESPONSE_INFORMATION, p.responseInformation());
        writeString(out, PropertyId.SERVER_REFERENCE, p.serverReference());
        writeString(out, PropertyId.REASON_STRING, p.reasonString());
        if (p.receiveMaximum() != null) {
            out.writeByte(PropertyId.RECEIVE_MAXIMUM.id()).writeShort(p.receiveMaximum());
        }
        if (p.topicAliasMaximum() != null) {
            out.writeByte(PropertyId.TOPIC_ALIAS_MAXIMUM.id()).writeShort(p.topicAliasMaximum());
        }
        if (p.topicAlias() != null) {
            out.writeByte(PropertyId.TOPIC_ALIAS.id()).writeShort(p.topicAlias());
        }
        if (p.maximumQos() != null) {
            out.writeByte(PropertyId.MAXIMUM_QOS.id()).writeByte(p.maximumQos());
        }
        if (p.retainAvailable() != null) {
            out.writeByte(PropertyId.RETAIN_AVAILABLE.id()).writeByte(p.retainAvailable());
        }
        List<UserProperty> ups = p.userProperties();
        for (int i = 0, n = ups.size(); i < n; i++) {
            UserProperty up = ups.get(i);
            out.writeByte(PropertyId.USER_PROPERTY.id());
            MqttStrings.writeString(out, up.name());
            MqttStrings.writeString(out, up.value());
        }
        if (p.maximumPacketSize() != null) {
            out.writeByte(PropertyId.MAXIMUM_PACKET_SIZE.id()).writeInt((int) p.maximumPacketSize().longValue());
        }
        if (p.wildcardSubscriptionAvailable() != null) {
            out.writeByte(PropertyId.WILDCARD_SUBSCRIPTION_AVAILABLE.id()).writeByte(p.wildcardSubscriptionAvailable());
        }
        if (p.subscriptionIdentifierAvailable() != null) {
            out.writeByte(PropertyId.SUBSCRIPTION_IDENTIFIER_AVAILABLE.id()).writeByte(p.subscriptionIdentifierAvailable());
        }
        if (p.sharedSubscriptionAvailable() != null) {
            out.writeByte(PropertyId.SHARED_SUBSCRIPTION_AVAILABLE.id()).writeByte(p.sharedSubscriptionAvailable());
        }
    }

    private static void writeString(ByteBuf out, PropertyId id, String value) {
        if (value != null) {
            out.writeByte(id.id());
            MqttStrings.writeString(out, value);
        }
    }

    private static void writeBinary(ByteBuf out, PropertyId id, byte[] value) {
        if (value != null) {
            out.writeByte(id.id());
            MqttStrings.writeBinary(out, value);
        }
    }
}
