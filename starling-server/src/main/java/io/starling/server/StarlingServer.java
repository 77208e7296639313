package io.starling.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.starling.broker.Broker;
import io.starling.broker.auth.InMemoryScramCredentialStore;
import io.starling.broker.auth.ScramSha256Authenticator;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.starling.broker.config.BrokerConfig;
import io.starling.codec.ReasonCode;
import io.starling.server.protocol.MqttConnection;
import io.starling.server.transport.MqttFrameDecoder;
import io.starling.server.transport.MqttPacketEncoder;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Starling broker: the MQTT listener, its event loops and the engine. Start with
 * {@link #start(BrokerConfig)}, stop with {@link #close()}. Thread-safe.
 *
 * <p>Pipeline of an MQTT connection, in order: {@code frameDecoder} (bytes → packets, size limit before
 * buffering), {@code encoder} (packets → bytes in the connection's version), {@code keepAlive} (added after
 * CONNECT when the keep-alive is non-zero), {@code mqtt} (the protocol state machine).
 */
public final class StarlingServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StarlingServer.class);

    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final Broker broker;
    private final Channel serverChannel;
    private final ChannelGroup connections = new DefaultChannelGroup("mqtt-connections", GlobalEventExecutor.INSTANCE);
    private final int port;

    private StarlingServer(BrokerConfig config) throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        bossGroup = new MultiThreadIoEventLoopGroup(1, io);
        // one loop per core: more loops only add hand-offs between them (see docs/architecture.md)
        int ioThreads = config.ioThreads() > 0 ? config.ioThreads() : Runtime.getRuntime().availableProcessors();
        workerGroup = new MultiThreadIoEventLoopGroup(ioThreads, io);
        broker = new Broker(config, workerGroup);
        // 5.0 enhanced authentication: SCRAM-SHA-256 is built in; its users come from the config
        broker.enhancedAuth().register(new ScramSha256Authenticator(
                InMemoryScramCredentialStore.fromPasswords(config.scramUsers())));
        Class<? extends ServerSocketChannel> channelClass = epoll ? EpollServerSocketChannel.class
                : NioServerSocketChannel.class;
        ServerBootstrap b = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(channelClass)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 128 * 1024))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.add(ch);
                        MqttConnection connection = new MqttConnection(broker);
                        ch.pipeline()
                                .addLast("frameDecoder", new MqttFrameDecoder(config.maxPacketSize()))
                                .addLast("encoder", new MqttPacketEncoder(connection::version))
                                .addLast("mqtt", connection);
                    }
                });
        try {
            serverChannel = b.bind(new InetSocketAddress(config.bindAddress(), config.port())).sync().channel();
        } catch (RuntimeException | InterruptedException e) {
            shutdownGroups();
            throw e;
        }
        port = ((InetSocketAddress) serverChannel.localAddress()).getPort();
        LOG.info("Starling listening for MQTT on {}:{} ({} transport, {} event loops)", config.bindAddress(), port,
                epoll ? "epoll" : "nio", loopCount(workerGroup));
    }

    private static int loopCount(EventLoopGroup group) {
        int n = 0;
        for (var it = group.iterator(); it.hasNext(); it.next()) {
            n++;
        }
        return n;
    }

    /** Starts a broker and returns once its listener accepts connections. */
    public static StarlingServer start(BrokerConfig config) {
        try {
            return new StarlingServer(config);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting", e);
        }
    }

    /** The port the MQTT listener is bound to (the ephemeral one when the config said 0). */
    public int port() {
        return port;
    }

    public Broker broker() {
        return broker;
    }

    /**
     * Stops accepting, disconnects every client (5.0 clients get DISCONNECT 0x8B, server shutting down), then
     * stops the event loops; returns when they are done.
     */
    @Override
    public void close() {
        serverChannel.close().syncUninterruptibly();
        for (Channel ch : connections) {
            MqttConnection c = ch.pipeline().get(MqttConnection.class);
            if (c != null) {
                ch.eventLoop().execute(() -> c.closeWithReason(ReasonCode.SERVER_SHUTTING_DOWN));
            }
        }
        connections.newCloseFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
        shutdownGroups();
        LOG.info("Starling stopped");
    }

    private void shutdownGroups() {
        bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
