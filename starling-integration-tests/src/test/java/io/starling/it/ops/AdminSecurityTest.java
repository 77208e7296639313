package io.starling.it.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.starling.broker.auth.PasswordFile;
import io.starling.broker.auth.PasswordHash;
import io.starling.broker.config.AdminConfig;
import io.starling.broker.config.BrokerConfig;
import io.starling.server.StarlingServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * An admin listener bound beyond loopback (0.0.0.0, reached through 127.0.0.1) with TLS (an encrypted key) and both
 * sources of credentials: 401 without or with wrong ones on every path, a token and HTTP Basic of a listed user of
 * the password file let in; a start without TLS or without credentials is refused; the access log.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AdminSecurityTest {

    private static final String KEY_PASSWORD = "key-pass-1";
    private static final String TOKEN = "tok-3f9a0c1d2e";

    private final List<AutoCloseable> open = new ArrayList<>();

    @TempDir
    Path tmp;

    @AfterEach
    void closeAll() {
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception e) {
                // best effort
            }
        }
    }

    private static boolean opensslAvailable() {
        try {
            Process p = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void openssl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0).as(cmd + "\n" + out).isTrue();
    }

    /** A self-signed certificate for 127.0.0.1 and an encrypted PKCS#8 key. */
    private AdminConfig.Tls tls() throws IOException, InterruptedException {
        Path cert = tmp.resolve("admin.crt");
        Path plain = tmp.resolve("plain.key");
        Path key = tmp.resolve("admin.key");
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", plain.toString(), "-out", cert.toString(),
                "-days", "2", "-subj", "/CN=starling-admin", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost");
        openssl("pkcs8", "-topk8", "-in", plain.toString(), "-out", key.toString(), "-v2", "aes-256-cbc",
                "-passout", "pass:" + KEY_PASSWORD);
        assertThat(Files.readString(key)).contains("BEGIN ENCRYPTED PRIVATE KEY");
        return new AdminConfig.Tls(cert, key, KEY_PASSWORD);
    }

    private Path passwordFile() throws IOException {
        Path f = tmp.resolve("passwd");
        PasswordFile.empty()
                .with("ops", PasswordHash.create("ops-secret".toCharArray(), PasswordHash.MIN_ITERATIONS))
                .with("mqtt-only", PasswordHash.create("mqtt-secret".toCharArray(), PasswordHash.MIN_ITERATIONS))
                .write(f);
        return f;
    }

    private Path tokenFile() throws IOException {
        Path f = tmp.resolve("tokens");
        Files.writeString(f, "# admin tokens\n\n" + TOKEN + "\n");
        return f;
    }

    private StarlingServer start(AdminConfig admin, Path passwords) {
        BrokerConfig.Builder b = BrokerConfig.builder().bindAddress("127.0.0.1").port(0)
                .dataDir(tmp.resolve("data")).storage(BrokerConfig.Storage.MEMORY).admin(admin);
        if (passwords != null) {
            b.passwordFile(passwords);
        }
        StarlingServer s = StarlingServer.start(b.build());
        open.add(s);
        return s;
    }

    private SSLContext trusting(Path cert) throws Exception {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        try (InputStream in = Files.newInputStream(cert)) {
            ks.setCertificateEntry("admin", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void beyondLoopbackWithTlsAndCredentials() throws Exception {
        assumeTrue(opensslAvailable(), "openssl is needed to make the test certificate");
        AdminConfig.Tls tls = tls();
        AdminConfig admin = new AdminConfig(true, "0.0.0.0", 0, tls, List.of("ops"), tokenFile());
        StarlingServer s = start(admin, passwordFile());
        HttpClient client = HttpClient.newBuilder().sslContext(trusting(tls.certFile()))
                .connectTimeout(Duration.ofSeconds(5)).build();
        AdminHttp https = new AdminHttp(client, "https://127.0.0.1:" + s.adminPort());

        Logger access = (Logger) LoggerFactory.getLogger("io.starling.admin.access");
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        access.addAppender(log);
        Level before = access.getLevel();
        access.setLevel(Level.DEBUG);
        try {
            for (String path : List.of("/api/v1/overview", "/metrics", "/health/live", "/", "/ui/index.html",
                    "/api/v1/openapi.json", "/nope")) {
                AdminHttp.Answer a = https.get(path);
                assertThat(a.status()).as(path).isEqualTo(401);
                assertThat(a.header("WWW-Authenticate")).isEqualTo("Basic realm=\"starling\"");
            }
            assertThat(https.send(https.request("/api/v1/overview").header("Authorization", basic("ops", "wrong")))
                    .status()).isEqualTo(401);
            assertThat(https.send(https.request("/api/v1/overview").header("Authorization",
                    basic("mqtt-only", "mqtt-secret"))).status()).as("not a listed admin user").isEqualTo(401);
            assertThat(https.send(https.request("/api/v1/overview").header("Authorization", "Bearer nope"))
                    .status()).isEqualTo(401);
            assertThat(https.send(https.request("/api/v1/publish").header("Authorization", "Bearer nope")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"topic\":\"x\"}"))).status())
                    .as("a refused POST does nothing").isEqualTo(401);

            AdminHttp.Answer token = https.send(https.request("/api/v1/overview")
                    .header("Authorization", "Bearer " + TOKEN));
            assertThat(token.status()).isEqualTo(200);
            assertThat(token.json().get("status").asText()).isEqualTo("UP");
            for (int i = 0; i < 3; i++) { // the second and third are answered from the cache of good passwords
                AdminHttp.Answer ok = https.send(https.request("/api/v1/clients")
                        .header("Authorization", basic("ops", "ops-secret")));
                assertThat(ok.status()).isEqualTo(200);
            }
            AdminHttp.Answer pub = https.send(https.request("/api/v1/publish")
                    .header("Authorization", basic("ops", "ops-secret")).header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"topic\":\"sec/x\",\"payload\":\"1\"}")));
            assertThat(pub.status()).as(pub.body()).isEqualTo(200);

            // an MQTT client that logged in with the password file shows its user
            org.eclipse.paho.client.mqttv3.MqttClient mqtt = new org.eclipse.paho.client.mqttv3.MqttClient(
                    "tcp://127.0.0.1:" + s.port(), "sec-user", new org.eclipse.paho.client.mqttv3.persist.MemoryPersistence());
            org.eclipse.paho.client.mqttv3.MqttConnectOptions o = new org.eclipse.paho.client.mqttv3.MqttConnectOptions();
            o.setUserName("mqtt-only");
            o.setPassword("mqtt-secret".toCharArray());
            mqtt.connect(o);
            open.add(mqtt::close);
            open.add(mqtt::disconnect);
            AdminHttp.Answer byUser = https.send(https.request("/api/v1/clients?user=mqtt-only")
                    .header("Authorization", "Bearer " + TOKEN));
            assertThat(byUser.json().get("total").asInt()).isEqualTo(1);
            assertThat(byUser.json().get("items").get(0).get("clientId").asText()).isEqualTo("sec-user");
            assertThat(byUser.json().get("items").get(0).get("user").asText()).isEqualTo("mqtt-only");

            AdminHttp.Answer config = https.send(https.request("/api/v1/config")
                    .header("Authorization", "Bearer " + TOKEN));
            assertThat(config.body()).doesNotContain(KEY_PASSWORD).contains("\"keyPassword\":\"***\"")
                    .contains("\"tokenFile\":");
        } finally {
            access.detachAppender(log);
            access.setLevel(before);
        }
        List<String> lines = log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(lines).anyMatch(l -> l.startsWith("GET /api/v1/overview 401 user=- address=127.0.0.1:"));
        assertThat(lines).anyMatch(l -> l.startsWith("GET /api/v1/clients 200 user=ops address=127.0.0.1:"));
        assertThat(lines).anyMatch(l -> l.startsWith("GET /api/v1/overview 200 user=token "));
        assertThat(log.list).anyMatch(e -> e.getFormattedMessage().startsWith("POST /api/v1/publish 200 user=ops")
                && e.getLevel() == Level.INFO);
        assertThat(log.list).anyMatch(e -> e.getFormattedMessage().startsWith("GET /api/v1/clients 200")
                && e.getLevel() == Level.DEBUG);

        // plain HTTP to the HTTPS port gets nowhere
        AdminHttp plain = AdminHttp.loopback(s.adminPort());
        assertThatThrownBy(() -> plain.get("/health/live")).isInstanceOf(IOException.class);
        // and a client that does not trust the certificate is refused by its own TLS
        AdminHttp untrusting = new AdminHttp(HttpClient.newHttpClient(), "https://127.0.0.1:" + s.adminPort());
        assertThatThrownBy(() -> untrusting.get("/health/live")).isInstanceOf(SSLHandshakeException.class);
    }

    @Test
    void credentialsOnLoopbackAreRequiredToo() throws Exception {
        StarlingServer s = start(AdminConfig.loopback(0).withTokenFile(tokenFile()), null);
        AdminHttp http = AdminHttp.loopback(s.adminPort());
        assertThat(http.get("/metrics").status()).isEqualTo(401);
        assertThat(http.send(http.request("/metrics").header("Authorization", "Bearer " + TOKEN)).status())
                .isEqualTo(200);
        // the token file is read again when it changes: the old token goes, the new one comes in (waited for with
        // the old token, which is not a failed login until the file is read again: polling with the new one would
        // count a bad credential per try and block the address)
        Files.writeString(tmp.resolve("tokens"), "a-rotated-token-0123456789\n");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> http.send(http.request("/metrics")
                .header("Authorization", "Bearer " + TOKEN)).status() == 401);
        assertThat(http.send(http.request("/metrics").header("Authorization", "Bearer a-rotated-token-0123456789"))
                .status()).isEqualTo(200);
    }

    @Test
    void anAddressThatKeepsSendingBadCredentialsIsAnswered429UntilItsBlockEnds() throws Exception {
        StarlingServer s = start(AdminConfig.loopback(0).withTokenFile(tokenFile()), null);
        AdminHttp http = AdminHttp.loopback(s.adminPort());
        int limit = s.broker().config().security().authFailureLimit();
        for (int i = 0; i < limit; i++) {
            assertThat(http.send(http.request("/metrics").header("Authorization", "Bearer guess-" + i)).status())
                    .isEqualTo(401);
        }
        AdminHttp.Answer blocked = http.send(http.request("/metrics").header("Authorization", "Bearer " + TOKEN));
        assertThat(blocked.status()).as("blocked: the right token is not even looked at").isEqualTo(429);
        assertThat(blocked.json().get("error").asText()).contains("too many failed logins");
        assertThat(blocked.header("Retry-After")).isEqualTo(
                Long.toString(s.broker().config().security().authBlock().toSeconds()));
        assertThat(s.broker().metrics().authFailures.sum()).as("MQTT's failed-login count is apart").isZero();
    }

    @Test
    void startIsRefusedBeyondLoopbackWithoutTlsOrCredentials() throws Exception {
        AdminConfig bare = new AdminConfig(true, "0.0.0.0", 0);
        assertThatThrownBy(() -> start(bare.withTokenFile(tokenFile()), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("missing: admin: tls").hasMessageNotContaining("admin: users or");
        assertThatThrownBy(() -> start(bare.withTls(new AdminConfig.Tls(tmp.resolve("c"), tmp.resolve("k"), null)),
                null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("missing: admin: users or admin: token-file");
        assertThatThrownBy(() -> start(AdminConfig.loopback(0).withUsers(List.of("ops")), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("security: password-file");
    }
}
