package io.starling.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The dashboard's files: the index, the uPlot webjar, content types, caching headers, and no path traversal. */
class DashboardFilesTest {

    private PrometheusMeterRegistry registry;
    private EmbeddedChannel ch;

    @BeforeEach
    void setUp() {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ch = new EmbeddedChannel(new AdminHandler(registry, () -> true, System.nanoTime()));
    }

    @AfterEach
    void tearDown() {
        ch.finishAndReleaseAll();
        registry.close();
    }

    private FullHttpResponse get(String uri) {
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri));
        FullHttpResponse res = ch.readOutbound();
        assertThat(res).as(uri).isNotNull();
        return res;
    }

    private static String body(FullHttpResponse res) {
        try {
            return res.content().toString(StandardCharsets.UTF_8);
        } finally {
            res.release();
        }
    }

    @Test
    void theRootAndUiServeTheIndex() {
        for (String uri : new String[] {"/", "/ui/", "/ui", "/ui/index.html"}) {
            FullHttpResponse res = get(uri);
            assertThat(res.status().code()).as(uri).isEqualTo(200);
            assertThat(res.headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("text/html; charset=utf-8");
            assertThat(res.headers().get(HttpHeaderNames.CACHE_CONTROL)).isEqualTo("no-cache");
            assertThat(body(res)).contains("Starling dashboard");
        }
    }

    @Test
    void uplotComesFromItsWebjar() {
        FullHttpResponse js = get("/ui/vendor/uplot/uPlot.iife.min.js");
        assertThat(js.status().code()).isEqualTo(200);
        assertThat(js.headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("text/javascript; charset=utf-8");
        assertThat(js.headers().get(HttpHeaderNames.CACHE_CONTROL)).contains("max-age=31536000");
        assertThat(body(js)).contains("uPlot");
        FullHttpResponse css = get("/ui/vendor/uplot/uPlot.min.css");
        assertThat(css.headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("text/css; charset=utf-8");
        assertThat(body(css)).contains(".uplot");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/ui/../AdminHandler.class", "/ui/%2e%2e/AdminHandler.class", "/ui/..%2fAdminHandler.class",
        "/ui/vendor/uplot/../../../../../../package.json", "/ui/vendor/uplot/..%2F..%2Fpackage.json",
        "/ui/%2e%2e%2f%2e%2e%2fopenapi.json", "/ui/..\\..\\openapi.json", "/ui/.hidden.html", "/ui/nope.html",
        "/ui/vendor/uplot/uPlot.d.ts", "/ui/vendor", "/ui//index.html", "/ui/index.html%00.js"})
    void nothingOutsideTheFoldersIsServed(String uri) {
        FullHttpResponse res = get(uri);
        assertThat(res.status().code()).as(uri).isEqualTo(404);
        assertThat(res.headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("application/json");
        assertThat(body(res)).startsWith("{\"error\":\"no such file: ");
    }

    @Test
    void otherMethodsAre405() {
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/ui/index.html"));
        FullHttpResponse res = ch.readOutbound();
        assertThat(res.status().code()).isEqualTo(405);
        assertThat(res.headers().get(HttpHeaderNames.ALLOW)).isEqualTo("GET");
        res.release();
    }
}
