package io.starling.server.pipeline;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.starling.broker.Broker;
import io.starling.broker.auth.ListenerSecurity;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.ListenerConfig;
import io.starling.server.protocol.ConnectionSweepers;
import io.starling.server.protocol.MqttConnection;
import io.starling.server.protocol.ProtocolSetup;
import io.starling.server.transport.ClientCertificates;
import io.starling.server.transport.IncompletePacketBudget;
import io.starling.server.transport.MqttFrameDecoder;
import io.starling.server.transport.ReloadingSslContext;
import io.starling.server.transport.TlsHandshakeLogger;
import io.starling.server.transport.WebSocketFrameDecoder;
import io.starling.server.transport.WebSocketFrameEncoder;
import io.starling.server.transport.WebSocketFrameGuard;

/**
 * Builds the pipeline of a new connection on one listener; the one place that knows what each listener type
 * puts in front of the MQTT handler, and the one that joins the two layers below it: the transport's handlers
 * ({@code transport}) and the protocol handler ({@code protocol}), which know nothing of each other. Handler names,
 * from the socket inwards (see docs/architecture.md, "Transports"):
 *
 * <ul>
 *   <li>{@code tcp}: {@code frameDecoder}, {@code mqtt} (which also encodes what it writes)</li>
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
    private final ReloadingSslContext ssl;
    private final IncompletePacketBudget incomplete;
    private final ProtocolSetup setup;
    private final MqttFrameDecoder.Limits decoderLimits;

    /**
     * @param ssl the listener's TLS context, {@code null} for {@code tcp} and {@code ws}
     * @param security how the listener authenticates its clients
     * @param incomplete the broker's bound of bytes held for incomplete packets
     * @param sweepers the deadline sweepers of the event loops (shared by all listeners)
     */
    public ListenerInitializer(ListenerConfig listener, Broker broker, ReloadingSslContext ssl,
            ListenerSecurity security, IncompletePacketBudget incomplete, ConnectionSweepers sweepers) {
        if (listener.type().secure() != (ssl != null)) {
            throw new IllegalArgumentException(listener.describe() + ": TLS context mismatch");
        }
        this.listener = listener;
        this.broker = broker;
        this.ssl = ssl;
        this.incomplete = incomplete;
        this.setup = new ProtocolSetup(broker, security, sweepers, ClientCertificates::of);
        BrokerConfig.Limits limits = broker.config().limits();
        this.decoderLimits = new MqttFrameDecoder.Limits(broker.config().maxPacketSize(),
                limits.maxConnectPacketSize(), incomplete, limits.incompletePacketTimeout(), broker.metrics().bytesReceived);
    }

    public ListenerConfig listener() {
        return listener;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
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
        MqttFrameDecoder decoder = new MqttFrameDecoder(decoderLimits);
        p.addLast("frameDecoder", decoder).addLast("mqtt", new MqttConnection(setup, decoder));
    }
}
