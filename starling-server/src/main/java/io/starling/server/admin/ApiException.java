package io.starling.server.admin;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * A request the admin API refuses: answered with {@link #status()} and {@code {"error": message, "field": field}}
 * ({@code field} left out when no single field or parameter is at fault).
 */
final class ApiException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient HttpResponseStatus status;
    private final String field;

    ApiException(HttpResponseStatus status, String message, String field) {
        super(message, null, false, false);
        this.status = status;
        this.field = field;
    }

    /** 400 Bad Request naming the field or parameter at fault. */
    static ApiException badRequest(String field, String message) {
        return new ApiException(HttpResponseStatus.BAD_REQUEST, message, field);
    }

    /** 404 Not Found. */
    static ApiException notFound(String message) {
        return new ApiException(HttpResponseStatus.NOT_FOUND, message, null);
    }

    HttpResponseStatus status() {
        return status;
    }

    /** The field or parameter at fault, {@code null} when none is. */
    String field() {
        return field;
    }
}
