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
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.starling.broker.config.AdminConfig;
import io.starling.broker.auth.AuthFailureLimiter;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.SecurityConfig;
import io.starling.server.transport.ReloadingSslContext;
import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin listener: a small HTTP(S) server for operations (docs/operations.md) on an event loop group of its own,
 * one thread, so a request (a scrape, say) never runs on an MQTT event loop. On loopback it may run without TLS and
 * credentials; beyond loopback {@link #checkBind} requires both.
 *
 * <p>Pipeline of a connection: [{@code tls}] → {@code read-timeout} → {@code http} (Netty's HTTP/1.1 codec) →
 * {@code aggregator} (bodies up to {@link #MAX_REQUEST_BYTES}; larger ones get 413) → {@code admin}
 * ({@link AdminHandler}).
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);

    /** Largest request body accepted (1 MiB); a larger one is answered 413. */
    static final int MAX_REQUEST_BYTES = 1024 * 1024;

    /** An idle admin connection is closed after this many seconds. */
    static final int READ_TIMEOUT_SECONDS = 60;

    /** How often the password and token files are looked at for changes. */
    static final int RELOAD_SECONDS = 5;

    private final EventLoopGroup group;
    private final Channel channel;
    private final StarlingMetrics metrics;
    private final PrometheusMeterRegistry registry;
    private final AdminHandler handler;
    private final ExecutorService verifier;
    private final boolean https;

    private AdminServer(AdminConfig config, Path passwordFile, BrokerConfig broker, BooleanSupplier ready,
            long startNanos) throws InterruptedException {
        SslContext ssl = config.tls() == null ? null : sslContext(config);
        https = ssl != null;
        verifier = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(64),
                new DefaultThreadFactory("starling-admin-auth", true));
        AdminAuth auth;
        try {
            // bad credentials count against their address with the limits of MQTT logins (security: auth-failure-*)
            SecurityConfig sc = broker != null ? broker.security() : SecurityConfig.defaults();
            auth = AdminAuth.of(config, passwordFile, verifier,
                    new AuthFailureLimiter(sc.authFailureLimit(), sc.authFailureWindow(), sc.authBlock()));
        } catch (RuntimeException e) {
            verifier.shutdownNow();
            throw e;
        }
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        metrics = new StarlingMetrics(registry);
        handler = new AdminHandler(registry, ready, startNanos, auth, broker);
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("starling-admin"), NioIoHandler.newFactory());
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (ssl != null) {
                            ch.pipeline().addLast("tls", ssl.newHandler(ch.alloc()));
                        }
                        ch.pipeline()
                                .addLast("read-timeout", new ReadTimeoutHandler(READ_TIMEOUT_SECONDS))
                                .addLast("http", new HttpServerCodec())
                                .addLast("aggregator", new BodyLimit())
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
        if (auth.required()) {
            group.scheduleWithFixedDelay(() -> {
                try {
                    verifier.execute(auth::reload);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    // the verifier is busy (or stopping): the files are looked at next time
                }
            }, RELOAD_SECONDS, RELOAD_SECONDS, TimeUnit.SECONDS);
        }
        LOG.info("Starling admin listener on {}://{}:{} ({}; API /api/v1, dashboard /)", https ? "https" : "http",
                config.bind(), port(), auth.required() ? "credentials required" : "no credentials");
    }

    /** The aggregator of request bodies: one over {@link #MAX_REQUEST_BYTES} is answered 413 (JSON) and dropped. */
    private static final class BodyLimit extends HttpObjectAggregator {
        BodyLimit() {
            super(MAX_REQUEST_BYTES);
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
            if (!(oversized instanceof HttpRequest req)) {
                ctx.close();
                return;
            }
            long t0 = System.nanoTime();
            FullHttpResponse res = Responses.error(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                    "request body larger than " + MAX_REQUEST_BYTES + " bytes", "body");
            HttpUtil.setContentLength(res, res.content().readableBytes());
            // as Netty's own aggregator: a keep-alive request whose body is still coming keeps its connection, and the
            // rest of the body is read and dropped, so that the client, still sending, gets to read the answer
            boolean close = oversized instanceof FullHttpMessage || !HttpUtil.isKeepAlive(req);
            if (close) {
                res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
            }
            AdminHandler.log(req.method(), req.uri(), res.status().code(), null, ctx.channel().remoteAddress(), t0);
        }
    }

    /**
     * Starts the admin listener of {@code config} (which must be enabled) on its own event loop, without credentials
     * checked against a password file and without the configuration shown; see
     * {@link #start(AdminConfig, Path, BrokerConfig, BooleanSupplier, long)}.
     */
    public static AdminServer start(AdminConfig config, BooleanSupplier ready, long startNanos)
            throws InterruptedException {
        return start(config, null, null, ready, startNanos);
    }

    /**
     * Starts the admin listener of {@code config} (which must be enabled) on its own event loop. Until
     * {@link #attach} it serves the health checks and the JVM's metrics only: it starts before the store is opened,
     * so that {@code /health/live} answers while a large store recovers.
     *
     * @param passwordFile the broker's password file, where {@code admin: users} are checked; {@code null} for none
     * @param broker the effective configuration, for {@code /api/v1/config}; {@code null} to take the attached broker's
     * @param ready whether the broker serves clients: its store recovered and every MQTT listener bound
     * @param startNanos {@link System#nanoTime()} when the broker began to start, for the uptime
     * @throws IllegalArgumentException for a bind address beyond loopback without TLS and credentials, or unusable
     *     TLS or credential files
     * @throws IllegalStateException when the port cannot be bound
     */
    public static AdminServer start(AdminConfig config, Path passwordFile, BrokerConfig broker, BooleanSupplier ready,
            long startNanos) throws InterruptedException {
        checkBind(config);
        return new AdminServer(config, passwordFile, broker, ready, startNanos);
    }

    /** The registry of {@code GET /metrics}, for meters registered by other parts of the server (the bridges). */
    public io.micrometer.core.instrument.MeterRegistry registry() {
        return registry;
    }

    /** Adds the broker's metrics and figures, once its store has recovered, and starts the history. Called once. */
    public void attach(AdminContext ctx) {
        StarlingMetrics.bindBroker(registry, ctx);
        handler.attach(ctx);
        HistorySampler h = new HistorySampler(ctx, group.next(), System::nanoTime);
        handler.attach(h);
        h.start();
    }

    /**
     * Refuses a bind address beyond loopback unless the listener has TLS ({@code admin: tls}) and credentials
     * ({@code admin: users} or {@code admin: token-file}).
     */
    public static void checkBind(AdminConfig config) {
        boolean loopback;
        try {
            loopback = InetAddress.getByName(config.bind()).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(config.describe() + ": unknown bind address '" + config.bind() + "'", e);
        }
        if (loopback) {
            return;
        }
        if (config.tls() == null || !config.requiresCredentials()) {
            throw new IllegalArgumentException(config.describe() + ": an admin listener beyond loopback needs TLS"
                    + " (admin: tls: cert-file, key-file) and credentials (admin: users and/or admin: token-file);"
                    + " missing: " + (config.tls() == null ? "admin: tls" : "")
                    + (config.tls() == null && !config.requiresCredentials() ? ", " : "")
                    + (config.requiresCredentials() ? "" : "admin: users or admin: token-file")
                    + " (or bind it to 127.0.0.1 or ::1, or set admin: enabled: false)");
        }
    }

    /** The TLS context of {@code admin: tls}, with the MQTT listeners' provider, protocols and cipher suites. */
    private static SslContext sslContext(AdminConfig config) {
        AdminConfig.Tls t = config.tls();
        try {
            File cert = t.certFile().toFile();
            File key = t.keyFile().toFile();
            return SslContextBuilder.forServer(cert, key, t.keyPassword())
                    .sslProvider(ReloadingSslContext.provider())
                    .protocols(ReloadingSslContext.DEFAULT_PROTOCOLS)
                    .ciphers(ReloadingSslContext.DEFAULT_CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                    .build();
        } catch (Exception e) { // SSLException, or IllegalArgumentException for unreadable files
            throw new IllegalArgumentException(config.describe() + ": cannot set up TLS (admin: tls): "
                    + e.getMessage(), e);
        }
    }

    /** Whether the listener speaks HTTPS. */
    public boolean https() {
        return https;
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
        verifier.shutdownNow();
        metrics.close();
        registry.close();
    }
}
