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
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * jqwik generators of valid MQTT packets of every type, for MQTT 3.1.1 and 5.0: what the specification allows,
 * including the edge values (packet id 65535, empty payloads, empty client id, multi-byte UTF-8, every reason code
 * a packet type may carry in 5.0, the properties each type may carry).
 */
final class PacketArbitraries {

    private PacketArbitraries() {
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

    /** Any valid packet of {@code v}. */
    static Arbitrary<MqttPacket> packets(ProtocolVersion v) {
        List<Arbitrary<? extends MqttPacket>> all = new ArrayList<>(List.of(connect(v), connAck(v), publish(v),
                pubAck(v), pubRec(v), pubRel(v), pubComp(v), subscribe(v), subAck(v), unsubscribe(v), unsubAck(v),
                Arbitraries.just(PingReqPacket.INSTANCE), Arbitraries.just(PingRespPacket.INSTANCE), disconnect(v)));
        if (v.isV5()) {
            all.add(auth());
        }
        return Arbitraries.oneOf(all);
    }

    // ---------------------------------------------------------------- values

    /** UTF-8 strings the specification allows: no U+0000 [MQTT-1.5.4-2], no surrogates alone [MQTT-1.5.4-1]. */
    static Arbitrary<String> text(int maxLength) {
        Arbitrary<String> ascii = Arbitraries.strings().withCharRange('a', 'z').withCharRange('0', '9')
                .withChars(' ', '-', '_', '.').ofMaxLength(maxLength);
        Arbitrary<String> unicode = Arbitraries.strings().withChars('a', 'é', 'ß', '中', 'Ω').ofMaxLength(maxLength)
                .map(s -> s + "😀"); // one surrogate pair: 4 bytes in UTF-8
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, ascii),
                net.jqwik.api.Tuple.of(1, unicode));
    }

    static Arbitrary<String> topicName() {
        Arbitrary<String> level = Arbitraries.strings().withCharRange('a', 'z').withChars('ü', '$').ofMaxLength(6);
        return level.list().ofMinSize(1).ofMaxSize(6).map(l -> String.join("/", l)).filter(t -> !t.isEmpty());
    }

    static Arbitrary<String> topicFilter() {
        Arbitrary<String> level = Arbitraries.oneOf(Arbitraries.strings().withCharRange('a', 'z').ofMaxLength(5),
                Arbitraries.just("+"));
        return Combinators.combine(level.list().ofMinSize(1).ofMaxSize(5), Arbitraries.of(false, true))
                .as((levels, hash) -> {
                    String f = String.join("/", levels);
                    return hash ? (f.isEmpty() ? "#" : f + "/#") : f;
                }).filter(f -> !f.isEmpty());
    }

    static Arbitrary<byte[]> bytes(int maxSize) {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(maxSize);
    }

    static Arbitrary<Integer> packetId() {
        return Arbitraries.integers().between(1, 65_535);
    }

    /** A reason code the packet type may carry in 5.0, in the form the decoder returns. */
    static Arbitrary<ReasonCode> reasonCode(PacketType type) {
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
        return Arbitraries.of(valid);
    }

    private static Arbitrary<List<String[]>> userProperties() {
        return Combinators.combine(text(8), text(8)).as((k, v) -> new String[] {k, v}).list().ofMaxSize(3);
    }

    private static Properties withUserProperties(Properties.Builder b, List<String[]> users) {
        for (String[] u : users) {
            b.addUserProperty(u[0], u[1]);
        }
        return b.build();
    }

    private static Arbitrary<Properties> ackProperties(ProtocolVersion v) {
        if (!v.isV5()) {
            return Arbitraries.just(Properties.EMPTY);
        }
        return Combinators.combine(text(20).injectNull(0.5), userProperties())
                .as((reason, users) -> withUserProperties(Properties.builder().reasonString(reason), users));
    }

    // ---------------------------------------------------------------- packets

    static Arbitrary<ConnectPacket> connect(ProtocolVersion v) {
        Arbitrary<Properties> props = v.isV5()
                ? Combinators.combine(Arbitraries.longs().between(0, 0xFFFF_FFFFL).injectNull(0.5),
                        Arbitraries.integers().between(1, 65_535).injectNull(0.5),
                        Arbitraries.longs().between(1, 268_435_460L).injectNull(0.5),
                        Arbitraries.integers().between(0, 65_535).injectNull(0.5),
                        Arbitraries.integers().between(0, 1).injectNull(0.5),
                        Arbitraries.integers().between(0, 1).injectNull(0.5),
                        text(10).injectNull(0.7), userProperties())
                        .as((expiry, receive, maxPacket, aliasMax, rri, rpi, method, users) -> withUserProperties(
                                Properties.builder().sessionExpiryInterval(expiry).receiveMaximum(receive)
                                        .maximumPacketSize(maxPacket).topicAliasMaximum(aliasMax)
                                        .requestResponseInformation(rri).requestProblemInformation(rpi)
                                        .authenticationMethod(method), users))
                : Arbitraries.just(Properties.EMPTY);
        Arbitrary<Properties> willProps = v.isV5()
                ? Combinators.combine(Arbitraries.longs().between(0, 0xFFFF_FFFFL).injectNull(0.5),
                        Arbitraries.integers().between(0, 1).injectNull(0.5), text(10).injectNull(0.5),
                        topicName().injectNull(0.5), bytes(8).injectNull(0.5), userProperties())
                        .as((delay, format, contentType, responseTopic, correlation, users) -> withUserProperties(
                                Properties.builder().willDelayInterval(delay).payloadFormatIndicator(format)
                                        .contentType(contentType).responseTopic(responseTopic)
                                        .correlationData(correlation), users))
                : Arbitraries.just(Properties.EMPTY);
        Arbitrary<Will> will = Combinators.combine(topicName(), bytes(32), Arbitraries.integers().between(0, 2),
                Arbitraries.of(false, true), willProps).as(Will::new).injectNull(0.5);
        Arbitrary<String> user = text(12).injectNull(0.5);
        Arbitrary<byte[]> password = bytes(12).injectNull(0.5);
        return Combinators.combine(text(23), Arbitraries.of(false, true), Arbitraries.integers().between(0, 65_535),
                user, password, will, props).as((id, clean, keepAlive, u, pw, w, p) -> {
                    // 3.1.1: a password needs a user name [MQTT-3.1.2-22]; an empty client id needs clean session
                    byte[] pass = !v.isV5() && u == null ? null : pw;
                    boolean cleanStart = clean || (!v.isV5() && id.isEmpty());
                    return new ConnectPacket(v, id, cleanStart, keepAlive, u, pass, w, p);
                });
    }

    static Arbitrary<ConnAckPacket> connAck(ProtocolVersion v) {
        Arbitrary<ReasonCode> code = v.isV5() ? reasonCode(PacketType.CONNACK)
                : Arbitraries.of(ReasonCode.SUCCESS, ReasonCode.UNSUPPORTED_PROTOCOL_VERSION,
                        ReasonCode.CLIENT_IDENTIFIER_NOT_VALID, ReasonCode.SERVER_UNAVAILABLE,
                        ReasonCode.BAD_USER_NAME_OR_PASSWORD, ReasonCode.NOT_AUTHORIZED);
        Arbitrary<Properties> props = v.isV5()
                ? Combinators.combine(Arbitraries.longs().between(0, 0xFFFF_FFFFL).injectNull(0.5),
                        Arbitraries.integers().between(1, 65_535).injectNull(0.5),
                        Arbitraries.integers().between(0, 1).injectNull(0.5),
                        text(16).injectNull(0.5), Arbitraries.integers().between(0, 65_535).injectNull(0.5),
                        text(16).injectNull(0.5), userProperties())
                        .as((expiry, receive, maxQos, assigned, keepAlive, reason, users) -> withUserProperties(
                                Properties.builder().sessionExpiryInterval(expiry).receiveMaximum(receive)
                                        .maximumQos(maxQos).assignedClientIdentifier(assigned)
                                        .serverKeepAlive(keepAlive).reasonString(reason), users))
                : Arbitraries.just(Properties.EMPTY);
        return Combinators.combine(Arbitraries.of(false, true), code, props)
                // [MQTT-3.2.2-4] / [MQTT-3.2.2-6] Session Present only with success
                .as((present, rc, p) -> new ConnAckPacket(present && !rc.isError() && rc.value() == 0, rc, p));
    }

    static Arbitrary<PublishPacket> publish(ProtocolVersion v) {
        Arbitrary<Properties> props = v.isV5()
                ? Combinators.combine(Arbitraries.integers().between(0, 1).injectNull(0.5),
                        Arbitraries.longs().between(0, 0xFFFF_FFFFL).injectNull(0.5),
                        Arbitraries.integers().between(1, 65_535).injectNull(0.7), topicName().injectNull(0.6),
                        bytes(8).injectNull(0.6), text(12).injectNull(0.6),
                        Arbitraries.integers().between(1, 268_435_455).list().ofMaxSize(2), userProperties())
                        .as((format, expiry, alias, responseTopic, correlation, contentType, subIds, users) -> {
                            Properties.Builder b = Properties.builder().payloadFormatIndicator(format)
                                    .messageExpiryInterval(expiry).topicAlias(alias).responseTopic(responseTopic)
                                    .correlationData(correlation).contentType(contentType);
                            subIds.forEach(b::addSubscriptionIdentifier);
                            return withUserProperties(b, users);
                        })
                : Arbitraries.just(Properties.EMPTY);
        return Combinators.combine(topicName(), Arbitraries.integers().between(0, 2), Arbitraries.of(false, true),
                Arbitraries.of(false, true), packetId(), props, bytes(64))
                .as((topic, qos, retain, dup, id, p, payload) -> new PublishPacket(topic, qos, retain,
                        qos > 0 && dup, qos == 0 ? 0 : id, p, payload)); // [MQTT-3.3.1-2] DUP 0 at QoS 0
    }

    static Arbitrary<PubAckPacket> pubAck(ProtocolVersion v) {
        return Combinators.combine(packetId(), ackCode(v, PacketType.PUBACK), ackProperties(v)).as(PubAckPacket::new);
    }

    static Arbitrary<PubRecPacket> pubRec(ProtocolVersion v) {
        return Combinators.combine(packetId(), ackCode(v, PacketType.PUBREC), ackProperties(v)).as(PubRecPacket::new);
    }

    static Arbitrary<PubRelPacket> pubRel(ProtocolVersion v) {
        return Combinators.combine(packetId(), ackCode(v, PacketType.PUBREL), ackProperties(v)).as(PubRelPacket::new);
    }

    static Arbitrary<PubCompPacket> pubComp(ProtocolVersion v) {
        return Combinators.combine(packetId(), ackCode(v, PacketType.PUBCOMP), ackProperties(v))
                .as(PubCompPacket::new);
    }

    private static Arbitrary<ReasonCode> ackCode(ProtocolVersion v, PacketType type) {
        return v.isV5() ? reasonCode(type) : Arbitraries.just(ReasonCode.SUCCESS);
    }

    static Arbitrary<SubscribePacket> subscribe(ProtocolVersion v) {
        Arbitrary<TopicSubscription> sub = v.isV5()
                ? Combinators.combine(topicFilter(), Arbitraries.integers().between(0, 2), Arbitraries.of(false, true),
                        Arbitraries.of(false, true), Arbitraries.integers().between(0, 2)).as(TopicSubscription::new)
                : Combinators.combine(topicFilter(), Arbitraries.integers().between(0, 2))
                        .as((f, q) -> new TopicSubscription(f, q, false, false, 0));
        Arbitrary<Properties> props = v.isV5()
                ? Combinators.combine(Arbitraries.integers().between(1, 268_435_455).injectNull(0.5), userProperties())
                        .as((id, users) -> {
                            Properties.Builder b = Properties.builder();
                            if (id != null) {
                                b.addSubscriptionIdentifier(id);
                            }
                            return withUserProperties(b, users);
                        })
                : Arbitraries.just(Properties.EMPTY);
        // [MQTT-3.8.3-3] at least one filter
        return Combinators.combine(packetId(), sub.list().ofMinSize(1).ofMaxSize(4), props).as(SubscribePacket::new);
    }

    static Arbitrary<SubAckPacket> subAck(ProtocolVersion v) {
        Arbitrary<ReasonCode> code = v.isV5() ? reasonCode(PacketType.SUBACK)
                : Arbitraries.of(ReasonCode.GRANTED_QOS_0, ReasonCode.GRANTED_QOS_1, ReasonCode.GRANTED_QOS_2,
                        ReasonCode.UNSPECIFIED_ERROR);
        return Combinators.combine(packetId(), code.list().ofMinSize(1).ofMaxSize(4), ackProperties(v))
                .as(SubAckPacket::new);
    }

    static Arbitrary<UnsubscribePacket> unsubscribe(ProtocolVersion v) {
        Arbitrary<Properties> props = v.isV5()
                ? userProperties().map(users -> withUserProperties(Properties.builder(), users))
                : Arbitraries.just(Properties.EMPTY);
        // [MQTT-3.10.3-2] at least one filter
        return Combinators.combine(packetId(), topicFilter().list().ofMinSize(1).ofMaxSize(4), props)
                .as(UnsubscribePacket::new);
    }

    static Arbitrary<UnsubAckPacket> unsubAck(ProtocolVersion v) {
        // 3.x UNSUBACK has no payload: the decoder returns no codes
        Arbitrary<List<ReasonCode>> codes = v.isV5() ? reasonCode(PacketType.UNSUBACK).list().ofMinSize(1).ofMaxSize(4)
                : Arbitraries.just(List.of());
        return Combinators.combine(packetId(), codes, ackProperties(v)).as(UnsubAckPacket::new);
    }

    static Arbitrary<DisconnectPacket> disconnect(ProtocolVersion v) {
        if (!v.isV5()) {
            return Arbitraries.just(DisconnectPacket.NORMAL);
        }
        Arbitrary<Properties> props = Combinators.combine(Arbitraries.longs().between(0, 0xFFFF_FFFFL).injectNull(0.6),
                text(16).injectNull(0.5), text(16).injectNull(0.7), userProperties())
                .as((expiry, reason, reference, users) -> withUserProperties(Properties.builder()
                        .sessionExpiryInterval(expiry).reasonString(reason).serverReference(reference), users));
        return Combinators.combine(reasonCode(PacketType.DISCONNECT), props).as(DisconnectPacket::new);
    }

    static Arbitrary<AuthPacket> auth() {
        Arbitrary<Properties> props = Combinators.combine(text(12), bytes(16).injectNull(0.3), text(16).injectNull(0.6),
                userProperties()).as((method, data, reason, users) -> withUserProperties(Properties.builder()
                        .authenticationMethod(method.isEmpty() ? "m" : method).authenticationData(data)
                        .reasonString(reason), users));
        // 5.0 3.15.2.2.2: an AUTH other than Success without properties carries the Authentication Method
        return Combinators.combine(reasonCode(PacketType.AUTH), props).as(AuthPacket::new);
    }
}
