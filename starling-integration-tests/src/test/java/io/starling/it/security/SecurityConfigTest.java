package io.starling.it.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.ListenerConfig;
import io.starling.broker.config.ListenerConfig.CertIdentity;
import io.starling.server.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The security keys of the config file (docs/configuration.md): parsing, defaults, errors naming the key. */
class SecurityConfigTest {

    @TempDir
    Path tmp;

    private BrokerConfig load(String yaml) throws Exception {
        Path f = tmp.resolve("starling-" + UUID.randomUUID() + ".yaml");
        Files.writeString(f, yaml);
        return ConfigLoader.load(f).build();
    }

    @Test
    void parsesTheSecurityKeys() throws Exception {
        BrokerConfig c = load("""
                password-file: /etc/starling/passwd
                acl-file: /etc/starling/acl
                auth-failure-limit: 5
                auth-failure-window-seconds: 30
                auth-block-seconds: 600
                listeners:
                  - type: tcp
                    port: 1883
                    allow-anonymous: true
                  - type: tls
                    port: 8883
                    cert: server.pem
                    key: server.key
                    ca: ca.pem
                    client-auth: optional
                    use-identity-as-username: san
                    password-file: /etc/starling/tls-passwd
                """);
        assertThat(c.security().passwordFile()).isEqualTo(Path.of("/etc/starling/passwd"));
        assertThat(c.security().aclFile()).isEqualTo(Path.of("/etc/starling/acl"));
        assertThat(c.security().authFailureLimit()).isEqualTo(5);
        assertThat(c.security().authFailureWindow()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.security().authBlock()).isEqualTo(Duration.ofSeconds(600));
        ListenerConfig tcp = c.listeners().get(0);
        assertThat(tcp.allowAnonymous()).isTrue();
        assertThat(tcp.passwordFile()).isNull();
        assertThat(tcp.useIdentityAsUsername()).isEqualTo(CertIdentity.NONE);
        ListenerConfig tls = c.listeners().get(1);
        assertThat(tls.useIdentityAsUsername()).isEqualTo(CertIdentity.SAN);
        assertThat(tls.passwordFile()).isEqualTo(Path.of("/etc/starling/tls-passwd"));
        assertThat(tls.toBuilder().build()).isEqualTo(tls);
    }

    @Test
    void defaults() throws Exception {
        BrokerConfig c = load("port: 1884\n");
        assertThat(c.security().passwordFile()).isNull();
        assertThat(c.security().aclFile()).isNull();
        assertThat(c.security().authFailureLimit()).isEqualTo(10);
        assertThat(c.security().authFailureWindow()).isEqualTo(Duration.ofSeconds(60));
        assertThat(c.security().authBlock()).isEqualTo(Duration.ofSeconds(60));
        assertThat(c.effectiveListeners().get(0).allowAnonymous()).isFalse();
    }

    @Test
    void badValuesAreErrorsNamingTheKey() {
        assertThatThrownBy(() -> load("auth-failure-limit: -1\n")).hasMessageContaining("'auth-failure-limit'");
        assertThatThrownBy(() -> load("acl-file: [a, b]\n")).hasMessageContaining("'acl-file'");
        assertThatThrownBy(() -> load("listeners:\n  - type: tcp\n    use-identity-as-username: cn\n"))
                .hasMessageContaining("tls and wss listeners only");
        assertThatThrownBy(() -> load("""
                listeners:
                  - type: tls
                    cert: a
                    key: b
                    use-identity-as-username: cn
                """)).hasMessageContaining("client-auth optional or require");
        assertThatThrownBy(() -> load("""
                listeners:
                  - type: tls
                    cert: a
                    key: b
                    ca: c
                    client-auth: require
                    use-identity-as-username: uid
                """)).hasMessageContaining("'uid' is not one of [none, cn, san]");
    }
}
