package io.starling.server.transport;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageDecoder;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import java.util.List;

/**
 * Inbound side of MQTT over WebSocket: the payload of each binary (or continuation) frame goes on as a plain
 * {@code ByteBuf} to {@link MqttFrameDecoder}, which does not care where frames begin or end, so a packet split
 * over frames and several packets in one frame both work. A text frame is not MQTT: the connection is closed
 * with status 1003. An HTTP request that the WebSocket handshake handler passed on (another path) is answered
 * with 404.
 */
public final class WebSocketFrameDecoder extends MessageToMessageDecoder<Object> {

    public WebSocketFrameDecoder() {
        super(Object.class);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, Object msg, List<Object> out) {
        if (msg instanceof BinaryWebSocketFrame || msg instanceof ContinuationWebSocketFrame) {
            out.add(((WebSocketFrame) msg).content().retain());
        } else if (msg instanceof WebSocketFrame) {
            ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.INVALID_MESSAGE_TYPE, "MQTT needs binary frames"))
                    .addListener(ChannelFutureListener.CLOSE);
        } else if (msg instanceof FullHttpRequest) {
            FullHttpResponse notFound = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_FOUND,
                    Unpooled.EMPTY_BUFFER);
            notFound.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
            ctx.writeAndFlush(notFound).addListener(ChannelFutureListener.CLOSE);
        } else {
            out.add(ReferenceCountUtil.retain(msg));
        }
    }
}
