package io.starling.it.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.starling.broker.auth.PasswordFile;
import io.starling.broker.auth.PasswordHash;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.ListenerConfig;
import io.starling.broker.config.ListenerConfig.CertIdentity;
import io.starling.broker.config.ListenerConfig.ClientAuth;
import io.starling.broker.config.ListenerConfig.Type;
import io.starling.server.StarlingServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Authentication on TLS listeners with mosquitto_pub/mosquitto_sub: user name and password from the password file
 * ({@code --cafile -u -P}), and the client certificate's CN or first SAN as the user name
 * ({@code use-identity-as-username}, {@code --cert --key}, no password needed).
 */
class TlsAuthenticationTest {

    @TempDir
    static Path tmp;

    static TestPki pki;
    static Path passwd;

    private StarlingServer server;

    @BeforeAll
    static void certificatesAndUsers() throws Exception {
        assumeTrue(TestPki.opensslAvailable(), "openssl is not installed (bin/test installs it)");
        pki = TestPki.create(tmp.resolve("pki"));
        passwd = tmp.resolve("passwd");
        PasswordFile.empty()
                .with("alice", PasswordHash.create("wonderland".toCharArray(), PasswordHash.MIN_ITERATIONS))
                .with("bob", PasswordHash.create("builder".toCharArray(), PasswordHash.MIN_ITERATIONS))
                .write(passwd);
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private int start(UnaryOperator<ListenerConfig.Builder> tls, Consumer<BrokerConfig.Builder> broker) throws Exception {
        ListenerConfig listener = tls.apply(ListenerConfig.builder(Type.TLS).port(0)
                .cert(pki.serverCert).key(pki.serverKey)).build();
        BrokerConfig.Builder b = BrokerConfig.builder().dataDir(Files.createTempDirectory(tmp, "data"))
                .listeners(List.of(listener));
        broker.accept(b);
        server = StarlingServer.start(b.build());
        return server.port();
    }

    private static String[] args(String version, Path cert, Path key, String user, String password) {
        List<String> a = new ArrayList<>(List.of("--cafile", pki.ca.toString(), "-V", version));
        if (cert != null) {
            a.addAll(List.of("--cert", cert.toString(), "--key", key.toString()));
        }
        if (user != null) {
            a.addAll(List.of("-u", user));
        }
        if (password != null) {
            a.addAll(List.of("-P", password));
        }
        return a.toArray(String[]::new);
    }

    private static void assertRefused(Cli.Result r, String why) {
        assertThat(r.exit()).as("expected a refusal, got: " + r.output()).isNotZero();
        assertThat(r.output().toLowerCase(java.util.Locale.ROOT)).contains(why);
    }

    // mosquitto_pub/mosquitto_sub -u -P over TLS (--cafile): the right password publishes and subscribes, a wrong one
    // is refused as "bad user name or password" (0x04 / 0x86), none as "not authorised" (0x05 / 0x87).
    @ParameterizedTest(name = "-V {0}")
    @ValueSource(strings = {"mqttv311", "mqttv5"})
    void userNameAndPasswordOverTls(String version) throws Exception {
        int port = start(b -> b, b -> b.passwordFile(passwd));
        String[] alice = args(version, null, null, "alice", "wonderland");
        try (Cli.Sub sub = new Cli.Sub(port, "tls-auth/#", alice)) {
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                assertThat(Cli.pub(port, "tls-auth/ready", "x", args(version, null, null, "bob", "builder")).ok()).isTrue();
                String line = sub.next(1);
                return line != null;
            });
            Cli.Result r = Cli.pub(port, "tls-auth/hello", "over tls", alice);
            assertThat(r.ok()).as(r.output()).isTrue();
            String line;
            do {
                line = sub.next(10);
            } while (line != null && line.startsWith("tls-auth/ready"));
            assertThat(line).isEqualTo("tls-auth/hello over tls");
        }
        assertRefused(Cli.pub(port, "t", "m", args(version, null, null, "alice", "builder")), "bad user name or password");
        assertRefused(Cli.pub(port, "t", "m", args(version, null, null, "mallory", "x")), "bad user name or password");
        assertRefused(Cli.pub(port, "t", "m", args(version, null, null, null, null)), "authori");
    }

    // use-identity-as-username: cn with client-auth optional and a password file: a client with a certificate is
    // its CN without a password (a wrong one does not matter); one without a certificate needs a user name and
    // password; one with neither is refused.
    @Test
    void certificateCommonNameIsTheUserName() throws Exception {
        int port = start(b -> b.ca(pki.ca).clientAuth(ClientAuth.OPTIONAL).useIdentityAsUsername(CertIdentity.CN),
                b -> b.passwordFile(passwd));
        Cli.Result cert = Cli.pub(port, "t", "m", args("mqttv311", pki.clientCert, pki.clientKey, null, null));
        assertThat(cert.ok()).as(cert.output()).isTrue();
        Cli.Result wrongPassword = Cli.pub(port, "t", "m", args("mqttv5", pki.clientCert, pki.clientKey, "bob", "nope"));
        assertThat(wrongPassword.ok()).as("the certificate decides, not the password: " + wrongPassword.output()).isTrue();
        Cli.Result password = Cli.pub(port, "t", "m", args("mqttv311", null, null, "bob", "builder"));
        assertThat(password.ok()).as(password.output()).isTrue();
        assertRefused(Cli.pub(port, "t", "m", args("mqttv311", null, null, "bob", "nope")), "bad user name or password");
        assertRefused(Cli.pub(port, "t", "m", args("mqttv311", null, null, null, null)), "authori");
    }

    // use-identity-as-username: san takes the first Subject Alternative Name; a certificate without one is refused
    // (0x05 / 0x87). client-auth require and no password file: the certificate is the only way in.
    @Test
    void firstSubjectAltNameIsTheUserName() throws Exception {
        int port = start(b -> b.ca(pki.ca).clientAuth(ClientAuth.REQUIRE).useIdentityAsUsername(CertIdentity.SAN),
                b -> { });
        Cli.Result carol = Cli.pub(port, "t", "m", args("mqttv5", pki.sanCert, pki.sanKey, null, null));
        assertThat(carol.ok()).as(carol.output()).isTrue();
        assertRefused(Cli.pub(port, "t", "m", args("mqttv311", pki.clientCert, pki.clientKey, null, null)), "authori");
        assertRefused(Cli.pub(port, "t", "m", args("mqttv5", pki.clientCert, pki.clientKey, "alice", "wonderland")),
                "authori");
    }

    // The certificate identity is the user name for the ACL too: with "allow all readwrite certs/%u/#" the client
    // with CN=alice publishes and subscribes under certs/alice/ and nowhere else; with a "cert:NAME" rule a SAN
    // decides. mosquitto_sub with '#' gets only what it may read.
    @Test
    void certificateIdentityInAclRules() throws Exception {
        Path acl = tmp.resolve("acl-certs");
        Files.write(acl, List.of(
                "allow all readwrite certs/%u/#",
                "allow cert:carol@example.com read certs/shared/#",
                "allow user:bob readwrite certs/#"));
        int port = start(b -> b.ca(pki.ca).clientAuth(ClientAuth.OPTIONAL).useIdentityAsUsername(CertIdentity.CN),
                b -> b.passwordFile(passwd).aclFile(acl));
        String[] alice = args("mqttv311", pki.clientCert, pki.clientKey, null, null);
        String[] carol = args("mqttv5", pki.sanCert, pki.sanKey, null, null);
        String[] bob = args("mqttv311", null, null, "bob", "builder");
        try (Cli.Sub aliceSub = new Cli.Sub(port, "#", alice); Cli.Sub carolSub = new Cli.Sub(port, "#", carol)) {
            // wait until both subscriptions are in place: bob may write everywhere under certs/
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                Cli.pub(port, "certs/alice/ready", "x", bob);
                Cli.pub(port, "certs/carol-cn/ready", "x", bob);
                String a = aliceSub.next(1);
                String c = carolSub.next(1);
                return a != null && c != null;
            });
            assertThat(Cli.pub(port, "certs/shared/news", "for carol", bob).ok()).isTrue();
            assertThat(Cli.pub(port, "certs/bob/private", "for bob", bob).ok()).isTrue();
            Cli.Result own = Cli.pub(port, "certs/alice/hello", "from alice", alice);
            assertThat(own.ok()).as(own.output()).isTrue();
            // QoS 1 on 3.1.1: acknowledged and dropped [MQTT-3.3.5-2]
            assertThat(Cli.pub(port, "certs/bob/spoof", "from alice", alice).ok()).isTrue();
            assertThat(Cli.pub(port, "certs/alice/end", "end", bob).ok()).isTrue();
            assertThat(Cli.pub(port, "certs/carol-cn/end", "end", bob).ok()).isTrue();
            List<String> a = linesUntil(aliceSub, "certs/alice/end end");
            List<String> c = linesUntil(carolSub, "certs/carol-cn/end end");
            assertThat(a).contains("certs/alice/hello from alice").allMatch(l -> l.startsWith("certs/alice/"));
            assertThat(c).contains("certs/shared/news for carol")
                    .allMatch(l -> l.startsWith("certs/carol-cn/") || l.startsWith("certs/shared/"));
        }
    }

    private static List<String> linesUntil(Cli.Sub sub, String last) throws InterruptedException {
        List<String> lines = new ArrayList<>();
        for (String l = sub.next(10); l != null; l = sub.next(10)) {
            if (l.equals(last)) {
                return lines;
            }
            lines.add(l);
        }
        throw new AssertionError("no '" + last + "' after " + lines);
    }
}
