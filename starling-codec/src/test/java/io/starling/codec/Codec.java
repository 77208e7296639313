package io.starling.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.starling.codec.packet.ConnectPacket;
import io.starling.codec.packet.MqttPacket;

/** Test helpers: frame a byte array, decode it, encode packets; every buffer is released. */
final class Codec {

    private Codec() {
    }

    /** Decodes a whole packet (fixed header included) sent by a client; {@code version} null means CONNECT. */
    static MqttPacket decode(byte[] bytes, ProtocolVersion version) throws DecodeException {
        return decode(bytes, version, PacketDecoder.Sender.CLIENT);
    }

    static MqttPacket decode(byte[] bytes, ProtocolVersion version, PacketDecoder.Sender sender) throws DecodeException {
        ByteBuf buf = Unpooled.wrappedBuffer(bytes);
        try {
            long peeked = FixedHeader.peekRemainingLength(buf);
            assertThat(peeked).as("complete fixed header").isNotNegative();
            int headerSize = FixedHeader.headerSize(peeked);
            int remaining = FixedHeader.remainingLength(peeked);
            assertThat(headerSize + remaining).as("test bytes match their remaining length").isEqualTo(bytes.length);
            ByteBuf body = buf.slice(headerSize, remaining);
            int firstByte = bytes[0] & 0xFF;
            MqttPacket packet = version == null ? PacketDecoder.decodeConnect(firstByte, body)
                    : PacketDecoder.decode(firstByte, body, version, sender);
            assertThat(body.isReadable()).as("body consumed").isFalse();
            return packet;
        } finally {
            buf.release();
        }
    }

    static ConnectPacket decodeConnect(byte[] bytes) throws DecodeException {
        return (ConnectPacket) decode(bytes, null);
    }

    /** The reason code of the DecodeException the packet raises; fails when it decodes. */
    static ReasonCode failure(byte[] bytes, ProtocolVersion version) {
        try {
            MqttPacket p = decode(bytes, version);
            return fail("expected a DecodeException, decoded " + p);
        } catch (DecodeException e) {
            return e.reasonCode();
        }
    }

    /** Encodes with a pooled allocator and returns the bytes, checking encodedSize. */
    static byte[] encode(MqttPacket packet, ProtocolVersion version) {
        ByteBuf buf = PacketEncoder.encode(PooledByteBufAllocator.DEFAULT, packet, version);
        try {
            assertThat(buf.readableBytes()).as("encodedSize").isEqualTo(PacketEncoder.encodedSize(packet, version));
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }

    /** Encodes then decodes (as sent by {@code sender}); CONNECT goes through decodeConnect. */
    static MqttPacket roundTrip(MqttPacket packet, ProtocolVersion version, PacketDecoder.Sender sender)
            throws DecodeException {
        byte[] bytes = encode(packet, version);
        if (packet instanceof ConnectPacket) {
            return decode(bytes, null);
        }
        return decode(bytes, version, sender);
    }
}
