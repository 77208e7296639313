package io.starling.server.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The dashboard's static files: {@code GET /} is its {@code index.html}; {@code GET /ui/**} the files under the class
 * path folder {@code io/starling/server/admin/ui/}; {@code GET /ui/vendor/uplot/**} the files of the uPlot webjar's {@code dist} folder.
 *
 * <p>Only names made of letters, digits, {@code .}, {@code _} and {@code -} with a known extension are served (each
 * segment checked after percent-decoding), so no path leaves its folder ({@code ..}, encoded slashes and backslashes
 * are refused with 404). Files are read once and kept. The dashboard's own files are sent with
 * {@code Cache-Control: no-cache} (revalidated, so a new version shows at once), the versioned library with a year's
 * {@code max-age}.
 */
final class DashboardFiles {

    /** The class path folder of the dashboard. */
    static final String UI = "io/starling/server/admin/ui/";
    /** The uPlot version of the webjar on the class path (org.webjars.npm:uplot). */
    static final String UPLOT_VERSION = "1.6.30";
    /** The class path folder of uPlot's files. */
    static final String UPLOT = "META-INF/resources/webjars/uplot/" + UPLOT_VERSION + "/dist/";
    private static final String VENDOR_UPLOT = "vendor/uplot/";
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]*");
    private static final Map<String, String> TYPES = Map.ofEntries(
            Map.entry("html", "text/html; charset=utf-8"),
            Map.entry("js", "text/javascript; charset=utf-8"),
            Map.entry("mjs", "text/javascript; charset=utf-8"),
            Map.entry("css", "text/css; charset=utf-8"),
            Map.entry("json", "application/json"),
            Map.entry("map", "application/json"),
            Map.entry("svg", "image/svg+xml"),
            Map.entry("png", "image/png"),
            Map.entry("ico", "image/x-icon"),
            Map.entry("woff2", "font/woff2"),
            Map.entry("txt", "text/plain; charset=utf-8"));

    private final ClassLoader loader;
    private final Map<String, Optional<byte[]>> cache = new ConcurrentHashMap<>();

    DashboardFiles() {
        this(DashboardFiles.class.getClassLoader());
    }

    DashboardFiles(ClassLoader loader) {
        this.loader = loader;
    }

    void register(AdminRouter router) {
        router.files(HttpMethod.GET, "/", r -> serve(""))
                .files(HttpMethod.GET, "/ui/**", r -> serve(rest(r.rawPath())));
    }

    /** The raw path below {@code /ui/}. */
    private static String rest(String rawPath) {
        return rawPath.length() <= "/ui/".length() ? "" : rawPath.substring("/ui/".length());
    }

    /** The file at {@code rawRest} below {@code /ui/} (percent-encoded as sent); the index for an empty one. */
    CompletionStage<FullHttpResponse> serve(String rawRest) {
        if (rawRest.isEmpty()) {
            rawRest = "index.html";
        }
        StringBuilder path = new StringBuilder();
        for (String raw : rawRest.split("/", -1)) {
            String seg = QueryStringDecoder.decodeComponent(raw);
            if (!SEGMENT.matcher(seg).matches() || seg.contains("..")) {
                return AdminRouter.now(notFound(rawRest));
            }
            if (path.length() > 0) {
                path.append('/');
            }
            path.append(seg);
        }
        String p = path.toString();
        int dot = p.lastIndexOf('.');
        String type = dot < 0 ? null : TYPES.get(p.substring(dot + 1));
        if (type == null) {
            return AdminRouter.now(notFound(rawRest));
        }
        boolean vendor = p.startsWith(VENDOR_UPLOT);
        String resource = vendor ? UPLOT + p.substring(VENDOR_UPLOT.length()) : UI + p;
        Optional<byte[]> bytes = cache.get(resource);
        if (bytes == null) {
            bytes = load(resource);
            if (bytes.isPresent()) {
                cache.put(resource, bytes); // only files that exist: a name that does not is looked up again
            }
        }
        if (bytes.isEmpty()) {
            return AdminRouter.now(notFound(rawRest));
        }
        FullHttpResponse res = Responses.bytes(HttpResponseStatus.OK, type, bytes.get());
        res.headers().set(HttpHeaderNames.CACHE_CONTROL, vendor ? "public, max-age=31536000, immutable" : "no-cache");
        res.headers().set("X-Content-Type-Options", "nosniff");
        return AdminRouter.now(res);
    }

    private Optional<byte[]> load(String resource) {
        try (InputStream in = loader.getResourceAsStream(resource)) {
            return in == null ? Optional.empty() : Optional.of(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static FullHttpResponse notFound(String rest) {
        return Responses.error(HttpResponseStatus.NOT_FOUND, "no such file: /ui/" + rest, null);
    }
}
