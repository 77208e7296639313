package io.starling.codec;

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
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Random valid MQTT packets of every type, for MQTT 3.1.1 and 5.0, drawn from a {@link Random} the caller seeds:
 * what the specification allows, with the edge values drawn often (packet id 1 and 65535, empty payloads, empty
 * client id, the largest intervals, multi-byte UTF-8, every reason code a packet type may carry in 5.0, the
 * properties each type may carry, absent or present).
 */
final class PacketGenerators {

    /** Chance that a number is drawn as the lower or the upper end of its range, each. */
    private static final double EDGE = 0.1;
    private static final String ASCII = "abcdefghijklmnopqrstuvwxyz0123456789 -_.";
    private static final String UNICODE = "aéß中Ω";
    private static final String TOPIC_LEVEL = "abcdefghijklmnopqrstuvwxyzü$";
    private static final String FILTER_LEVEL = "abcdefghijklmnopqrstuvwxyz";
    private static final Map<PacketType, List<ReasonCode>> REASON_CODES = new EnumMap<>(PacketType.class);

    static {
        for (PacketType type : PacketType.values()) {
            List<ReasonCode> valid = new ArrayList<>();
            for (int value = 0; value < 256; value++) {
                if (ReasonCodes.isValid(type, value)) {
                    try {
                        valid.add(ReasonCodes.decode(type, value));
                    } catch (DecodeException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
            REASON_CODES.put(type, List.copyOf(valid));
        }
    }

    private PacketGenerators() {
    }

    /** Which side sends a packet type (decides the one direction-dependent rule of the decoder). */
    static PacketDecoder.Sender sender(MqttPacket p) {
        return switch (p.type()) {
            case CONNACK, SUBACK, UNSUBACK, PINGRESP -> PacketDecoder.Sender.SERVER;
            case PUBLISH -> ((PublishPacket) p).properties().subscriptionIdentifiers().isEmpty()
                    ? PacketDecoder.Sender.CLIENT : PacketDecoder.Sender.SERVER;
            default -> PacketDecoder.Sender.CLIENT;
        };
    }

    /** The packet types of {@code v}: every type, AUTH only in 5.0. */
    static List<PacketType> types(ProtocolVersion v) {
        List<PacketType> types = new ArrayList<>(List.of(PacketType.values()));
        if (!v.isV5()) {
            types.remove(PacketType.AUTH);
        }
        return types;
    }

    /** A valid packet of {@code v}, of a type drawn uniformly from {@link #types}. */
    static MqttPacket packet(Random r, ProtocolVersion v) {
        return packet(r, v, pick(r, types(v)));
    }

    /** A valid packet of {@code v} and {@code type}. */
    static MqttPacket packet(Random r, ProtocolVersion v, PacketType type) {
        return switch (type) {
            case CONNECT -> connect(r, v);
            case CONNACK -> connAck(r, v);
            case PUBLISH -> publish(r, v);
            case PUBACK -> new PubAckPacket(packetId(r), ackCode(r, v, type), ackProperties(r, v));
            case PUBREC -> new PubRecPacket(packetId(r), ackCode(r, v, type), ackProperties(r, v));
            case PUBREL -> new PubRelPacket(packetId(r), ackCode(r, v, type), ackProperties(r, v));
            case PUBCOMP -> new PubCompPacket(packetId(r), ackCode(r, v, type), ackProperties(r, v));
            case SUBSCRIBE -> subscribe(r, v);
            case SUBACK -> subAck(r, v);
            case UNSUBSCRIBE -> unsubscribe(r, v);
            case UNSUBACK -> unsubAck(r, v);
            case PINGREQ -> PingReqPacket.INSTANCE;
            case PINGRESP -> PingRespPacket.INSTANCE;
            case DISCONNECT -> disconnect(r, v);
            case AUTH -> auth(r);
            default -> throw new IllegalArgumentException(type.toString());
        };
    }

    // ---------------------------------------------------------------- values

    /** An int in {@code [min, max]}, either end drawn with probability {@link #EDGE}. */
    static int intIn(Random r, int min, int max) {
        double edge = r.nextDouble();
        if (edge < EDGE) {
            return min;
        }
        if (edge < 2 * EDGE) {
            return max;
        }
        return r.nextInt(min, max + 1);
    }

    /** A long in {@code [min, max]}, either end drawn with probability {@link #EDGE}. */
    static long longIn(Random r, long min, long max) {
        double edge = r.nextDouble();
        if (edge < EDGE) {
            return min;
        }
        if (edge < 2 * EDGE) {
            return max;
        }
        return r.nextLong(min, max + 1);
    }

    /** {@code null} with probability {@code nullChance}, else a value from {@code value}. */
    static <T> T orNull(Random r, double nullChance, Supplier<T> value) {
        return r.nextDouble() < nullChance ? null : value.get();
    }

    static <T> T pick(Random r, List<T> values) {
        return values.get(r.nextInt(values.size()));
    }

    /** A string of up to {@code maxLength} characters taken from {@code chars}. */
    static String chars(Random r, String chars, int maxLength) {
        int length = intIn(r, 0, maxLength);
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            sb.append(chars.charAt(r.nextInt(chars.length())));
        }
        return sb.toString();
    }

    /**
     * UTF-8 strings the specification allows: no U+0000 [MQTT-1.5.4-2], no surrogates alone [MQTT-1.5.4-1]. One in
     * five is multi-byte UTF-8 ending in a surrogate pair (4 bytes in UTF-8), so it may be one over maxLength.
     */
    static String text(Random r, int maxLength) {
        if (r.nextInt(5) == 0) {
            return chars(r, UNICODE, maxLength) + "😀";
        }
        return chars(r, ASCII, maxLength);
    }

    /** A Topic Name: 1 to 6 levels of up to 6 characters, never empty. */
    static String topicName(Random r) {
        while (true) {
            int levels = intIn(r, 1, 6);
            List<String> l = new ArrayList<>(levels);
            for (int i = 0; i < levels; i++) {
                l.add(chars(r, TOPIC_LEVEL, 6));
            }
            String topic = String.join("/", l);
            if (!topic.isEmpty()) {
                return topic;
            }
        }
    }

    /** A Topic Filter: 1 to 5 levels, each a name or {@code +}, possibly ending in {@code #}; never empty. */
    static String topicFilter(Random r) {
        while (true) {
            int levels = intIn(r, 1, 5);
            List<String> l = new ArrayList<>(levels);
            for (int i = 0; i < levels; i++) {
                l.add(r.nextBoolean() ? "+" : chars(r, FILTER_LEVEL, 5));
            }
            String f = String.join("/", l);
            if (r.nextBoolean()) {
                f = f.isEmpty() ? "#" : f + "/#";
            }
            if (!f.isEmpty()) {
                return f;
            }
        }
    }

    static byte[] bytes(Random r, int maxSize) {
        byte[] b = new byte[intIn(r, 0, maxSize)];
        r.nextBytes(b);
        return b;
    }

    static int packetId(Random r) {
        return intIn(r, 1, 65_535);
    }

    /** A reason code the packet type may carry in 5.0, in the form the decoder returns. */
    static ReasonCode reasonCode(Random r, PacketType type) {
        return pick(r, REASON_CODES.get(type));
    }

    private static Properties withUserProperties(Random r, Properties.Builder b) {
        int n = intIn(r, 0, 3);
        for (int i = 0; i < n; i++) {
            b.addUserProperty(text(r, 8), text(r, 8));
        }
        return b.build();
    }

    private static Properties ackProperties(Random r, ProtocolVersion v) {
        if (!v.isV5()) {
            return Properties.EMPTY;
        }
        return withUserProperties(r, Properties.builder().reasonString(orNull(r, 0.5, () -> text(r, 20))));
    }

    private static ReasonCode ackCode(Random r, ProtocolVersion v, PacketType type) {
        return v.isV5() ? reasonCode(r, type) : ReasonCode.SUCCESS;
    }

    private static List<ReasonCode> reasonCodes(Random r, List<ReasonCode> from) {
        int n = intIn(r, 1, 4);
        List<ReasonCode> codes = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            codes.add(pick(r, from));
        }
        return codes;
    }

    // ---------------------------------------------------------------- packets

    static ConnectPacket connect(Random r, ProtocolVersion v) {
        Properties props = Properties.EMPTY;
        if (v.isV5()) {
            props = withUserProperties(r, Properties.builder()
                    .sessionExpiryInterval(orNull(r, 0.5, () -> longIn(r, 0, 0xFFFF_FFFFL)))
                    .receiveMaximum(orNull(r, 0.5, () -> intIn(r, 1, 65_535)))
                    .maximumPacketSize(orNull(r, 0.5, () -> longIn(r, 1, 268_435_460L)))
                    .topicAliasMaximum(orNull(r, 0.5, () -> intIn(r, 0, 65_535)))
                    .requestResponseInformation(orNull(r, 0.5, () -> intIn(r, 0, 1)))
                    .requestProblemInformation(orNull(r, 0.5, () -> intIn(r, 0, 1)))
                    .authenticationMethod(orNull(r, 0.7, () -> text(r, 10))));
        }
        Will will = orNull(r, 0.5, () -> will(r, v));
        String clientId = text(r, 23);
        boolean clean = r.nextBoolean();
        int keepAlive = intIn(r, 0, 65_535);
        String user = orNull(r, 0.5, () -> text(r, 12));
        byte[] password = orNull(r, 0.5, () -> bytes(r, 12));
        // 3.1.1: a password needs a user name [MQTT-3.1.2-22]; an empty client id needs clean session
        byte[] pass = !v.isV5() && user == null ? null : password;
        boolean cleanStart = clean || (!v.isV5() && clientId.isEmpty());
        return new ConnectPacket(v, clientId, cleanStart, keepAlive, user, pass, will, props);
    }

    private static Will will(Random r, ProtocolVersion v) {
        Properties props = Properties.EMPTY;
        if (v.isV5()) {
            props = withUserProperties(r, Properties.builder()
                    .willDelayInterval(orNull(r, 0.5, () -> longIn(r, 0, 0xFFFF_FFFFL)))
                    .payloadFormatIndicator(orNull(r, 0.5, () -> intIn(r, 0, 1)))
                    .contentType(orNull(r, 0.5, () -> text(r, 10)))
                    .responseTopic(orNull(r, 0.5, () -> topicName(r)))
                    .correlationData(orNull(r, 0.5, () -> bytes(r, 8))));
        }
        return new Will(topicName(r), bytes(r, 32), intIn(r, 0, 2), r.nextBoolean(), props);
    }

    static ConnAckPacket connAck(Random r, ProtocolVersion v) {
        ReasonCode rc = v.isV5() ? reasonCode(r, PacketType.CONNACK)
                : pick(r, List.of(ReasonCode.SUCCESS, ReasonCode.UNSUPPORTED_PROTOCOL_VERSION,
                        ReasonCode.CLIENT_IDENTIFIER_NOT_VALID, ReasonCode.SERVER_UNAVAILABLE,
                        ReasonCode.BAD_USER_NAME_OR_PASSWORD, ReasonCode.NOT_AUTHORIZED));
        Properties props = Properties.EMPTY;
        if (v.isV5()) {
            props = withUserProperties(r, Properties.builder()
                    .sessionExpiryInterval(orNull(r, 0.5, () -> longIn(r, 0, 0xFFFF_FFFFL)))
                    .receiveMaximum(orNull(r, 0.5, () -> intIn(r, 1, 65_535)))
                    .maximumQos(orNull(r, 0.5, () -> intIn(r, 0, 1)))
                    .assignedClientIdentifier(orNull(r, 0.5, () -> text(r, 16)))
                    .serverKeepAlive(orNull(r, 0.5, () -> intIn(r, 0, 65_535)))
                    .reasonString(orNull(r, 0.5, () -> text(r, 16))));
        }
        // [MQTT-3.2.2-4] / [MQTT-3.2.2-6] Session Present only with success
        boolean present = r.nextBoolean() && !rc.isError() && rc.value() == 0;
        return new ConnAckPacket(present, rc, props);
    }

    static PublishPacket publish(Random r, ProtocolVersion v) {
        Properties props = Properties.EMPTY;
        if (v.isV5()) {
            Properties.Builder b = Properties.builder()
                    .payloadFormatIndicator(orNull(r, 0.5, () -> intIn(r, 0, 1)))
                    .messageExpiryInterval(orNull(r, 0.5, () -> longIn(r, 0, 0xFFFF_FFFFL)))
                    .topicAlias(orNull(r, 0.7, () -> intIn(r, 1, 65_535)))
                    .responseTopic(orNull(r, 0.6, () -> topicName(r)))
                    .correlationData(orNull(r, 0.6, () -> bytes(r, 8)))
                    .contentType(orNull(r, 0.6, () -> text(r, 12)));
            int subIds = intIn(r, 0, 2);
            for (int i = 0; i < subIds; i++) {
                b.addSubscriptionIdentifier(intIn(r, 1, FixedHeader.MAX_VARIABLE_BYTE_INTEGER));
            }
            props = withUserProperties(r, b);
        }
        int qos = intIn(r, 0, 2);
        String topic = topicName(r);
        boolean retain = r.nextBoolean();
        boolean dup = qos > 0 && r.nextBoolean(); // [MQTT-3.3.1-2] DUP 0 at QoS 0
        int id = qos == 0 ? 0 : packetId(r);
        return new PublishPacket(topic, qos, retain, dup, id, props, bytes(r, 64));
    }

    static SubscribePacket subscribe(Random r, ProtocolVersion v) {
        int n = intIn(r, 1, 4); // [MQTT-3.8.3-3] at least one filter
        List<TopicSubscription> subs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            subs.add(v.isV5()
                    ? new TopicSubscription(topicFilter(r), intIn(r, 0, 2), r.nextBoolean(), r.nextBoolean(),
                            intIn(r, 0, 2))
                    : new TopicSubscription(topicFilter(r), intIn(r, 0, 2), false, false, 0));
        }
        Properties props = Properties.EMPTY;
        if (v.isV5()) {
            Properties.Builder b = Properties.builder();
            if (r.nextBoolean()) {
                b.addSubscriptionIdentifier(intIn(r, 1, FixedHeader.MAX_VARIABLE_BYTE_INTEGER));
            }
            props = withUserProperties(r, b);
        }
        return new SubscribePacket(packetId(r), subs, props);
    }

