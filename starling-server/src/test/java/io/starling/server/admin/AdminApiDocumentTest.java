package io.starling.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI document describes exactly the routes the router serves (each path and method), and the API reference
 * in docs/operations.md names every path of the document.
 */
class AdminApiDocumentTest {

    private static JsonNode document() throws IOException {
        return new ObjectMapper().readTree(OpenApiDocument.read());
    }

    /** "GET /api/v1/clients" for each operation of the document. */
    private static Set<String> documented(JsonNode doc) {
        Set<String> out = new TreeSet<>();
        doc.get("paths").properties().forEach(p -> p.getValue().fieldNames().forEachRemaining(m ->
                out.add(m.toUpperCase(Locale.ROOT) + " " + p.getKey())));
        return out;
    }

    @Test
    void theDocumentDescribesEveryRouteAndNoOther() throws IOException {
        JsonNode doc = document();
        assertThat(doc.get("openapi").asText()).startsWith("3.0");
        Set<String> served = new TreeSet<>();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try {
            AdminHandler h = new AdminHandler(registry, () -> true, System.nanoTime());
            for (AdminRouter.Route r : h.router().routes()) {
                if (r.documented()) {
                    served.add(r.method().name() + " " + r.template());
                }
            }
        } finally {
            registry.close();
        }
        assertThat(served).hasSizeGreaterThanOrEqualTo(14);
        assertThat(documented(doc)).isEqualTo(served);
    }

    @Test
    void everyReferencedSchemaExists() throws IOException {
        JsonNode doc = document();
        String text = doc.toString();
        var m = java.util.regex.Pattern.compile("#/components/(\\w+)/(\\w+)").matcher(text);
        int refs = 0;
        while (m.find()) {
            refs++;
            assertThat(doc.get("components").get(m.group(1)).has(m.group(2))).as(m.group()).isTrue();
        }
        assertThat(refs).isPositive();
    }

    @Test
    void operationsMdDocumentsEveryPath() throws IOException {
        String md = Files.readString(repositoryRoot().resolve("docs/operations.md"));
        for (String path : documented(document())) {
            String p = path.substring(path.indexOf(' ') + 1);
            String method = path.substring(0, path.indexOf(' '));
            // a heading "`POST /api/v1/publish`"; GET paths of the endpoint table are named without the method
            boolean named = md.contains("`" + method + " " + p) || (method.equals("GET") && md.contains("`" + p + "`"));
            assertThat(named).as("docs/operations.md names " + path).isTrue();
        }
    }

    static Path repositoryRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("docs")) && Files.exists(p.resolve("pom.xml"))) {
                return p;
            }
        }
        throw new IllegalStateException("no docs directory above " + Path.of("").toAbsolutePath());
    }
}
