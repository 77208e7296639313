package io.starling.server.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import io.starling.codec.PacketEncoder;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.packet.MqttPacket;
import java.util.function.Supplier;

/**
 * Encodes outbound packets in the connection's protocol version into a buffer of exactly the packet's size.
 * Not sharable: one per channel.
 */
public final class MqttPacketEncoder extends MessageToByteEncoder<MqttPacket> {

    private final Supplier<ProtocolVersion> version;

    public MqttPacketEncoder(Supplier<ProtocolVersion> version) {
        super(MqttPacket.class);
        this.version = version;
    }

    @Override
    protected ByteBuf allocateBuffer(ChannelHandlerContext ctx, MqttPacket msg, boolean preferDirect) {
        int size = PacketEncoder.encodedSize(msg, versionOrDefault());
        return preferDirect ? ctx.alloc().ioBuffer(size) : ctx.alloc().heapBuffer(size);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, MqttPacket msg, ByteBuf out) {
        PacketEncoder.encode(msg, versionOrDefault(), out);
    }

    private ProtocolVersion versionOrDefault() {
        ProtocolVersion v = version.get();
        return v == null ? ProtocolVersion.MQTT_3_1_1 : v;
    }
}
