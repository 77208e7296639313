package io.starling.server.transport;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.starling.broker.Broker;
import io.starling.broker.auth.ListenerSecurity;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.ListenerConfig;
import io.starling.server.protocol.MqttConnection;

/**
 * Builds the pipeline of a new connection on one listener; the one place that knows what each listener type
 * puts in front of the MQTT handlers. Handler names, from the socket inwards (see docs/architecture.md,
 * "Transports"):
 *
 * <ul>
 *   <li>{@code tcp}: {@code frameDecoder}, {@code encoder}, [{@code keepAlive}], {@code mqtt}</li>
 *   <li>{@code tls}: {@code ssl}, {@code tlsHandshake}, then as {@code tcp}</li>
 *   <li>{@code ws}: {@code wsGuard}, {@code http}, {@code httpAggregator}, {@code webSocket}, {@code wsFrameDecoder},
 *       {@code wsFrameEncoder}, then as {@code tcp}; after the upgrade Netty replaces {@code http} with its
 *       {@code wsencoder}/{@code wsdecoder} and drops {@code httpAggregator}; {@code wsGuard} holds the bytes of
 *       incomplete frames in {@code wsdecoder} to the limits on incomplete packets</li>
 *   <li>{@code wss}: {@code ssl}, {@code tlsHandshake}, then as {@code ws}</li>
 * </ul>
 */
public final class ListenerInitializer extends ChannelInitializer<SocketChannel> {

    /** Subprotocols accepted in the WebSocket handshake: MQTT 3.1.1/5.0 and MQTT 3.1. */
    public static final String SUBPROTOCOLS = "mqtt,mqttv3.1";

    private static final int MAX_HANDSHAKE_REQUEST = 64 * 1024;
    private static final long HANDSHAKE_TIMEOUT_MS = 10_000;

    private final ListenerConfig listener;
    private final Broker broker;
    private final ChannelGroup connections;
    private final ReloadingSslContext ssl;
    private final ListenerSecurity security;
    private final IncompletePacketBudget incomplete;

    /**
     * @param ssl the listener's TLS context, {@code null} for {@code tcp} and {@code ws}
     * @param security how the listener authenticates its clients
     * @param incomplete the broker's bound of bytes held for incomplete packets
     */
    public ListenerInitializer(ListenerConfig listener, Broker broker, ChannelGroup connections, ReloadingSslContext ssl,
            ListenerSecurity security, IncompletePacketBudget incomplete) {
        if (listener.type().secure() != (ssl != null)) {
            throw new IllegalArgumentException(listener.describe() + ": TLS context mismatch");
        }
        this.listener = listener;
        this.broker = broker;
        this.connections = connections;
        this.ssl = ssl;
        this.security = security;
        this.incomplete = incomplete;
    }

    public ListenerConfig listener() {
        return listener;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        connections.add(ch);
        ChannelPipeline p = ch.pipeline();
        if (ssl != null) {
            // the context current at accept time: a reload affects new connections only
            p.addLast("ssl", ssl.current().newHandler(ch.alloc()))
                    .addLast("tlsHandshake", new TlsHandshakeLogger(listener));
        }
        int maxPacketSize = broker.config().maxPacketSize();
        BrokerConfig.Limits limits = broker.config().limits();
        if (listener.type().webSocket()) {
            WebSocketServerProtocolConfig ws = WebSocketServerProtocolConfig.newBuilder()
                    .websocketPath(listener.path())
                    .subprotocols(SUBPROTOCOLS)
                    .checkStartsWith(false)
                    .allowExtensions(false)
                    // one frame may carry a whole packet (or several): allow the largest packet accepted
                    .maxFramePayloadLength(Math.max(maxPacketSize, 64 * 1024))
                    .handshakeTimeoutMillis(HANDSHAKE_TIMEOUT_MS)
                    .build();
            p.addLast("wsGuard", new WebSocketFrameGuard(incomplete, limits.incompletePacketTimeout()))
                    .addLast("http", new HttpServerCodec())
                    .addLast("httpAggregator", new HttpObjectAggregator(MAX_HANDSHAKE_REQUEST))
                    .addLast("webSocket", new WebSocketServerProtocolHandler(ws))
                    .addLast("wsFrameDecoder", new WebSocketFrameDecoder())
                    .addLast("wsFrameEncoder", new WebSocketFrameEncoder());
        }
        MqttConnection connection = new MqttConnection(broker, security);
        p.addLast("frameDecoder", new MqttFrameDecoder(maxPacketSize, limits.maxConnectPacketSize(), incomplete,
                        limits.incompletePacketTimeout()))
                .addLast("encoder", new MqttPacketEncoder(connection::version))
                .addLast("mqtt", connection);
    }
}
