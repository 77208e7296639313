package io.starling.server.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import java.util.List;

/** Outbound side of MQTT over WebSocket: every encoded packet ({@code ByteBuf}) goes out as one binary frame. */
public final class WebSocketFrameEncoder extends MessageToMessageEncoder<ByteBuf> {

    public WebSocketFrameEncoder() {
        super(ByteBuf.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, ByteBuf msg, List<Object> out) {
        out.add(new BinaryWebSocketFrame(msg.retain()));
    }
}
