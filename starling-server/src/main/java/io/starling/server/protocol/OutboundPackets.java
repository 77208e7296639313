package io.starling.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.starling.codec.PacketEncoder;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.packet.DisconnectPacket;
import io.starling.codec.packet.MqttPacket;
import io.starling.codec.packet.PubAckPacket;
import io.starling.codec.packet.PubCompPacket;
import io.starling.codec.packet.PubRecPacket;
import io.starling.codec.packet.PubRelPacket;
import io.starling.codec.packet.PublishPacket;
import io.starling.codec.packet.SubAckPacket;
import io.starling.codec.packet.UnsubAckPacket;
import java.util.HashMap;
import java.util.Map;

/**
 * What leaves one connection, as bytes: the server side's single place for the client's Maximum Packet Size and
 * for outbound topic aliases (5.0), and the encoding of each packet in the connection's version, sized once.
 *
 * <p>A client without a Maximum Packet Size and without a Topic Alias Maximum (every 3.x client, and most 5.0
 * ones) shares one stateless instance per version ({@link #plain}); only a 5.0 client that set either gets an
 * instance of its own ({@link #of}), whose alias map is created with the first alias.
 *
 * <p>Whether a PUBLISH fits at all is decided before it is sent (the session discards one that is too large
 * [MQTT-3.1.2-25] (5.0), reading {@link #maximumPacketSize}); here a PUBLISH only gets an alias when it still fits
 * with it, and acknowledgements and DISCONNECT lose their Reason String and User Properties when they would not fit
 * otherwise [MQTT-3.4.2-2] (5.0).
 *
 * <p>Thread-safety: confined to the connection's event loop.
 */
final class OutboundPackets {

    private static final OutboundPackets[] PLAIN = new OutboundPackets[ProtocolVersion.values().length];

    static {
        for (ProtocolVersion v : ProtocolVersion.values()) {
            PLAIN[v.ordinal()] = new OutboundPackets(v, Long.MAX_VALUE, 0);
        }
    }

    private final ProtocolVersion version;
    private final long maximumPacketSize;
    private final int topicAliasMaximum;
    /** Topic → alias given on this connection; created with the first alias. */
    private Map<String, Integer> aliases;

    private OutboundPackets(ProtocolVersion version, long maximumPacketSize, int topicAliasMaximum) {
        this.version = version;
        this.maximumPacketSize = maximumPacketSize;
        this.topicAliasMaximum = topicAliasMaximum;
    }

    /** Packets in {@code version} without limits of the client's: shared, stateless. */
    static OutboundPackets plain(ProtocolVersion version) {
        return PLAIN[version.ordinal()];
    }

    /**
     * Packets for a client that announced a Maximum Packet Size and/or a Topic Alias Maximum (5.0).
     *
     * @param maximumPacketSize {@code Long.MAX_VALUE} when the client set none
     * @param topicAliasMaximum 0 when the client accepts no aliases
     */
    static OutboundPackets of(ProtocolVersion version, long maximumPacketSize, int topicAliasMaximum) {
        if (maximumPacketSize == Long.MAX_VALUE && topicAliasMaximum == 0) {
            return plain(version);
        }
        return new OutboundPackets(version, maximumPacketSize, topicAliasMaximum);
    }

    ProtocolVersion version() {
        return version;
    }

    /** The largest packet the client accepts, {@code Long.MAX_VALUE} when it set no limit. */
    long maximumPacketSize() {
        return maximumPacketSize;
    }

    /** {@code packet} as it goes to this client, encoded into a buffer of exactly its size. */
    ByteBuf encode(MqttPacket packet, ByteBufAllocator alloc) {
        MqttPacket p = packet;
        int size;
        if (topicAliasMaximum > 0 && p instanceof PublishPacket publish) {
            p = applyTopicAlias(publish);
            size = PacketEncoder.encodedSize(p, version);
        } else {
            size = PacketEncoder.encodedSize(p, version);
            if (size > maximumPacketSize && !(p instanceof PublishPacket)) {
                p = withoutProperties(p);
                size = PacketEncoder.encodedSize(p, version);
            }
        }
        ByteBuf out = alloc.ioBuffer(size);
        try {
            PacketEncoder.encode(p, version, out);
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
        return out;
    }

    /**
     * Outbound topic aliases (5.0 3.3.2.3.4), policy: the first Topic Alias Maximum distinct topics sent on this
     * connection get an alias for its lifetime; the first PUBLISH of a topic carries topic and alias, later ones
     * the alias and an empty topic. Topics beyond that are sent in full. Aliases do not outlive the connection.
     */
    private PublishPacket applyTopicAlias(PublishPacket p) {
        Integer alias = aliases == null ? null : aliases.get(p.topic());
        if (alias != null) {
            return new PublishPacket("", p.qos(), p.retain(), p.dup(), p.packetId(),
                    p.properties().toBuilder().topicAlias(alias).build(), p.payload());
        }
        int given = aliases == null ? 0 : aliases.size();
        if (given >= topicAliasMaximum) {
            return p;
        }
        int newAlias = given + 1;
        PublishPacket aliased = new PublishPacket(p.topic(), p.qos(), p.retain(), p.dup(), p.packetId(),
                p.properties().toBuilder().topicAlias(newAlias).build(), p.payload());
        if (maximumPacketSize != Long.MAX_VALUE && PacketEncoder.encodedSize(aliased, version) > maximumPacketSize) {
            return p; // [MQTT-3.1.2-24] (5.0) the alias would push it over the client's maximum: sent without
        }
        if (aliases == null) {
            aliases = new HashMap<>();
        }
        aliases.put(p.topic(), newAlias);
        return aliased;
    }

    /**
     * An acknowledgement or DISCONNECT whose Reason String or User Properties would exceed the client's Maximum
     * Packet Size goes without them [MQTT-3.4.2-2] (5.0; the same rule for every other ack and for DISCONNECT).
     */
    private static MqttPacket withoutProperties(MqttPacket packet) {
        return switch (packet.type()) {
            case PUBACK -> new PubAckPacket(((PubAckPacket) packet).packetId(), ((PubAckPacket) packet).reasonCode(),
                    Properties.EMPTY);
            case PUBREC -> new PubRecPacket(((PubRecPacket) packet).packetId(), ((PubRecPacket) packet).reasonCode(),
                    Properties.EMPTY);
            case PUBREL -> new PubRelPacket(((PubRelPacket) packet).packetId(), ((PubRelPacket) packet).reasonCode(),
                    Properties.EMPTY);
            case PUBCOMP -> new PubCompPacket(((PubCompPacket) packet).packetId(),
                    ((PubCompPacket) packet).reasonCode(), Properties.EMPTY);
            case SUBACK -> new SubAckPacket(((SubAckPacket) packet).packetId(), ((SubAckPacket) packet).reasonCodes(),
                    Properties.EMPTY);
            case UNSUBACK -> new UnsubAckPacket(((UnsubAckPacket) packet).packetId(),
                    ((UnsubAckPacket) packet).reasonCodes(), Properties.EMPTY);
            case DISCONNECT -> new DisconnectPacket(((DisconnectPacket) packet).reasonCode(), Properties.EMPTY);
            default -> packet;
        };
    }
}
