package io.starling.cluster.link;

import static io.starling.cluster.link.LinkTestSupport.SECRET;
import static io.starling.cluster.link.LinkTestSupport.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.starling.cluster.link.LinkTestSupport.RawPeer;
import io.starling.cluster.link.LinkTestSupport.Recorder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node link over mutual TLS with a cluster CA (certificates made with the {@code openssl} command): members talk,
 * a process with a certificate of another CA or without TLS does not reach the handshake.
 */
class NodeLinkTlsTest {

    @TempDir
    static Path dir;

    private final List<AutoCloseable> closing = new ArrayList<>();
    private final List<EventLoopGroup> groups = new ArrayList<>();

    @BeforeAll
    static void pki() throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                "-subj", "/CN=cluster-ca");
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other-ca.key", "-out", "other-ca.pem",
                "-days", "2", "-subj", "/CN=other-ca");
        node("node", "ca");
        node("foreign", "other-ca");
    }

    private static void node(String name, String ca) throws Exception {
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".rsa", "-out", name + ".csr", "-subj",
                "/CN=" + name);
        openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial",
                "-out", name + ".pem", "-days", "2");
        openssl("pkcs8", "-topk8", "-nocrypt", "-in", name + ".rsa", "-out", name + ".key");
    }

    private static void openssl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("openssl " + String.join(" ", args) + " failed: " + out);
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
        for (EventLoopGroup g : groups) {
            g.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private NodeLink node(String name, Recorder inbound, String cert, String ca) throws Exception {
        EventLoopGroup g = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        groups.add(g);
        NodeLink link = new NodeLink(name, new InetSocketAddress("127.0.0.1", 0), SECRET, g.next(), g, inbound,
                NodeLink.Settings.DEFAULTS);
        SslContext server = SslContextBuilder.forServer(dir.resolve(cert + ".pem").toFile(),
                dir.resolve(cert + ".key").toFile()).trustManager(dir.resolve(ca + ".pem").toFile())
                .clientAuth(ClientAuth.REQUIRE).build();
        SslContext client = SslContextBuilder.forClient().keyManager(dir.resolve(cert + ".pem").toFile(),
                dir.resolve(cert + ".key").toFile()).trustManager(dir.resolve(ca + ".pem").toFile())
                .endpointIdentificationAlgorithm(null).build();
        link.tls(server, client);
        closing.add(link);
        return link;
    }

    @Test
    void membersTalkOverTls() throws Exception {
        Recorder rb = new Recorder();
        NodeLink a = node("a", new Recorder(), "node", "ca");
        NodeLink b = node("b", rb, "node", "ca");
        a.start();
        a.peerUp("b", b.start());
        a.send("b", message("t", 1), null);
        await().atMost(Duration.ofSeconds(20)).until(() -> rb.messages.size() == 1);
        assertThat(rb.payloads()).containsExactly("1");
    }

    @Test
    void aCertificateOfAnotherCaIsRefusedEvenWithTheSecret() throws Exception {
        Recorder rb = new Recorder();
        NodeLink b = node("b", rb, "node", "ca");
        InetSocketAddress atB = b.start();
        NodeLink rogue = node("a", new Recorder(), "foreign", "ca");
        rogue.start();
        rogue.peerUp("b", atB);
        rogue.send("b", message("t", 1), null);
        // it keeps trying; each attempt ends in the TLS handshake
        await().atMost(Duration.ofSeconds(20)).until(() -> b.handshakesRefused() >= 1);
        assertThat(rogue.stats("b").connects()).isZero();
        assertThat(rogue.stats("b").messagesSent()).isZero();
        long before = b.handshakesRefused();
        try (RawPeer plain = new RawPeer(atB, "a")) { // no TLS at all
            plain.hello(1);
            assertThat(plain.closedByPeer()).isTrue();
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> b.handshakesRefused() > before);
        assertThat(rb.messages).isEmpty();
        assertThat(b.stats("a")).isNull();
    }
}
