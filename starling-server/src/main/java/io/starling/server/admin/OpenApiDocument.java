package io.starling.server.admin;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * {@code GET /api/v1/openapi.json}: the OpenAPI 3.0 document of the admin API, written by hand as the class path
 * resource {@value #RESOURCE} (a test checks that it describes exactly the routes the router serves).
 */
final class OpenApiDocument {

    static final String RESOURCE = "/io/starling/server/admin/openapi.json";

    private final byte[] document = read();

    void register(AdminRouter router) {
        router.api(HttpMethod.GET, "/api/v1/openapi.json", r -> AdminRouter.now(
                Responses.bytes(HttpResponseStatus.OK, Responses.JSON_CONTENT_TYPE, document)));
    }

    /** The document's bytes. */
    static byte[] read() {
        try (InputStream in = OpenApiDocument.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing class path resource " + RESOURCE);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
