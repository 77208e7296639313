package io.starling.it.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.ListenerConfig;
import io.starling.broker.config.ListenerConfig.ClientAuth;
import io.starling.broker.config.ListenerConfig.Type;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import io.starling.it.LogCapture;
import io.starling.server.StarlingServer;
import io.starling.server.transport.ReloadingSslContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS listeners with mosquitto_pub/mosquitto_sub ({@code --cafile --cert --key}) and a JDK socket: client
 * certificates (valid, expired, from another CA, missing) under {@code require} and {@code optional}, TLS 1.2-only
 * and 1.3-only listeners, the default cipher suites (ECDHE with AEAD for TLS 1.2) with a JDK socket and
 * {@code openssl s_client}, and the reload of changed certificate files.
 */
class TlsListenerTest {

    @TempDir
    static Path tmp;

    static TestPki pki;

    private StarlingServer server;

    @BeforeAll
    static void certificates() throws Exception {
        assumeTrue(TestPki.opensslAvailable(), "openssl is not installed (bin/test installs it)");
        pki = TestPki.create(tmp.resolve("pki"));
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private int start(UnaryOperator<ListenerConfig.Builder> tls) throws IOException {
        ListenerConfig listener = tls.apply(ListenerConfig.builder(Type.TLS).port(0)
                .cert(pki.serverCert).key(pki.serverKey)).build();
        server = StarlingServer.start(BrokerConfig.builder()
                .dataDir(Files.createTempDirectory(tmp, "data"))
                .listeners(List.of(ListenerConfig.tcp("127.0.0.1", 0), listener))
                .build());
        return server.port(1);
    }

    private static String[] tlsArgs(Path cert, Path key, String... more) {
        List<String> a = new ArrayList<>(List.of("--cafile", pki.ca.toString()));
        if (cert != null) {
            a.addAll(List.of("--cert", cert.toString(), "--key", key.toString()));
        }
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void validClientCertificatePublishesAndSubscribes() throws Exception {
        int port = start(b -> b.ca(pki.ca).clientAuth(ClientAuth.REQUIRE));
        String[] args = tlsArgs(pki.clientCert, pki.clientKey);
        try (Cli.Sub sub = new Cli.Sub(port, "tls/#", args)) {
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                assertThat(Cli.pub(port, "tls/ready", "x", args).ok()).isTrue();
                String line = sub.next(1);
                return line != null && line.startsWith("tls/ready");
            });
            Cli.Result r = Cli.pub(port, "tls/hello", "over tls", args);
            assertThat(r.ok()).as(r.output()).isTrue();
            String line;
            do {
                line = sub.next(10);
            } while (line != null && line.startsWith("tls/ready"));
            assertThat(line).isEqualTo("tls/hello over tls");
        }
    }

    @Test
    void requireRefusesMissingExpiredAndForeignCertificates() throws Exception {
        int port = start(b -> b.ca(pki.ca).clientAuth(ClientAuth.REQUIRE));
        assertThat(Cli.pub(port, "t", "m", tlsArgs(pki.clientCert, pki.clientKey)).ok()).isTrue();
        assertRefused(Cli.pub(port, "t", "m", tlsArgs(null, null)));
        assertRefused(Cli.pub(port, "t", "m", tlsArgs(pki.expiredCert, pki.expiredKey)));
        assertRefused(Cli.pub(port, "t", "m", tlsArgs(pki.foreignCert, pki.foreignKey)));
    }

    @Test
    void optionalAcceptsMissingButNotBadCertificates() throws Exception {
        int port = start(b -> b.ca(pki.ca).clientAuth(ClientAuth.OPTIONAL));
        Cli.Result none = Cli.pub(port, "t", "m", tlsArgs(null, null));
        assertThat(none.ok()).as(none.output()).isTrue();
        assertThat(Cli.pub(port, "t", "m", tlsArgs(pki.clientCert, pki.clientKey)).ok()).isTrue();
        assertRefused(Cli.pub(port, "t", "m", tlsArgs(pki.expiredCert, pki.expiredKey)));
        assertRefused(Cli.pub(port, "t", "m", tlsArgs(pki.foreignCert, pki.foreignKey)));
    }

    @Test
    void noClientAuthNeedsOnlyTheServerCertificate() throws Exception {
        int port = start(b -> b);
        Cli.Result r = Cli.pub(port, "t", "m", tlsArgs(null, null));
        assertThat(r.ok()).as(r.output()).isTrue();
        // a client that does not trust the server's CA does not connect
        assertRefused(Cli.pub(port, "t", "m", "--cafile", pki.otherCa.toString()));
    }

