package io.starling.cluster.link;

import static io.starling.cluster.link.LinkTestSupport.SECRET;
import static io.starling.cluster.link.LinkTestSupport.message;
import static io.starling.cluster.link.LinkTestSupport.range;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.starling.broker.message.Message;
import io.starling.cluster.link.LinkTestSupport.Proxy;
import io.starling.cluster.link.LinkTestSupport.RawPeer;
import io.starling.cluster.link.LinkTestSupport.Recorder;
import io.starling.codec.Properties;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The node link over real sockets in one JVM: batches, order, reconnects, the handshake, hostile peers. */
class NodeLinkTest {

    private static final InetSocketAddress ANY = new InetSocketAddress("127.0.0.1", 0);
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final List<EventLoopGroup> groups = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
        for (EventLoopGroup g : groups) {
            g.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private NodeLink node(String name, NodeLink.Inbound inbound, NodeLink.Settings settings, byte[] secret) {
        EventLoopGroup g = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        groups.add(g);
        NodeLink link = new NodeLink(name, ANY, secret, g.next(), g, inbound, settings);
        closing.add(link);
        return link;
    }

    private NodeLink node(String name, NodeLink.Inbound inbound) {
        return node(name, inbound, NodeLink.Settings.DEFAULTS, SECRET);
    }

    /** Sends {@code n} messages numbered from {@code from} from one of the sender's producer loops, in one pass. */
    private static void sendFromLoop(NodeLink from, String to, int start, int n) {
        producer(from).submit(() -> {
            for (int i = start; i < start + n; i++) {
                from.send(to, message("t/" + i, i), null);
            }
        }).syncUninterruptibly();
    }

    private static EventLoopGroup groupOf(NodeLink l) {
        return l.loop.parent();
    }

    /** One loop of the node that is not the link's: a publisher's, whose messages keep their order. */
    private static io.netty.util.concurrent.EventExecutor producer(NodeLink l) {
        for (io.netty.util.concurrent.EventExecutor e : groupOf(l)) {
            if (e != l.loop) {
                return e;
            }
        }
        throw new IllegalStateException();
    }

    /** Reads acks until one reaches {@code seq}. */
    private static void awaitAck(RawPeer raw, long seq) throws java.io.IOException {
        long got = 0;
        while (got < seq) {
            ByteBuf ack = raw.readFrame();
            assertThat(ack).isNotNull();
            assertThat(ack.getByte(0)).isEqualTo(Frames.ACK);
            got = ack.getLong(1);
        }
        assertThat(got).isEqualTo(seq);
    }

    @Test
    void messagesArriveInOrderInBatches() {
        Recorder rb = new Recorder();
        NodeLink a = node("a", new Recorder());
        NodeLink b = node("b", rb);
        InetSocketAddress atB = b.start();
        a.start();
        a.peerUp("b", atB);
        for (int k = 0; k < 10; k++) {
            sendFromLoop(a, "b", k * 2000, 2000);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> rb.messages.size() >= 20_000);
        assertThat(rb.messages).hasSize(20_000);
        assertThat(rb.payloads()).isEqualTo(range(0, 20_000));
        PeerStats s = a.stats("b");
        assertThat(s.messagesSent()).isEqualTo(20_000);
        // never one frame per message: at most 256 to a frame, and each producer pass is handed over at once
        assertThat(s.framesSent()).isLessThan(20_000 / 10);
        await().atMost(Duration.ofSeconds(10)).until(() -> s.waiting() == 0);
        assertThat(b.stats("a").messagesReceived()).isEqualTo(20_000);
    }

    @Test
    void theLowerNameDialsAndBothDirectionsCarry() {
        Recorder ra = new Recorder();
        Recorder rb = new Recorder();
        NodeLink a = node("a", ra);
        NodeLink b = node("b", rb);
        InetSocketAddress atA = a.start();
        InetSocketAddress atB = b.start();
        a.peerUp("b", atB);
        b.peerUp("a", atA);
        sendFromLoop(a, "b", 0, 10);
        sendFromLoop(b, "a", 100, 10);
        await().atMost(Duration.ofSeconds(10)).until(() -> ra.messages.size() == 10 && rb.messages.size() == 10);
        assertThat(rb.payloads()).isEqualTo(range(0, 10));
        assertThat(ra.payloads()).isEqualTo(range(100, 110));
        assertThat(a.stats("b").connects()).isEqualTo(1);
        assertThat(b.stats("a").connects()).isEqualTo(1);
    }

    @Test
    void aMessageKeepsEveryFieldThatMustTravel() {
        Recorder rb = new Recorder();
        NodeLink a = node("a", new Recorder());
        NodeLink b = node("b", rb);
        a.start();
        a.peerUp("b", b.start());
        byte[] payload = "hello".getBytes(StandardCharsets.UTF_8);
        Properties p = Properties.builder().payloadFormatIndicator(1).contentType("text/plain").responseTopic("re/ply")
                .correlationData(new byte[] {1, 2, 3}).addUserProperty("k", "v").addUserProperty("k", "w")
                .messageExpiryInterval(100L).build();
        long now = System.currentTimeMillis();
        Message m = Message.published("a/b", 2, true, payload, p, "client-1", now);
        a.send("b", m, List.of("g1/a/+", "g2/#"));
        a.send("b", new Message("plain", 0, false, new byte[0], Properties.EMPTY, null, Message.NEVER), null);
        await().atMost(Duration.ofSeconds(10)).until(() -> rb.messages.size() == 2);
        Message got = rb.messages.get(0);
        assertThat(got.topic()).isEqualTo("a/b");
        assertThat(got.qos()).isEqualTo(2);
        assertThat(got.retain()).isTrue();
        assertThat(got.payload()).isEqualTo(payload);
        assertThat(got.publisherId()).isEqualTo("client-1");
        assertThat(got.properties().payloadFormatIndicator()).isEqualTo(1);
        assertThat(got.properties().contentType()).isEqualTo("text/plain");
        assertThat(got.properties().responseTopic()).isEqualTo("re/ply");
        assertThat(got.properties().correlationData()).containsExactly(1, 2, 3);
        assertThat(got.properties().userProperties()).extracting(u -> u.name() + "=" + u.value())
                .containsExactly("k=v", "k=w");
        // the expiry left travels, not the wall-clock time of the sender
        assertThat(got.expiresAtMillis()).isBetween(now + 1, now + 100_000 + (System.currentTimeMillis() - now));
        assertThat(rb.groups.get(0)).containsExactlyInAnyOrder("g1/a/+", "g2/#");
        Message plain = rb.messages.get(1);
        assertThat(plain.publisherId()).isNull();
        assertThat(plain.expiresAtMillis()).isEqualTo(Message.NEVER);
        assertThat(plain.properties().isEmpty()).isTrue();
        assertThat(plain.qos()).isZero();
    }

    @Test
    void aCutConnectionLosesNothingAndDuplicatesNothing() throws Exception {
        Recorder rb = new Recorder();
        NodeLink a = node("a", new Recorder());
        NodeLink b = node("b", rb);
        a.start();
        Proxy proxy = new Proxy(b.start());
        closing.add(proxy);
        a.peerUp("b", proxy.address());
        sendFromLoop(a, "b", 0, 1000);
        await().atMost(Duration.ofSeconds(10)).until(() -> rb.messages.size() == 1000);
        await().atMost(Duration.ofSeconds(10)).until(() -> a.stats("b").waiting() == 0);
        // what a sends now never reaches b: the link cannot know until the connection breaks
        proxy.blackhole.set(true);
        sendFromLoop(a, "b", 1000, 1000);
        await().atMost(Duration.ofSeconds(10)).until(() -> a.stats("b").messagesSent() == 2000);
        assertThat(rb.messages).hasSize(1000);
        proxy.cut();
        proxy.blackhole.set(false);
        await().atMost(Duration.ofSeconds(10)).until(() -> a.stats("b").connects() == 2 && a.stats("b").isUp());
        sendFromLoop(a, "b", 2000, 1000);
        await().atMost(Duration.ofSeconds(20)).until(() -> rb.messages.size() >= 3000);
        assertThat(rb.payloads()).isEqualTo(range(0, 3000));
        assertThat(a.stats("b").resent()).isEqualTo(1000);
        await().atMost(Duration.ofSeconds(10)).until(() -> a.stats("b").waiting() == 0);
    }

    @Test
    void unacknowledgedButAppliedMessagesAreNotAppliedAgainAfterAReconnect() throws Exception {
        Recorder rb = new Recorder();
        rb.hold = true; // b applies but does not acknowledge (its store has not committed)
        NodeLink a = node("a", new Recorder());
        NodeLink b = node("b", rb);
        a.start();
        Proxy proxy = new Proxy(b.start());
        closing.add(proxy);
        a.peerUp("b", proxy.address());
        sendFromLoop(a, "b", 0, 3000); // more than the ring starts with: it grows, keeping each number
        await().atMost(Duration.ofSeconds(10)).until(() -> rb.messages.size() == 3000);
        assertThat(a.stats("b").waiting()).isEqualTo(3000);
        proxy.cut();
        await().atMost(Duration.ofSeconds(10)).until(() -> a.stats("b").connects() == 2 && a.stats("b").isUp());
        sendFromLoop(a, "b", 3000, 10);
        await().atMost(Duration.ofSeconds(10)).until(() -> rb.messages.size() >= 3010);
        assertThat(rb.payloads()).isEqualTo(range(0, 3010));
        // b acknowledges once its store has the messages
        b.loop.submit(() -> {
            rb.hold = false;
            rb.held.forEach(Runnable::run);
        }).syncUninterruptibly();
        await().atMost(Duration.ofSeconds(10)).until(() -> a.stats("b").waiting() == 0);
    }

    @Test
    void theReceiverDropsWhatItAlreadyApplied() throws Exception {
        Recorder rb = new Recorder();
        NodeLink b = node("b", rb);
        InetSocketAddress atB = b.start();
        try (RawPeer raw = new RawPeer(atB, "a")) {
            raw.hello(42);
            assertThat(raw.authenticate("b", SECRET)).isZero();
            raw.data(1, List.of(message("x", 1), message("x", 2), message("x", 3)));
            raw.data(2, List.of(message("x", 2), message("x", 3), message("x", 4)));
            ByteBuf ack = null;
            while (ack == null || ack.getLong(1) < 4) {
                ack = raw.readFrame();
                assertThat(ack).isNotNull();
                assertThat(ack.getByte(0)).isEqualTo(Frames.ACK);
            }
        }
        assertThat(rb.payloads()).containsExactly("1", "2", "3", "4");
        assertThat(b.stats("a").duplicatesDropped()).isEqualTo(2);
        // the same incarnation again: b says what it applied, so the sender resumes after it
        try (RawPeer raw = new RawPeer(atB, "a")) {
            raw.hello(42);
            assertThat(raw.authenticate("b", SECRET)).isEqualTo(4);
        }
        // a new incarnation (the sender restarted) starts its sequence again
        try (RawPeer raw = new RawPeer(atB, "a")) {
            raw.hello(43);
            assertThat(raw.authenticate("b", SECRET)).isZero();
            raw.data(1, List.of(message("x", 5)));
            assertThat(raw.readFrame().getLong(1)).isEqualTo(1);
        }
        assertThat(rb.payloads()).containsExactly("1", "2", "3", "4", "5");
    }

    @Test
    void aPeerWithTheWrongSecretIsRefused() throws Exception {
        Recorder rb = new Recorder();
        NodeLink b = node("b", rb);
        InetSocketAddress atB = b.start();
        try (RawPeer raw = new RawPeer(atB, "a")) {
            raw.hello(1);
            raw.authenticate("b", "another-secret-of-16-bytes".getBytes(StandardCharsets.UTF_8));
            raw.data(1, List.of(message("x", 1)));
            assertThat(raw.closedByPeer()).isTrue();
        }
        assertThat(rb.messages).isEmpty();
        assertThat(b.stats("a")).isNull(); // a stranger does not even get a peer entry
        assertThat(b.handshakesRefused()).isEqualTo(1);
    }

    @Test
    void aNodeDoesNotTalkToAnAcceptorThatCannotProveTheSecret() throws Exception {
        NodeLink a = node("a", new Recorder());
        a.start();
        try (ServerSocket fake = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            a.peerUp("b", new InetSocketAddress(fake.getInetAddress(), fake.getLocalPort()));
            a.send("b", message("x", 1), null);
            try (Socket s = fake.accept()) {
                java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
                int len = in.readInt();
                in.readFully(new byte[len]); // HELLO
                ByteBuf b = io.netty.buffer.Unpooled.buffer();
                Frames.begin(b, Frames.CHALLENGE);
                Frames.writeString(b, "b");
                b.writeBytes(new byte[Frames.NONCE]);
                b.writeLong(7);
                b.writeLong(0);
                b.writeBytes(new byte[Frames.MAC]); // not a proof
                Frames.end(b, 0);
                s.getOutputStream().write(LinkTestSupport.bytes(b));
                // the dialer closes without sending AUTH or any message
                assertThat(in.read()).isEqualTo(-1);
            }
        }
        assertThat(a.stats("b").isUp()).isFalse();
        assertThat(a.stats("b").messagesSent()).isZero();
    }

    @Test
    void garbageAndHostileHandshakesAreRefusedAndTheLinkStillWorks() throws Exception {
        Recorder rb = new Recorder();
        NodeLink b = node("b", rb);
        InetSocketAddress atB = b.start();
        try (RawPeer raw = new RawPeer(atB, "a")) { // garbage: a length far beyond the handshake's bound
            raw.writeRaw("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(raw.closedByPeer()).isTrue();
        }
        try (RawPeer raw = new RawPeer(atB, "a")) { // a frame type out of place
            ByteBuf f = io.netty.buffer.Unpooled.buffer();
            f.writeBytes(RawPeer.dataFrame(1, List.of(message("x", 1))));
            raw.write(f);
            assertThat(raw.closedByPeer()).isTrue();
        }
        try (RawPeer raw = new RawPeer(atB, "../../etc/passwd\u0000")) { // hostile name
            raw.hello(1);
            assertThat(raw.closedByPeer()).isTrue();
        }
        try (RawPeer raw = new RawPeer(atB, "b")) { // its own name
            raw.hello(1);
            assertThat(raw.closedByPeer()).isTrue();
        }
        try (RawPeer raw = new RawPeer(atB, "a")) { // authenticated, then a malformed frame
            raw.hello(5);
            raw.authenticate("b", SECRET);
            byte[] junk = {0, 0, 0, 20, Frames.DATA, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7};
            raw.writeRaw(junk);
            assertThat(raw.closedByPeer()).isTrue();
        }
        assertThat(rb.messages).isEmpty();
        NodeLink a = node("a", new Recorder());
        a.start();
        a.peerUp("b", atB);
        a.send("b", message("x", 7), null);
        await().atMost(Duration.ofSeconds(10)).until(() -> rb.messages.size() == 1);
        assertThat(rb.payloads()).containsExactly("7");
    }

    @Test
    void halfAFrameWaitsForItsRestAndIsDroppedWithItsConnection() throws Exception {
        Recorder rb = new Recorder();
        NodeLink b = node("b", rb);
        InetSocketAddress atB = b.start();
        byte[] frame = LinkTestSupport.bytes(RawPeer.dataFrame(1, List.of(message("x", 1), message("x", 2))));
        byte[] head = java.util.Arrays.copyOf(frame, frame.length / 2);
        byte[] tail = java.util.Arrays.copyOfRange(frame, frame.length / 2, frame.length);
        try (RawPeer raw = new RawPeer(atB, "a")) {
            raw.hello(9);
            raw.authenticate("b", SECRET);
            raw.writeRaw(head);
            // a frame after it cannot overtake it: b's next answer is the ack of the whole frame
            raw.writeRaw(tail);
            ByteBuf ack = raw.readFrame();
            assertThat(ack.getByte(0)).isEqualTo(Frames.ACK);
            assertThat(ack.getLong(1)).isEqualTo(2);
            assertThat(rb.payloads()).containsExactly("1", "2");
            byte[] next = LinkTestSupport.bytes(RawPeer.dataFrame(3, List.of(message("x", 3))));
            raw.writeRaw(java.util.Arrays.copyOf(next, next.length - 3)); // goes away mid-frame
        }
        try (RawPeer raw = new RawPeer(atB, "a")) {
            raw.hello(9);
            assertThat(raw.authenticate("b", SECRET)).isEqualTo(2); // message 3 was never applied
            raw.data(3, List.of(message("x", 3)));
            awaitAck(raw, 3); // after the ack of 2 again, which a new connection gets first
        }
        assertThat(rb.payloads()).containsExactly("1", "2", "3");
    }

    @Test
    void aPeerThatStopsReadingCostsABoundedBuffer() throws Exception {
        NodeLink.Settings small = new NodeLink.Settings(64, 64 * 1024, 1024 * 1024, 1024, 1024 * 1024, 5000, 200);
        NodeLink a = node("a", new Recorder(), small, SECRET);
        java.util.concurrent.atomic.AtomicLong backlog = new java.util.concurrent.atomic.AtomicLong();
        a.backlog(new NodeLink.Backlog() {
            @Override
            public void added(int messages) {
                backlog.addAndGet(messages);
            }

            @Override
            public void removed(int messages) {
                backlog.addAndGet(-messages);
            }
        });
        a.start();
        try (ServerSocket fake = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            // a real node's acceptor that authenticates and then never reads
            a.peerUp("b", new InetSocketAddress(fake.getInetAddress(), fake.getLocalPort()));
            try (Socket s = fake.accept()) {
                s.setReceiveBufferSize(4096);
                java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
                byte[] hello = new byte[in.readInt()];
                in.readFully(hello);
                ByteBuf h = io.netty.buffer.Unpooled.wrappedBuffer(hello);
                h.readByte();
                h.readByte();
                String name = Frames.readString(h);
                byte[] dialerNonce = new byte[Frames.NONCE];
                h.readBytes(dialerNonce);
                byte[] myNonce = new byte[Frames.NONCE];
                ByteBuf c = io.netty.buffer.Unpooled.buffer();
                Frames.begin(c, Frames.CHALLENGE);
                Frames.writeString(c, "b");
                c.writeBytes(myNonce);
                c.writeLong(3);
                c.writeLong(0);
                c.writeBytes(Handshake.acceptorProof(SECRET, dialerNonce, myNonce, "b", name));
                Frames.end(c, 0);
                s.getOutputStream().write(LinkTestSupport.bytes(c));
                await().atMost(Duration.ofSeconds(10)).until(() -> a.stats("b").isUp());
                byte[] big = new byte[8 * 1024];
                producer(a).submit(() -> {
                    for (int i = 0; i < 5000; i++) {
                        a.send("b", new Message("t", 1, false, big, Properties.EMPTY, "p", Message.NEVER), null);
                    }
                }).syncUninterruptibly();
                await().atMost(Duration.ofSeconds(10)).until(() -> a.stats("b").overflowDropped() > 0);
                PeerStats st = a.stats("b");
                // what waits is bounded by the settings (1 MiB of messages), whatever was offered
                assertThat(st.waiting()).isLessThanOrEqualTo(1024L * 1024 / (8 * 1024));
                assertThat(st.overflowDropped() + st.waiting()).isEqualTo(5000);
                // what waits for a connected peer is counted where publishers are paused ...
                assertThat(backlog.get()).isEqualTo(st.waiting());
            }
        }
        // ... and no longer once its link is down: a peer that is away does not stop the node's publishers
        await().atMost(Duration.ofSeconds(10)).until(() -> !a.stats("b").isUp());
        assertThat(backlog.get()).isZero();
        assertThat(a.stats("b").waiting()).isPositive();
    }

    @Test
    void aNameThatIsNotANodeNameIsRejected() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> node("a b", new Recorder()))
                .isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> node("a", new Recorder(), NodeLink.Settings.DEFAULTS,
                new byte[4])).isInstanceOf(IllegalArgumentException.class);
        assertThat(Set.of("n1", "node-2.example.com", "a_b:1")).allMatch(Handshake::validName);
    }
    @Test
    void aBusyReceiverStopsReadingUntilItResumes() throws Exception {
        List<Runnable> resumes = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean busy = new java.util.concurrent.atomic.AtomicBoolean(true);
        Recorder rb = new Recorder() {
            @Override
            public boolean pauseIfBusy(Runnable pause, Runnable resume) {
                if (!busy.get()) {
                    return false;
                }
                pause.run();
                resumes.add(resume);
                return true;
            }
        };
        NodeLink a = node("a", new Recorder());
        NodeLink b = node("b", rb);
        a.start();
        a.peerUp("b", b.start());
        await().atMost(Duration.ofSeconds(10)).until(() -> a.stats("b") != null && a.stats("b").isUp());
        byte[] kib = new byte[1024];
        producer(a).submit(() -> {
            for (int i = 0; i < 2000; i++) {
                a.send("b", new Message("t", 1, false, kib, Properties.EMPTY, Integer.toString(i), Message.NEVER), null);
            }
        }).syncUninterruptibly();
        // b stops reading after the frames of its current read: the rest (2 MiB) waits, unacknowledged
        await().atMost(Duration.ofSeconds(10)).until(() -> !resumes.isEmpty());
        int applied = rb.messages.size();
        assertThat(applied).isLessThan(2000);
        assertThat(a.stats("b").waiting()).isPositive();
        busy.set(false);
        resumes.forEach(Runnable::run);
        await().atMost(Duration.ofSeconds(10)).until(() -> rb.messages.size() >= 2000);
        assertThat(rb.messages).extracting(Message::publisherId).isEqualTo(range(0, 2000));
        await().atMost(Duration.ofSeconds(10)).until(() -> a.stats("b").waiting() == 0);
    }
}
