package io.starling.server.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.starling.broker.config.ListenerConfig;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sits right behind {@code ssl}: a failed TLS handshake (no client certificate where one is required, an
 * untrusted or expired one, no common protocol) is logged in one line and the connection closed, instead of
 * reaching the MQTT handler as an unexpected error with a stack trace.
 */
public final class TlsHandshakeLogger extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(TlsHandshakeLogger.class);

    private final ListenerConfig listener;

    public TlsHandshakeLogger(ListenerConfig listener) {
        this.listener = listener;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent e && !e.isSuccess()) {
            LOG.info("{}: TLS handshake with {} failed: {}", listener.describe(), ctx.channel().remoteAddress(),
                    rootMessage(e.cause()));
            ctx.close();
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        for (Throwable c = cause; c != null; c = c.getCause()) {
            if (c instanceof SSLException) {
                LOG.debug("{}: TLS error from {}: {}", listener.describe(), ctx.channel().remoteAddress(), rootMessage(c));
                ctx.close();
                return;
            }
        }
        super.exceptionCaught(ctx, cause);
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == t ? String.valueOf(t.getMessage()) : t.getMessage() + " (" + root.getMessage() + ")";
    }
}
