package io.starling.server.admin;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.starling.broker.config.BrokerConfig;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin listener's HTTP handler: authenticates each request ({@link AdminAuth}), hands it to the
 * {@link AdminRouter} (whose endpoints are {@link OverviewApi}, {@link ClientsApi}, {@link SubscriptionsApi},
 * {@link RetainedApi}, {@link PublishApi}, {@link ConfigApi}, {@link OpenApiDocument} and {@link DashboardFiles}),
 * writes the answer when it is ready, and logs every request, one line through the logger
 * {@value #ACCESS_LOGGER}: at INFO for those that change something (POST, PUT, PATCH, DELETE), at DEBUG for reads.
 *
 * <p>An endpoint may answer later (a future completed on a session's loop or the store's thread): the connection reads
 * nothing more until the answer is written, so answers go out in the order of the requests.
 *
 * <p>Thread-safety: sharable; runs on the admin event loop only, never on an MQTT one.
 */
@ChannelHandler.Sharable
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger LOG = LoggerFactory.getLogger(AdminHandler.class);
    /** The name of the access log's logger. */
    static final String ACCESS_LOGGER = "io.starling.admin.access";
    private static final Logger ACCESS = LoggerFactory.getLogger(ACCESS_LOGGER);

    private final AdminRouter router = new AdminRouter();
    private final AdminAuth auth;
    /** The broker's figures; {@code null} until its store has recovered. */
    private volatile AdminContext ctx;
    /** The history; {@code null} until the broker is attached. */
    private volatile HistorySampler history;

    /**
     * A handler without credentials (loopback), for tests.
     *
     * @param ready whether the broker serves clients: its store recovered and every MQTT listener bound
     * @param startNanos {@link System#nanoTime()} when the broker began to start, for the uptime
     */
    AdminHandler(PrometheusMeterRegistry registry, BooleanSupplier ready, long startNanos) {
        this(registry, ready, startNanos, AdminAuth.NONE, null);
    }

    /**
     * @param auth who may use the listener
     * @param config the effective configuration (for {@code /api/v1/config}); {@code null} for none
     */
    AdminHandler(PrometheusMeterRegistry registry, BooleanSupplier ready, long startNanos, AdminAuth auth,
            BrokerConfig config) {
        this.auth = auth;
        new OverviewApi(registry, ready, startNanos, () -> ctx, () -> history).register(router);
        new ClientsApi(this::context).register(router);
        new SubscriptionsApi(this::context).register(router);
        new RetainedApi(this::context).register(router);
        new PublishApi(this::context).register(router);
        new ConfigApi(() -> config != null ? config : context().broker().config()).register(router);
        new OpenApiDocument().register(router);
        new DashboardFiles().register(router);
    }

    /** From now on the API shows the broker of {@code c}. */
    void attach(AdminContext c) {
        ctx = c;
    }

    /** From now on the history and the overview's rates come from {@code h}. */
    void attach(HistorySampler h) {
        history = h;
    }

    AdminRouter router() {
        return router;
    }

    /** The broker's figures; 503 while its store is still recovering. */
    private AdminContext context() {
        AdminContext c = ctx;
        if (c == null) {
            throw new ApiException(HttpResponseStatus.SERVICE_UNAVAILABLE,
                    "the broker is starting: its store is being recovered", null);
        }
        return c;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext c, FullHttpRequest req) {
        long t0 = System.nanoTime();
        HttpMethod method = req.method();
        String uri = req.uri();
        SocketAddress remote = c.channel().remoteAddress();
        Runnable handle;
        if (!req.decoderResult().isSuccess()) {
            // answered, then closed, after whatever came before it
            FullHttpResponse bad = Responses.error(HttpResponseStatus.BAD_REQUEST, "malformed request", null);
            handle = () -> answer(c, bad, false, false, method, uri, null, remote, t0);
        } else {
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            boolean http10 = req.protocolVersion().equals(HttpVersion.HTTP_1_0);
            AdminRequest r = AdminRequest.of(method, uri, req.headers().copy(), ByteBufUtil.getBytes(req.content()));
            handle = () -> handle(c, r, keepAlive, http10, remote, t0);
        }
        // one request at a time per connection: the answers go out in the order of the requests, even to a client
        // that pipelines (requests already decoded wait their turn; no more are read meanwhile)
        c.channel().config().setAutoRead(false);
        Turns turns = c.channel().attr(TURNS).setIfAbsent(new Turns());
        if (turns == null) {
            turns = c.channel().attr(TURNS).get();
        }
        if (turns.busy) {
            turns.waiting.add(handle);
        } else {
            turns.busy = true;
            handle.run();
        }
    }

    /** The requests of one connection: whether one is being answered, and those decoded meanwhile. */
    private static final class Turns {
        boolean busy;
        final java.util.ArrayDeque<Runnable> waiting = new java.util.ArrayDeque<>(1);
    }

    private static final io.netty.util.AttributeKey<Turns> TURNS = io.netty.util.AttributeKey.valueOf("admin-turns");

    private void handle(ChannelHandlerContext c, AdminRequest r, boolean keepAlive, boolean http10,
            SocketAddress remote, long t0) {
        HttpMethod method = r.method();
        String uri = r.uri();
        CompletionStage<AdminAuth.Result> who = auth.check(r.headers(), remote);
        who.thenCompose(a -> {
            if (!a.allowed()) {
                return CompletableFuture.completedFuture(a.blocked() ? auth.tooManyFailures() : AdminAuth.challenge(a.reason()));
            }
            return router.dispatch(r);
        }).whenComplete((res, err) -> {
            FullHttpResponse out = err == null ? res : failure(err, method, uri);
            String user = who.toCompletableFuture().getNow(AdminAuth.Result.ANONYMOUS).user();
            if (c.executor().inEventLoop()) {
                answer(c, out, keepAlive, http10, method, uri, user, remote, t0);
            } else {
                c.executor().execute(() -> answer(c, out, keepAlive, http10, method, uri, user, remote, t0));
            }
        });
    }

    private void answer(ChannelHandlerContext c, FullHttpResponse res, boolean keepAlive, boolean http10,
            HttpMethod method, String uri, String user, SocketAddress remote, long t0) {
        if (keepAlive && http10) {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        write(c, res, keepAlive, method, uri, user, remote, t0);
        if (!keepAlive) {
            return; // closed once written
        }
        Turns turns = c.channel().attr(TURNS).get();
        Runnable next = turns.waiting.poll();
        if (next != null) {
            next.run();
        } else {
            turns.busy = false;
            c.channel().config().setAutoRead(true);
        }
    }

    private static void write(ChannelHandlerContext c, FullHttpResponse res, boolean keepAlive, HttpMethod method,
            String uri, String user, SocketAddress remote, long t0) {
        HttpUtil.setContentLength(res, res.content().readableBytes());
        if (!keepAlive) {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        var f = c.writeAndFlush(res);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
        log(method, uri, res.status().code(), user, remote, t0);
    }

    /** The access log: one line per request, INFO for changes, DEBUG for reads. */
    static void log(HttpMethod method, String uri, int status, String user, SocketAddress remote, long t0) {
        boolean mutating = !(method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD)
                || method.equals(HttpMethod.OPTIONS));
        if (mutating ? ACCESS.isInfoEnabled() : ACCESS.isDebugEnabled()) {
            String address = remote instanceof InetSocketAddress a && a.getAddress() != null
                    ? a.getAddress().getHostAddress() + ":" + a.getPort() : String.valueOf(remote);
            long micros = (System.nanoTime() - t0) / 1000;
            String line = "{} {} {} user={} address={} {}.{} ms";
            Object[] args = {method.name(), uri, status, user == null ? "-" : user, address, micros / 1000,
                String.format("%03d", micros % 1000)};
            if (mutating) {
                ACCESS.info(line, args);
            } else {
                ACCESS.debug(line, args);
            }
        }
    }

    /** The answer to an endpoint that failed. */
    private static FullHttpResponse failure(Throwable err, HttpMethod method, String uri) {
        Throwable e = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        if (e instanceof ApiException a) {
            return Responses.error(a);
        }
        if (e instanceof TimeoutException) {
            return Responses.error(HttpResponseStatus.SERVICE_UNAVAILABLE, "the broker did not answer in time", null);
        }
        LOG.warn("admin {} {} failed", method, uri, e);
        return Responses.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, String.valueOf(e.getMessage()), null);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext c, Throwable cause) {
        LOG.debug("admin connection {} closed: {}", c.channel().remoteAddress(), cause.toString());
        c.close();
    }
}
