package io.starling.cli.client;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The network side of the client tools: one event loop group (epoll when available, else NIO) and the
 * bootstrap of an MQTT-over-TCP connection.
 *
 * <p>This is the one place where the byte stream under MQTT is set up. TLS ({@code SslHandler} first in the
 * pipeline) and WebSocket ({@code HttpClientCodec}, {@code WebSocketClientProtocolHandler} and a frame/ByteBuf
 * adapter) will be added in {@link #initTransport}, chosen by a URL scheme (mqtts, ws, wss) passed in here;
 * everything above it (framing, MQTT) stays the same.
 */
public final class Transport implements AutoCloseable {

    private final EventLoopGroup group;
    private final Class<? extends SocketChannel> channelClass;
    private final boolean epoll;

    /** A transport with {@code threads} event loops (at least one), on epoll where it is available. */
    public Transport(int threads) {
        this(threads, Epoll.isAvailable());
    }

    private Transport(int threads, boolean epoll) {
        this.epoll = epoll;
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        group = new MultiThreadIoEventLoopGroup(Math.max(1, threads), io);
        channelClass = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    /**
     * A transport for the one connection of a command-line client (pub, sub): one NIO event loop. Epoll would
     * gain nothing for one connection, and loading its native library (unpacked from the jar each time) would
     * add to the start-up of every command.
     */
    public static Transport forOneConnection() {
        return new Transport(1, false);
    }

    /** "epoll" or "nio". */
    public String kind() {
        return epoll ? "epoll" : "nio";
    }

    public EventLoopGroup group() {
        return group;
    }

    /**
     * Starts a connection to {@code remote}, from {@code local} when not {@code null}; {@code handler} is added to
     * the pipeline above the transport handlers and sees {@code channelActive} once the byte stream is up.
     */
    public io.netty.channel.ChannelFuture connect(SocketAddress remote, InetSocketAddress local, ChannelHandler handler,
            int connectTimeoutMillis) {
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(channelClass)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, false)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 128 * 1024))
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        initTransport(ch);
                        ch.pipeline().addLast("mqtt", handler);
                    }
                });
        return local == null ? b.connect(remote) : b.connect(remote, local);
    }

    /** Where TLS and WebSocket handlers will go; plain TCP needs none. */
    private static void initTransport(Channel ch) {
        // plain TCP: nothing to add
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
