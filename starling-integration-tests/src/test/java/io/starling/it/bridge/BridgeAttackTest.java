package io.starling.it.bridge;

import static io.starling.it.bridge.BridgeFixture.awaitConnected;
import static org.assertj.core.api.Assertions.assertThat;

import io.starling.server.StarlingServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Remotes that misbehave, as real sockets: one that accepts TCP and never answers the CONNECT, one that answers
 * garbage, one that goes away in the middle of a packet, one that announces a packet larger than the broker takes.
 * Each time the bridge closes the connection and tries again; it never counts as connected, and the broker goes on
 * serving its own clients.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BridgeAttackTest {

    @TempDir
    Path tmp;

    private BridgeFixture fx;
    private ServerSocket server;

    @BeforeEach
    void setUp() throws IOException {
        fx = new BridgeFixture(tmp);
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void tearDown() throws IOException {
        fx.close();
        server.close();
    }

    private StarlingServer bridgedToFake() {
        return fx.starling("""
                storage: memory
                bridges:
                  - name: fake
                    addresses: ["127.0.0.1:%d"]
                    connect-timeout-seconds: 1
                    reconnect-delay-min-ms: 50
                    reconnect-delay-max-ms: 200
                    topics:
                      - {pattern: "#", direction: both, qos: 1}
                """.formatted(server.getLocalPort()));
    }

    /** Reads what the bridge sends until it closes the socket; returns the first byte it sent (-1 if none). */
    private static int readUntilClosed(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        int first = in.read();
        while (first >= 0 && in.read() >= 0) {
            // drain
        }
        return first;
    }

    @Test
    void remoteThatNeverAnswersConnectIsLeftAfterTheConnectTimeout() throws Exception {
        StarlingServer a = bridgedToFake();
        try (Socket first = server.accept()) {
            first.setSoTimeout(30_000);
            // the CONNECT comes, no CONNACK goes back: the bridge closes after connect-timeout-seconds
            assertThat(readUntilClosed(first)).isEqualTo(0x10);
        }
        try (Socket second = server.accept()) {
            assertThat(second.getInputStream().read()).isEqualTo(0x10); // it tries again
        }
        assertThat(a.bridges().connected("fake")).isFalse();
        assertServesLocalClients(a);
    }

    @Test
    void remoteThatSendsGarbageOrStopsMidPacketIsLeftAndTriedAgain() throws Exception {
        StarlingServer a = bridgedToFake();
        byte[][] answers = {
            {0x00, 0x00},                               // packet type 0 is reserved: malformed
            {0x30, 0x05, 0x00, 0x01, 'x'},              // a PUBLISH before CONNACK
            {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x7F}, // an AUTH of 256 MB, above max-packet-size
            {0x20, 0x02, 0x00, 0x05},                   // CONNACK "not authorized"
        };
        for (byte[] answer : answers) {
            try (Socket s = server.accept()) {
                s.setSoTimeout(30_000);
                InputStream in = s.getInputStream();
                assertThat(in.read()).isEqualTo(0x10); // CONNECT
                OutputStream out = s.getOutputStream();
                out.write(answer);
                out.flush();
                while (in.read() >= 0) {
                    // the bridge closes the connection
                }
            }
        }
        try (Socket s = server.accept()) {
            s.setSoTimeout(30_000);
            InputStream in = s.getInputStream();
            assertThat(in.read()).isEqualTo(0x10);
            // half a CONNACK, then the remote goes away
            s.getOutputStream().write(new byte[] {0x20, 0x02});
            s.getOutputStream().flush();
        }
        try (Socket s = server.accept()) {
            assertThat(s.getInputStream().read()).isEqualTo(0x10); // and it comes back again
        }
        assertThat(a.bridges().connected("fake")).isFalse();
        assertServesLocalClients(a);
    }

    private void assertServesLocalClients(StarlingServer a) throws Exception {
        Peer sub = fx.peer(a, "local-sub").subscribe("local/#", 1);
        fx.peer(a, "local-pub").publish("local/1", "fine", 1);
        assertThat(sub.next().text()).isEqualTo("fine");
        awaitConnected(a, "fake", false);
    }
}