    @Test
    void tls12Only() throws Exception {
        int port = start(b -> b.protocols(List.of("TLSv1.2")));
        assertThat(Cli.pub(port, "t", "m", tlsArgs(null, null, "--tls-version", "tlsv1.2")).ok()).isTrue();
        assertRefused(Cli.pub(port, "t", "m", tlsArgs(null, null, "--tls-version", "tlsv1.3")));
        assertThat(handshake(port, "TLSv1.3", "TLSv1.2").getProtocol()).isEqualTo("TLSv1.2");
        assertThatThrownBy(() -> handshake(port, "TLSv1.3")).isInstanceOf(SSLException.class);
    }

    @Test
    void tls13Only() throws Exception {
        int port = start(b -> b.protocols(List.of("TLSv1.3")));
        assertThat(Cli.pub(port, "t", "m", tlsArgs(null, null, "--tls-version", "tlsv1.3")).ok()).isTrue();
        // (mosquitto's --tls-version tlsv1.2 still offers 1.3, so the JDK client checks the other direction)
        assertThat(handshake(port, "TLSv1.3", "TLSv1.2").getProtocol()).isEqualTo("TLSv1.3");
        assertThatThrownBy(() -> handshake(port, "TLSv1.2")).isInstanceOf(SSLException.class);
    }

    @Test
    void defaultsOfferBothVersions() throws Exception {
        int port = start(b -> b);
        assertThat(handshake(port, "TLSv1.2").getProtocol()).isEqualTo("TLSv1.2");
        assertThat(handshake(port, "TLSv1.3").getProtocol()).isEqualTo("TLSv1.3");
    }

    // Without `ciphers`, TLS 1.2 offers only ECDHE key exchange with AEAD ciphers: a client offering nothing but static
    // RSA key exchange or CBC with SHA-1 fails the handshake, one offering ECDHE with AES-GCM or ChaCha20-Poly1305
    // connects; TLS 1.3 works with its usual suites.
    @Test
    void defaultCiphersAreEcdheWithAeadOnly() throws Exception {
        int port = start(b -> b);
        for (String weak : List.of("TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256")) {
            assertThatThrownBy(() -> handshakeWith(port, "TLSv1.2", weak)).as(weak).isInstanceOf(SSLException.class);
        }
        for (String strong : List.of("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256")) {
            assertThat(handshakeWith(port, "TLSv1.2", strong).getCipherSuite()).isEqualTo(strong);
        }
        for (String tls13 : List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")) {
            assertThat(handshakeWith(port, "TLSv1.3", tls13).getCipherSuite()).isEqualTo(tls13);
        }
        assertThat(opensslHandshake(port, "AES128-SHA")).as("openssl s_client -cipher AES128-SHA -tls1_2").isFalse();
        assertThat(opensslHandshake(port, "ECDHE-RSA-AES128-GCM-SHA256")).isTrue();
    }

    // A listener's own `ciphers` are used as given, even weak ones (the same client as above connects).
    @Test
    void configuredCiphersAreUsedAsGiven() throws Exception {
        int port = start(b -> b.ciphers(List.of("TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_AES_128_GCM_SHA256")));
        assertThat(handshakeWith(port, "TLSv1.2", "TLS_RSA_WITH_AES_128_CBC_SHA").getCipherSuite())
                .isEqualTo("TLS_RSA_WITH_AES_128_CBC_SHA");
        assertThatThrownBy(() -> handshakeWith(port, "TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"))
                .isInstanceOf(SSLException.class);
    }

    // What each provider offers by default, OpenSSL (netty-tcnative BoringSSL, used where it loads) and the JDK's.
    @Test
    void bothProvidersOfferOnlyTls13AndEcdheAeadSuitesByDefault() throws Exception {
        ListenerConfig l = ListenerConfig.builder(Type.TLS).port(0).cert(pki.serverCert).key(pki.serverKey).build();
        List<SslProvider> providers = new ArrayList<>(List.of(SslProvider.JDK));
        if (OpenSsl.isAvailable()) {
            providers.add(SslProvider.OPENSSL);
        }
        for (SslProvider provider : providers) {
            SSLEngine engine = ReloadingSslContext.build(l, provider).newEngine(ByteBufAllocator.DEFAULT);
            try {
                List<String> suites = List.of(engine.getEnabledCipherSuites());
                assertThat(suites).as(provider + " " + suites)
                        .contains("TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
                        .allMatch(c -> c.matches("TLS_(AES_\\d+_GCM_SHA\\d+|CHACHA20_POLY1305_SHA256)")
                                || c.matches("TLS_ECDHE_(RSA|ECDSA)_WITH_(AES_\\d+_GCM_SHA\\d+|CHACHA20_POLY1305_SHA256)"));
            } finally {
                ReferenceCountUtil.release(engine);
            }
        }
    }

    /** Whether {@code openssl s_client -tls1_2 -cipher CIPHER} completes a handshake with the listener. */
    private static boolean opensslHandshake(int port, String cipher) throws Exception {
        Process p = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-tls1_2", "-cipher",
                cipher).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as(out).isTrue();
        return p.exitValue() == 0 && out.contains("Cipher is " + cipher);
    }

