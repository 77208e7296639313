package io.starling.server.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The routes of the admin listener: a method and a path template each, whose segments are literal, {@code {name}}
 * (one segment, percent-decoded, handed to the endpoint) or a final {@code **} (the rest of the path). A path no route
 * matches is answered 404; a path matched with another method 405 with {@code Allow}.
 *
 * <p>Thread-safety: routes are added before the listener serves; dispatching may run on any thread.
 */
final class AdminRouter {

    /** What answers a route: now, or later (a future completed on any thread). */
    @FunctionalInterface
    interface Endpoint {
        CompletionStage<FullHttpResponse> handle(AdminRequest req);
    }

    /**
     * One route.
     *
     * @param documented whether the OpenAPI document describes it (the API), rather than serving files
     */
    record Route(HttpMethod method, String template, Endpoint endpoint, boolean documented) {

        /** The values of the template's parameters for {@code rawPath}, {@code null} when it does not match. */
        List<String> match(String rawPath) {
            String[] t = segments(template);
            String[] p = segments(rawPath);
            List<String> values = new ArrayList<>();
            for (int i = 0; i < t.length; i++) {
                if (t[i].equals("**") && i == t.length - 1) {
                    return values;
                }
                if (i >= p.length) {
                    return null;
                }
                if (t[i].startsWith("{") && t[i].endsWith("}")) {
                    if (p[i].isEmpty()) {
                        return null;
                    }
                    values.add(QueryStringDecoder.decodeComponent(p[i]));
                } else if (!t[i].equals(p[i])) {
                    return null;
                }
            }
            return p.length == t.length ? values : null;
        }

        private static String[] segments(String path) {
            if (path.equals("/")) {
                return new String[0];
            }
            return (path.startsWith("/") ? path.substring(1) : path).split("/", -1);
        }
    }

    private final List<Route> routes = new ArrayList<>();

    /** Adds a route of the API (described by the OpenAPI document). */
    AdminRouter api(HttpMethod method, String template, Endpoint e) {
        routes.add(new Route(method, template, e, true));
        return this;
    }

    /** Adds a route that serves files (not in the OpenAPI document). */
    AdminRouter files(HttpMethod method, String template, Endpoint e) {
        routes.add(new Route(method, template, e, false));
        return this;
    }

    List<Route> routes() {
        return List.copyOf(routes);
    }

    /** The answer to {@code req}: the matching route's, 404 or 405. Errors of the endpoint become their answers. */
    CompletionStage<FullHttpResponse> dispatch(AdminRequest req) {
        Set<String> allowed = new LinkedHashSet<>();
        for (Route r : routes) {
            List<String> params = r.match(req.rawPath());
            if (params == null) {
                continue;
            }
            boolean head = req.method().equals(HttpMethod.HEAD) && r.method().equals(HttpMethod.GET);
            if (!r.method().equals(req.method()) && !head) {
                allowed.add(r.method().name());
                continue;
            }
            try {
                return r.endpoint().handle(req.withPathParams(params));
            } catch (ApiException e) {
                return CompletableFuture.completedFuture(Responses.error(e));
            }
        }
        if (!allowed.isEmpty()) {
            FullHttpResponse res = Responses.error(HttpResponseStatus.METHOD_NOT_ALLOWED,
                    req.path() + " answers " + String.join(", ", allowed) + " only", null);
            res.headers().set(HttpHeaderNames.ALLOW, String.join(", ", allowed));
            return CompletableFuture.completedFuture(res);
        }
        return CompletableFuture.completedFuture(Responses.error(HttpResponseStatus.NOT_FOUND,
                "no such path: " + req.path() + "; see /api/v1/openapi.json", null));
    }

    /** A response that is ready now. */
    static CompletionStage<FullHttpResponse> now(FullHttpResponse res) {
        return CompletableFuture.completedFuture(res);
    }
}