    static SubAckPacket subAck(Random r, ProtocolVersion v) {
        List<ReasonCode> codes = reasonCodes(r, v.isV5() ? REASON_CODES.get(PacketType.SUBACK)
                : List.of(ReasonCode.GRANTED_QOS_0, ReasonCode.GRANTED_QOS_1, ReasonCode.GRANTED_QOS_2,
                        ReasonCode.UNSPECIFIED_ERROR));
        return new SubAckPacket(packetId(r), codes, ackProperties(r, v));
    }

    static UnsubscribePacket unsubscribe(Random r, ProtocolVersion v) {
        int n = intIn(r, 1, 4); // [MQTT-3.10.3-2] at least one filter
        List<String> filters = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            filters.add(topicFilter(r));
        }
        Properties props = v.isV5() ? withUserProperties(r, Properties.builder()) : Properties.EMPTY;
        return new UnsubscribePacket(packetId(r), filters, props);
    }

    static UnsubAckPacket unsubAck(Random r, ProtocolVersion v) {
        // 3.x UNSUBACK has no payload: the decoder returns no codes
        List<ReasonCode> codes = v.isV5() ? reasonCodes(r, REASON_CODES.get(PacketType.UNSUBACK)) : List.of();
        return new UnsubAckPacket(packetId(r), codes, ackProperties(r, v));
    }

    static DisconnectPacket disconnect(Random r, ProtocolVersion v) {
        if (!v.isV5()) {
            return DisconnectPacket.NORMAL;
        }
        Properties props = withUserProperties(r, Properties.builder()
                .sessionExpiryInterval(orNull(r, 0.6, () -> longIn(r, 0, 0xFFFF_FFFFL)))
                .reasonString(orNull(r, 0.5, () -> text(r, 16)))
                .serverReference(orNull(r, 0.7, () -> text(r, 16))));
        return new DisconnectPacket(reasonCode(r, PacketType.DISCONNECT), props);
    }

    static AuthPacket auth(Random r) {
        String method = text(r, 12);
        // 5.0 3.15.2.2.2: an AUTH other than Success without properties carries the Authentication Method
        Properties props = withUserProperties(r, Properties.builder()
                .authenticationMethod(method.isEmpty() ? "m" : method)
                .authenticationData(orNull(r, 0.3, () -> bytes(r, 16)))
                .reasonString(orNull(r, 0.6, () -> text(r, 16))));
        return new AuthPacket(reasonCode(r, PacketType.AUTH), props);
    }
}
