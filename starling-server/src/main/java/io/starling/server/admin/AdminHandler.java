package io.starling.server.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The routes of the admin listener: {@code GET /metrics} (Prometheus text format), {@code GET /health/live},
 * {@code GET /health/ready} and {@code GET /api/v1/overview} (JSON). An unknown path is answered 404, another method
 * than GET on a known path 405, both with a JSON {@code {"error": "..."}}. Each request is logged at DEBUG, one line.
 *
 * <p>Thread-safety: sharable; runs on the admin event loop only, never on an MQTT one.
 */
@ChannelHandler.Sharable
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger LOG = LoggerFactory.getLogger(AdminHandler.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The Prometheus text exposition format, version 0.0.4. */
    static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final String JSON_CONTENT_TYPE = "application/json";
    /** The paths served; each answers GET only. */
    static final List<String> PATHS = List.of("/metrics", "/health/live", "/health/ready", "/api/v1/overview");

    private final PrometheusMeterRegistry registry;
    private final BooleanSupplier ready;
    private final long startNanos;
    /** The broker's figures; {@code null} until its store has recovered. */
    private volatile AdminContext ctx;

    /**
     * @param ready whether the broker serves clients: its store recovered and every MQTT listener bound
     * @param startNanos {@link System#nanoTime()} when the broker began to start, for the uptime
     */
    AdminHandler(PrometheusMeterRegistry registry, BooleanSupplier ready, long startNanos) {
        this.registry = registry;
        this.ready = ready;
        this.startNanos = startNanos;
    }

    /** From now on the overview shows the broker of {@code c}. */
    void attach(AdminContext c) {
        ctx = c;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext c, FullHttpRequest req) {
        long t0 = System.nanoTime();
        FullHttpResponse res;
        if (!req.decoderResult().isSuccess()) {
            res = error(HttpResponseStatus.BAD_REQUEST, "malformed request");
        } else {
            res = route(req);
        }
        boolean keepAlive = HttpUtil.isKeepAlive(req) && req.decoderResult().isSuccess();
        HttpUtil.setContentLength(res, res.content().readableBytes());
        if (keepAlive) {
            if (!req.protocolVersion().isKeepAliveDefault()) {
                res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
        } else {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        var f = c.writeAndFlush(res);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
        if (LOG.isDebugEnabled()) {
            LOG.debug("admin {} {} {} {} -> {} in {} µs", c.channel().remoteAddress(), req.method(), req.uri(),
                    req.protocolVersion(), res.status().code(), TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - t0));
        }
    }

    /** The response to a well-formed request. */
    FullHttpResponse route(FullHttpRequest req) {
        String path = new QueryStringDecoder(req.uri()).path();
        if (!PATHS.contains(path)) {
            return error(HttpResponseStatus.NOT_FOUND, "no such path: " + path + "; the admin listener serves " + PATHS);
        }
        if (!HttpMethod.GET.equals(req.method())) {
            FullHttpResponse res = error(HttpResponseStatus.METHOD_NOT_ALLOWED, path + " answers GET only");
            res.headers().set(HttpHeaderNames.ALLOW, HttpMethod.GET.name());
            return res;
        }
        return switch (path) {
            case "/metrics" -> response(HttpResponseStatus.OK, PROMETHEUS_CONTENT_TYPE,
                    registry.scrape().getBytes(StandardCharsets.UTF_8));
            case "/health/live" -> json(HttpResponseStatus.OK, Map.of("status", "UP"));
            case "/health/ready" -> ready.getAsBoolean()
                    ? json(HttpResponseStatus.OK, Map.of("status", "UP"))
                    : json(HttpResponseStatus.SERVICE_UNAVAILABLE, Map.of("status", "DOWN"));
            default -> json(HttpResponseStatus.OK, overview());
        };
    }

    /** The body of {@code /api/v1/overview}. */
    private Map<String, Object> overview() {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("status", ready.getAsBoolean() ? "UP" : "DOWN");
        o.put("uptimeSeconds", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos));
        AdminContext c = ctx;
        if (c == null) {
            return o; // the store is still recovering
        }
        List<Map<String, Object>> listeners = new ArrayList<>();
        for (AdminContext.BoundListener l : c.listeners().get()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", l.type());
            m.put("bind", l.bind());
            m.put("port", l.port());
            listeners.add(m);
        }
        o.put("listeners", listeners);
        o.put("connectionsOpen", c.gate().openConnections());
        o.put("sessions", c.broker().sessions().count());
        o.put("retainedMessages", c.broker().retained().size());
        o.put("storeWritable", c.broker().store().status().writable());
        return o;
    }

    private static FullHttpResponse error(HttpResponseStatus status, String message) {
        return json(status, Map.of("error", message));
    }

    private static FullHttpResponse json(HttpResponseStatus status, Object body) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
        return response(status, JSON_CONTENT_TYPE, bytes);
    }

    private static FullHttpResponse response(HttpResponseStatus status, String contentType, byte[] body) {
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        return res;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext c, Throwable cause) {
        LOG.debug("admin connection {} closed: {}", c.channel().remoteAddress(), cause.toString());
        c.close();
    }
}
