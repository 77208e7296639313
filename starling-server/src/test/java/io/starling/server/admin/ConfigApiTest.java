package io.starling.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.starling.broker.config.AdminConfig;
import io.starling.broker.config.BrokerConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code /api/v1/config}: the whole effective configuration, with every secret replaced by {@code ***}. */
class ConfigApiTest {

    @Test
    void secretsAreRedactedAndTheRestShown() throws Exception {
        BrokerConfig c = BrokerConfig.builder().port(1999).storage(BrokerConfig.Storage.MEMORY)
                .scramUsers(Map.of("alice", "alice-scram-password"))
                .passwordFile(Path.of("/etc/starling/passwd"))
                .admin(AdminConfig.loopback(8081).withUsers(List.of("ops"))
                        .withTokenFile(Path.of("/etc/starling/tokens"))
                        .withTls(new AdminConfig.Tls(Path.of("/c.pem"), Path.of("/k.pem"), "tls-key-passphrase")))
                .build();
        String text = Responses.JSON.writeValueAsString(ConfigApi.toJson(c));
        assertThat(text).doesNotContain("alice-scram-password").doesNotContain("tls-key-passphrase");
        JsonNode j = Responses.JSON.readTree(text);
        assertThat(j.get("port").asInt()).isEqualTo(1999);
        assertThat(j.get("storage").asText()).isEqualTo("memory");
        assertThat(j.get("scramUsers").get("alice").asText()).isEqualTo("***");
        assertThat(j.get("security").get("passwordFile").asText()).isEqualTo("/etc/starling/passwd");
        JsonNode admin = j.get("admin");
        assertThat(admin.get("tls").get("keyPassword").asText()).isEqualTo("***");
        assertThat(admin.get("tls").get("certFile").asText()).isEqualTo("/c.pem");
        assertThat(admin.get("tokenFile").asText()).as("a file name, not a secret").isEqualTo("/etc/starling/tokens");
        assertThat(admin.get("users").get(0).asText()).isEqualTo("ops");
        assertThat(j.get("connectTimeout").asText()).startsWith("PT");
    }

    @Test
    void headerValuesAndUrlCredentialsOfIntegrationsAreRedacted() throws Exception {
        BrokerConfig c = BrokerConfig.builder().storage(BrokerConfig.Storage.MEMORY)
                .authentication(new io.starling.broker.config.AuthenticationConfig(List.of(
                        new io.starling.broker.config.AuthenticationConfig.HttpBackend("http",
                                java.net.URI.create("https://svc:hunter2@auth.example/mqtt"),
                                Map.of("Authorization", "Bearer s3cr3t-token"), null, null, null, 10, 4))))
                .webhooks(new io.starling.broker.config.WebhooksConfig(List.of(new io.starling.broker.config
                        .WebhooksConfig.Hook(java.net.URI.create("https://hooks.example/e"), java.util.Set.of(),
                        List.of(), Map.of("X-Api-Key", "k3y-value"), null, 0, null, 10, 1000, 1))))
                .build();
        String json = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(ConfigApi.toJson(c));
        assertThat(json).doesNotContain("hunter2").doesNotContain("s3cr3t-token").doesNotContain("k3y-value")
                .contains("Authorization").contains("X-Api-Key").contains("auth.example");
    }

    @Test
    void secretNames() {
        assertThat(ConfigApi.isSecret("keyPassword")).isTrue();
        assertThat(ConfigApi.isSecret("key-password")).isTrue();
        assertThat(ConfigApi.isSecret("token")).isTrue();
        assertThat(ConfigApi.isSecret("clientSecret")).isTrue();
        assertThat(ConfigApi.isSecret("passwordFile")).isFalse();
        assertThat(ConfigApi.isSecret("tokenFile")).isFalse();
        assertThat(ConfigApi.isSecret("port")).isFalse();
    }
}
