package io.starling.it.transport;

import static org.assertj.core.api.Assertions.assertThat;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A client certificate whose CN is {@code %c}, on a listener with {@code use-identity-as-username: cn}: the client is
 * the user called {@code %c}. Connecting with client id {@code alice} under {@code allow all readwrite home/%u/#} it
 * gets {@code home/%c/#} (the two characters), never {@code home/alice/#}: the placeholders are replaced in one pass.
 * With mosquitto_sub/mosquitto_pub over TLS, 3.1.1 and 5.0: a subscription to {@code #} shows neither alice's
 * retained message nor her live ones, and the client's PUBLISH to alice's topics is dropped.
 */
class TlsIdentityPlaceholderTest {

    @TempDir
    static Path tmp;

    static TestPki pki;
    static Path percentCert;
    static Path percentKey;
    static StarlingServer server;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(TestPki.opensslAvailable(), "openssl is not installed (bin/test installs it)");
        pki = TestPki.create(tmp.resolve("pki"));
        percentCert = pki.dir.resolve("percent-c.pem");
        percentKey = pki.dir.resolve("percent-c.key");
        Path csr = pki.dir.resolve("percent-c.csr");
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", percentKey.toString(), "-out", csr.toString(),
                "-subj", "/CN=%c");
        openssl("x509", "-req", "-in", csr.toString(), "-CA", pki.ca.toString(), "-CAkey", pki.caKey.toString(),
                "-set_serial", "4242", "-out", percentCert.toString(), "-days", "30",
                "-extfile", pki.dir.resolve("client.ext").toString());
        Path passwd = tmp.resolve("passwd");
        PasswordFile.empty().with("bob", PasswordHash.create("builder".toCharArray(), PasswordHash.MIN_ITERATIONS))
                .write(passwd);
        Path acl = tmp.resolve("acl");
        Files.write(acl, List.of(
                "allow user:bob readwrite #",
                "allow all readwrite home/%u/#",
                "allow all read marker/#"));
        ListenerConfig tls = ListenerConfig.builder(Type.TLS).port(0).cert(pki.serverCert).key(pki.serverKey)
                .ca(pki.ca).clientAuth(ClientAuth.OPTIONAL).useIdentityAsUsername(CertIdentity.CN).build();
        server = StarlingServer.start(BrokerConfig.builder().dataDir(Files.createTempDirectory(tmp, "data"))
                .listeners(List.of(tls)).passwordFile(passwd).aclFile(acl).build());
        port = server.port();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static void openssl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(pki.dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("openssl failed: " + cmd + "\n" + out);
        }
    }

    private static String[] percentC(String version) {
        return new String[] {"--cafile", pki.ca.toString(), "-V", version, "--cert", percentCert.toString(),
            "--key", percentKey.toString(), "-i", "alice"};
    }

    private static String[] bob(String version, String clientId) {
        return new String[] {"--cafile", pki.ca.toString(), "-V", version, "-u", "bob", "-P", "builder", "-i", clientId};
    }

    /** Lines of the subscriber up to (without) {@code last}; fails after 10 s without a line. */
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

    @ParameterizedTest(name = "-V {0}")
    @ValueSource(strings = {"mqttv311", "mqttv5"})
    void aCertificateCalledPercentCGetsItsOwnTopicsOnly_MQTT_3_3_5_2(String version) throws Exception {
        String n = version;
        assertThat(Cli.pub(port, "home/alice/" + n + "/secret", "retained secret", cat(bob(version, "bob-r-" + n), "-r"))
                .ok()).isTrue();
        try (Cli.Sub attacker = new Cli.Sub(port, "#", percentC(version));
                Cli.Sub alice = new Cli.Sub(port, "home/alice/" + n + "/#", bob(version, "bob-watch-" + n))) {
            List<String> seen = new ArrayList<>();
            // wait until the subscription is in place; everything it got on the way counts
            for (int i = 0; i < 20; i++) {
                assertThat(Cli.pub(port, "marker/ready-" + n, "x", bob(version, "bob-m-" + n)).ok()).isTrue();
                String line = attacker.next(1);
                while (line != null && !line.startsWith("marker/ready-")) {
                    seen.add(line);
                    line = attacker.next(1);
                }
                if (line != null) {
                    break;
                }
            }
            assertThat(Cli.pub(port, "home/alice/" + n + "/live", "live secret", bob(version, "bob-l-" + n)).ok()).isTrue();
            assertThat(Cli.pub(port, "home/%c/own-" + n, "for %c", bob(version, "bob-o-" + n)).ok()).isTrue();
            assertThat(Cli.pub(port, "marker/end-" + n, "end", bob(version, "bob-e-" + n)).ok()).isTrue();
            seen.addAll(linesUntil(attacker, "marker/end-" + n + " end"));
            assertThat(seen).as("nothing of alice's reaches the client called %c")
                    .noneMatch(l -> l.startsWith("home/alice/"))
                    .contains("home/%c/own-" + n + " for %c");

            // its PUBLISH to alice's topics is dropped (QoS 1: PUBACK 0x87 on 5.0, acknowledged on 3.1.1)
            Cli.pub(port, "home/alice/" + n + "/spoof", "spoof", percentC(version));
            Cli.pub(port, "home/alice/" + n + "/secret", "", cat(percentC(version), "-r"));
            assertThat(Cli.pub(port, "home/alice/" + n + "/end", "end", bob(version, "bob-f-" + n)).ok()).isTrue();
            assertThat(linesUntil(alice, "home/alice/" + n + "/end end")).as("alice's topics as bob sees them")
                    .containsExactly("home/alice/" + n + "/secret retained secret", "home/alice/" + n + "/live live secret");
        }
    }

    private static String[] cat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
