package io.starling.server.admin;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.starling.broker.config.AdminConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin listener: a small HTTP server for operations (docs/operations.md) on an event loop group of its own, one
 * thread, so a request (a scrape, say) never runs on an MQTT event loop. Loopback only for now: it has neither TLS
 * nor credentials, so {@link #checkBind} refuses any other address.
 *
 * <p>Pipeline of a connection: {@code read-timeout} → {@code http} (Netty's HTTP/1.1 codec) → {@code aggregator}
 * (requests up to {@link #MAX_REQUEST_BYTES} of body) → {@code admin} ({@link AdminHandler}).
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);

    /** Largest request body accepted: the endpoints take none. */
    static final int MAX_REQUEST_BYTES = 4096;

    /** An idle admin connection is closed after this many seconds. */
    static final int READ_TIMEOUT_SECONDS = 60;

    private final EventLoopGroup group;
    private final Channel channel;
    private final StarlingMetrics metrics;
    private final PrometheusMeterRegistry registry;
    private final AdminHandler handler;

    private AdminServer(AdminConfig config, BooleanSupplier ready, long startNanos) throws InterruptedException {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        metrics = new StarlingMetrics(registry);
        handler = new AdminHandler(registry, ready, startNanos);
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("starling-admin"), NioIoHandler.newFactory());
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline()
                                .addLast("read-timeout", new ReadTimeoutHandler(READ_TIMEOUT_SECONDS))
                                .addLast("http", new HttpServerCodec())
                                .addLast("aggregator", new HttpObjectAggregator(MAX_REQUEST_BYTES))
                                .addLast("admin", handler);
                    }
                });
        try {
            channel = b.bind(new InetSocketAddress(config.bind(), config.port())).sync().channel();
        } catch (InterruptedException e) {
            stop();
            throw e;
        } catch (Exception e) { // sync() rethrows the BindException unchecked
            stop();
            throw new IllegalStateException(config.describe() + ": cannot bind: " + e.getMessage(), e);
        }
        LOG.info("Starling admin listener on http://{}:{} (/metrics, /health/live, /health/ready, /api/v1/overview)",
                config.bind(), port());
    }

    /**
     * Starts the admin listener of {@code config} (which must be enabled) on its own event loop. Until
     * {@link #attach} it serves the health checks and the JVM's metrics only: it starts before the store is opened,
     * so that {@code /health/live} answers while a large store recovers.
     *
     * @param ready whether the broker serves clients: its store recovered and every MQTT listener bound
     * @param startNanos {@link System#nanoTime()} when the broker began to start, for the uptime
     * @throws IllegalArgumentException for a bind address other than loopback
     * @throws IllegalStateException when the port cannot be bound
     */
    public static AdminServer start(AdminConfig config, BooleanSupplier ready, long startNanos)
            throws InterruptedException {
        checkBind(config);
        return new AdminServer(config, ready, startNanos);
    }

    /** Adds the broker's metrics and figures, once its store has recovered. Called once. */
    public void attach(AdminContext ctx) {
        StarlingMetrics.bindBroker(registry, ctx);
        handler.attach(ctx);
    }

    /** Refuses a bind address other than loopback: the admin listener has no TLS and no credentials yet. */
    public static void checkBind(AdminConfig config) {
        boolean loopback;
        try {
            loopback = InetAddress.getByName(config.bind()).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(config.describe() + ": unknown bind address '" + config.bind() + "'", e);
        }
        if (!loopback) {
            throw new IllegalArgumentException(config.describe() + ": the admin listener needs TLS and credentials to"
                    + " listen beyond loopback; not available yet (bind it to 127.0.0.1 or ::1, or set admin: enabled:"
                    + " false)");
        }
    }

    /** The port the admin listener is bound to (the ephemeral one when the config said 0). */
    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** Stops listening, closes the admin connections and the admin event loop; returns when it is done. */
    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        stop();
    }

    private void stop() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        metrics.close();
        registry.close();
    }
}
