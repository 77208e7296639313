package io.starling.it.integrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.starling.broker.config.AuthenticationConfig;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.WebhooksConfig;
import io.starling.server.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code authentication} and {@code webhooks} keys of the config file: values, defaults, and errors naming the key. */
class IntegrationsConfigTest {

    @TempDir
    Path dir;

    private BrokerConfig load(String yaml) throws Exception {
        Path f = Files.writeString(dir.resolve("c" + System.nanoTime() + ".yaml"), yaml);
        return ConfigLoader.load(f).build();
    }

    @Test
    void parsesBackendsListenersAndWebhooks() throws Exception {
        BrokerConfig c = load("""
                authentication:
                  - type: jwt
                    name: devices
                    jwks-url: https://id.example/.well-known/jwks.json
                    issuer: https://id.example
                    audience: [starling, mqtt]
                    username-claim: device_id
                    username: match
                    acl-claims: [tenant]
                    leeway-seconds: 10
                    disconnect-at-expiry: true
                  - type: http
                    url: http://auth.internal:8080/mqtt
                    headers: {Authorization: Bearer abc}
                    timeout-ms: 800
                    on-failure: ignore
                    cache-seconds: 30
                  - type: password-file
                listeners:
                  - {type: tcp, bind: 127.0.0.1, port: 1883, authentication: [password-file, devices]}
                webhooks:
                  - url: http://hooks.internal/events
                    events: [client.connected, message.published]
                    topics: ['telemetry/#']
                    headers: {X-Token: t}
                    max-retries: 5
                    batch-size: 20
                """);
        List<AuthenticationConfig.Backend> b = c.authentication().backends();
        assertThat(b).hasSize(3);
        AuthenticationConfig.JwtBackend jwt = (AuthenticationConfig.JwtBackend) b.get(0);
        assertThat(jwt.name()).isEqualTo("devices");
        assertThat(jwt.audiences()).containsExactly("starling", "mqtt");
        assertThat(jwt.usernameCheck()).isEqualTo(AuthenticationConfig.UsernameCheck.MATCH);
        assertThat(jwt.leeway()).isEqualTo(Duration.ofSeconds(10));
        assertThat(jwt.disconnectAtExpiry()).isTrue();
        assertThat(jwt.jwksMinInterval()).isEqualTo(Duration.ofSeconds(30));
        AuthenticationConfig.HttpBackend http = (AuthenticationConfig.HttpBackend) b.get(1);
        assertThat(http.name()).isEqualTo("http");
        assertThat(http.timeout()).isEqualTo(Duration.ofMillis(800));
        assertThat(http.onFailure()).isEqualTo(AuthenticationConfig.OnFailure.IGNORE);
        assertThat(http.headers()).containsEntry("Authorization", "Bearer abc");
        assertThat(b.get(2)).isEqualTo(new AuthenticationConfig.PasswordFileBackend("password-file", null));
        assertThat(c.listeners().get(0).authentication()).containsExactly("password-file", "devices");
        WebhooksConfig.Hook h = c.webhooks().hooks().get(0);
        assertThat(h.events()).containsExactlyInAnyOrder(WebhooksConfig.Event.CLIENT_CONNECTED,
                WebhooksConfig.Event.MESSAGE_PUBLISHED);
        assertThat(h.topics()).containsExactly("telemetry/#");
        assertThat(h.maxRetries()).isEqualTo(5);
        assertThat(h.batchSize()).isEqualTo(20);
        assertThat(h.maxQueuedEvents()).isEqualTo(10_000);
        assertThat(h.timeout()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void aBrokerDoesNotStartWithBackendsItCannotUse() throws Exception {
        Files.write(dir.resolve("short.secret"), new byte[16]);
        String data = dir.resolve("data").toString().replace('\\', '/');
        BrokerConfig unknown = load("data-dir: " + data + "\nstorage: memory\n"
                + "authentication:\n  - {type: jwt, secret-file: " + dir.resolve("short.secret") + "}\n"
                + "listeners:\n  - {type: tcp, bind: 127.0.0.1, port: 0, authentication: [nope]}\n");
        assertThatThrownBy(() -> io.starling.server.StarlingServer.start(unknown))
                .hasMessageContaining("no backend named 'nope'");
        BrokerConfig shortSecret = load("data-dir: " + data + "\nstorage: memory\n"
                + "authentication:\n  - {type: jwt, secret-file: " + dir.resolve("short.secret") + "}\n"
                + "listeners:\n  - {type: tcp, bind: 127.0.0.1, port: 0}\n");
        assertThatThrownBy(() -> io.starling.server.StarlingServer.start(shortSecret))
                .hasMessageContaining("backend 'jwt'").hasMessageContaining("32 bytes");
        BrokerConfig noFile = load("data-dir: " + data + "\nstorage: memory\n"
                + "authentication:\n  - {type: password-file}\n"
                + "listeners:\n  - {type: tcp, bind: 127.0.0.1, port: 0}\n");
        assertThatThrownBy(() -> io.starling.server.StarlingServer.start(noFile))
                .hasMessageContaining("password-file");
    }

    @Test
    void withoutTheKeysNothingChanges() throws Exception {
        BrokerConfig c = load("port: 1883\n");
        assertThat(c.authentication().backends()).isEmpty();
        assertThat(c.webhooks().enabled()).isFalse();
    }

    @Test
    void badValuesAreErrorsNamingTheKey() {
        assertThatThrownBy(() -> load("authentication:\n  - {type: ldap}\n")).hasMessageContaining("'authentication'")
                .hasMessageContaining("ldap");
        assertThatThrownBy(() -> load("authentication:\n  - {type: jwt}\n")).hasMessageContaining("exactly one of");
        assertThatThrownBy(() -> load("authentication:\n  - {type: jwt, secret-file: s, colour: red}\n"))
                .hasMessageContaining("colour");
        assertThatThrownBy(() -> load("authentication:\n  - {type: http, url: ftp://x/}\n"))
                .hasMessageContaining("url");
        assertThatThrownBy(() -> load("authentication:\n  - {type: http, url: 'http://x/', on-failure: maybe}\n"))
                .hasMessageContaining("on-failure");
        assertThatThrownBy(() -> load("authentication:\n  - {type: jwt, secret-file: a}\n  - {type: jwt, secret-file: b}\n"))
                .hasMessageContaining("named 'jwt'");
        assertThatThrownBy(() -> load("authentication:\n  - {type: jwt, secret-file: a, acl-claims: ['a/b']}\n"))
                .hasMessageContaining("acl-claims");
        assertThatThrownBy(() -> load("webhooks:\n  - {url: 'http://x/', events: [client.exploded]}\n"))
                .hasMessageContaining("'webhooks'").hasMessageContaining("client.exploded");
        assertThatThrownBy(() -> load("webhooks:\n  - {url: 'http://x/', events: [message.published]}\n"))
                .hasMessageContaining("topics");
        assertThatThrownBy(() -> load("webhooks:\n  - {url: 'http://x/', topics: ['a/#/b']}\n"))
                .hasMessageContaining("topics");
        assertThatThrownBy(() -> load("webhooks:\n  - {url: 'http://x/', batch-size: 0}\n"))
                .hasMessageContaining("batch-size");
    }
}