    @Test
    void changedCertificateFilesAreUsedForNewConnectionsWhileOldOnesStay() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("reload"));
        Path cert = dir.resolve("server.pem");
        Path key = dir.resolve("server.key");
        Files.copy(pki.serverCert, cert, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(pki.serverKey, key, StandardCopyOption.REPLACE_EXISTING);
        ListenerConfig listener = ListenerConfig.builder(Type.TLS).port(0).cert(cert).key(key).build();
        server = StarlingServer.start(BrokerConfig.builder().dataDir(Files.createTempDirectory(tmp, "data"))
                .listeners(List.of(listener)).build());
        int port = server.port();
        assertThat(subjectOf(port)).contains("CN=starling-server-1");
        String[] args = tlsArgs(null, null);
        try (Cli.Sub old = new Cli.Sub(port, "reload/#", args); LogCapture log = LogCapture.start(ReloadingSslContext.class)) {
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                Cli.pub(port, "reload/ready", "x", args);
                String line = old.next(1);
                return line != null;
            });
            // a broken replacement (half-written certificate) is refused: the old context stays
            Files.writeString(cert, "-----BEGIN CERTIFICATE-----\nnot a certificate\n");
            await().atMost(Duration.ofSeconds(StarlingServer.TLS_RELOAD_INTERVAL_SECONDS * 5L))
                    .until(() -> !log.lines("certificate files changed but cannot be used").isEmpty());
            assertThat(subjectOf(port)).contains("CN=starling-server-1");
            // a certificate with the key of another: refused as well
            Files.copy(pki.server2Cert, cert, StandardCopyOption.REPLACE_EXISTING);
            await().atMost(Duration.ofSeconds(StarlingServer.TLS_RELOAD_INTERVAL_SECONDS * 5L))
                    .until(() -> !log.lines("the key does not belong to the certificate").isEmpty());
            assertThat(subjectOf(port)).contains("CN=starling-server-1");
            // now the matching key: new connections get the new certificate
            Files.copy(pki.server2Key, key, StandardCopyOption.REPLACE_EXISTING);
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(250))
                    .until(() -> subjectOf(port).contains("CN=starling-server-2"));
            Cli.Result r = Cli.pub(port, "reload/after", "new cert", args);
            assertThat(r.ok()).as(r.output()).isTrue();
            // the subscriber connected before the reload is still there and gets the message
            String line;
            do {
                line = old.next(10);
            } while (line != null && line.startsWith("reload/ready"));
            assertThat(line).isEqualTo("reload/after new cert");
            assertThat(old.process.isAlive()).isTrue();
        }
    }

    @Test
    void changedCaFileDecidesWhichClientCertificatesAreAccepted() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("ca-reload"));
        Path ca = dir.resolve("ca.pem");
        Files.copy(pki.ca, ca, StandardCopyOption.REPLACE_EXISTING);
        int port = start(b -> b.ca(ca).clientAuth(ClientAuth.REQUIRE));
        assertThat(Cli.pub(port, "t", "m", tlsArgs(pki.clientCert, pki.clientKey)).ok()).isTrue();
        assertRefused(Cli.pub(port, "t", "m", tlsArgs(pki.foreignCert, pki.foreignKey)));
        // trust the other CA instead: its client certificate now connects, ours no longer does
        Files.copy(pki.otherCa, ca, StandardCopyOption.REPLACE_EXISTING);
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(500))
                .until(() -> Cli.pub(port, "t", "m", tlsArgs(pki.foreignCert, pki.foreignKey)).ok());
        assertRefused(Cli.pub(port, "t", "m", tlsArgs(pki.clientCert, pki.clientKey)));
    }

    private static void assertRefused(Cli.Result r) {
        assertThat(r.exit()).as("expected the connection to be refused, got: " + r.output()).isNotZero();
    }

    /** The subject of the certificate a new connection to the port is shown. */
    private static String subjectOf(int port) throws Exception {
        try (SSLSocket s = socket(port, "TLSv1.3", "TLSv1.2")) {
            s.startHandshake();
            return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
        }
    }

    private static SSLSession handshake(int port, String... protocols) throws Exception {
        try (SSLSocket s = socket(port, protocols)) {
            s.startHandshake();
            return s.getSession();
        }
    }

    /** A handshake offering one protocol and one cipher suite only. */
    private static SSLSession handshakeWith(int port, String protocol, String cipherSuite) throws Exception {
        try (SSLSocket s = socket(port, protocol)) {
            s.setEnabledCipherSuites(new String[] {cipherSuite});
            s.startHandshake();
            return s.getSession();
        }
    }

    private static SSLSocket socket(int port, String... protocols) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {new TrustAll()}, new SecureRandom());
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port);
        s.setSoTimeout(10_000);
        s.setEnabledProtocols(protocols);
        return s;
    }

    /** Trusts any server: these checks look at what the server presents, not at whether it is trusted. */
    private static final class TrustAll implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
