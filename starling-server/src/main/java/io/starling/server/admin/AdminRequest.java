package io.starling.server.admin;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.List;
import java.util.Map;

/**
 * A request to the admin listener as the endpoints see it: copied out of Netty's buffers, so it may be used on any
 * thread and after the Netty request is released.
 *
 * @param method the HTTP method
 * @param uri the path and query as sent (for the access log)
 * @param path the decoded path
 * @param rawPath the path as sent (percent-encoding kept), for routes with parameters in the path
 * @param query the query parameters, decoded
 * @param headers the request headers
 * @param body the body, empty when there is none
 * @param pathParams the values of the route's {@code {name}} segments, decoded, in order (filled in by the router)
 */
record AdminRequest(HttpMethod method, String uri, String path, String rawPath, Map<String, List<String>> query,
        HttpHeaders headers, byte[] body, List<String> pathParams) {

    /** A request for {@code uri} (path and query). */
    static AdminRequest of(HttpMethod method, String uri, HttpHeaders headers, byte[] body) {
        QueryStringDecoder d = new QueryStringDecoder(uri);
        return new AdminRequest(method, uri, d.path(), d.rawPath(), d.parameters(), headers, body, List.of());
    }

    /** The same request with the path parameters the router found. */
    AdminRequest withPathParams(List<String> values) {
        return new AdminRequest(method, uri, path, rawPath, query, headers, body, List.copyOf(values));
    }

    /** The query parameter {@code name} (its first value), {@code null} when absent. */
    String param(String name) {
        List<String> v = query.get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    /** The query parameter {@code name} as an integer in {@code [min, max]}; {@code dflt} when absent; else 400. */
    int intParam(String name, int dflt, int min, int max) {
        String v = param(name);
        if (v == null || v.isEmpty()) {
            return dflt;
        }
        int n;
        try {
            n = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw ApiException.badRequest(name, name + " must be an integer, not '" + v + "'");
        }
        if (n < min || n > max) {
            throw ApiException.badRequest(name, name + " must be " + min + ".." + max + ", not " + n);
        }
        return n;
    }

    /** The query parameter {@code name} as {@code true}/{@code false}; {@code null} when absent; else 400. */
    Boolean boolParam(String name) {
        String v = param(name);
        if (v == null || v.isEmpty()) {
            return null;
        }
        return switch (v) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            default -> throw ApiException.badRequest(name, name + " must be true or false, not '" + v + "'");
        };
    }

    /**
     * The body as a JSON object whose fields are among {@code known}: an empty object when there is no body; 400
     * naming {@code body} when it is not a JSON object, or naming the first unknown field.
     */
    com.fasterxml.jackson.databind.node.ObjectNode jsonObject(java.util.Set<String> known) {
        if (body.length == 0) {
            return Responses.JSON.createObjectNode();
        }
        com.fasterxml.jackson.databind.JsonNode n;
        try {
            n = Responses.JSON.readTree(body);
        } catch (java.io.IOException e) {
            throw ApiException.badRequest("body", "the body is not valid JSON");
        }
        if (n == null || n.isMissingNode()) {
            return Responses.JSON.createObjectNode();
        }
        if (!(n instanceof com.fasterxml.jackson.databind.node.ObjectNode o)) {
            throw ApiException.badRequest("body", "the body must be a JSON object");
        }
        for (java.util.Iterator<String> it = o.fieldNames(); it.hasNext();) {
            String f = it.next();
            if (!known.contains(f)) {
                throw ApiException.badRequest(f, "unknown field " + f + "; known: " + new java.util.TreeSet<>(known));
            }
        }
        return o;
    }

    /** The query parameter {@code name}, required: 400 when absent or empty. */
    String requiredParam(String name) {
        String v = param(name);
        if (v == null || v.isEmpty()) {
            throw ApiException.badRequest(name, "query parameter " + name + " is required");
        }
        return v;
    }
}
