package io.starling.cluster.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.starling.broker.message.Message;
import io.starling.codec.Properties;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/** Helpers of the node link tests: an inbound that records, a raw peer speaking the wire format by hand, a proxy. */
public final class LinkTestSupport {

    public static final byte[] SECRET = "0123456789abcdef-cluster-secret".getBytes(StandardCharsets.UTF_8);

    private LinkTestSupport() {
    }

    public static Message message(String topic, int i) {
        return new Message(topic, 1, false, Integer.toString(i).getBytes(StandardCharsets.UTF_8), Properties.EMPTY,
                "pub", Message.NEVER);
    }

    /** Records what arrives; acknowledges at once unless held. */
    static class Recorder implements NodeLink.Inbound {
        final List<Message> messages = new CopyOnWriteArrayList<>();
        final List<Set<String>> groups = new CopyOnWriteArrayList<>();
        final List<Runnable> held = new ArrayList<>();
        volatile boolean hold;

        @Override
        public void apply(String peer, Message m, Set<String> g) {
            messages.add(m);
            groups.add(g == null ? Set.of() : g);
        }

        @Override
        public void whenApplied(Runnable action, Runnable onFailure) {
            if (hold) {
                held.add(action);
            } else {
                action.run();
            }
        }

        List<String> payloads() {
            List<String> out = new ArrayList<>();
            for (Message m : messages) {
                out.add(new String(m.payload(), StandardCharsets.UTF_8));
            }
            return out;
        }
    }

    static List<String> range(int from, int to) {
        List<String> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add(Integer.toString(i));
        }
        return Collections.unmodifiableList(out);
    }

    /** A peer on a plain socket that speaks the link's frames by hand. */
    public static final class RawPeer implements AutoCloseable {
        final Socket socket;
        final DataInputStream in;
        final OutputStream out;
        final String name;
        byte[] nonce = new byte[Frames.NONCE];

        public RawPeer(InetSocketAddress to, String name) throws IOException {
            this.socket = new Socket(to.getAddress(), to.getPort());
            this.in = new DataInputStream(socket.getInputStream());
            this.out = socket.getOutputStream();
            this.name = name;
            new java.security.SecureRandom().nextBytes(nonce);
        }

        public void hello(long incarnation) throws IOException {
            ByteBuf b = Unpooled.buffer();
            Frames.begin(b, Frames.HELLO);
            b.writeByte(Frames.VERSION);
            Frames.writeString(b, name);
            b.writeBytes(nonce);
            b.writeLong(incarnation);
            Frames.end(b, 0);
            write(b);
        }

        /** Reads the acceptor's CHALLENGE and answers with a proof under {@code secret}; returns its applied count. */
        public long authenticate(String acceptor, byte[] secret) throws IOException {
            ByteBuf f = readFrame();
            if (f == null || f.readByte() != Frames.CHALLENGE) {
                throw new IOException("no CHALLENGE");
            }
            String n = Frames.readString(f);
            byte[] theirs = new byte[Frames.NONCE];
            f.readBytes(theirs);
            f.readLong();
            long applied = f.readLong();
            if (!n.equals(acceptor)) {
                throw new IOException("CHALLENGE from " + n);
            }
            ByteBuf b = Unpooled.buffer();
            Frames.begin(b, Frames.AUTH);
            b.writeBytes(Handshake.dialerProof(secret, theirs, nonce, name, acceptor));
            b.writeLong(0);
            Frames.end(b, 0);
            write(b);
            return applied;
        }

        public void data(long first, List<Message> messages) throws IOException {
            write(dataFrame(first, messages));
        }

        static ByteBuf dataFrame(long first, List<Message> messages) {
            ByteBuf b = Unpooled.buffer();
            Frames.begin(b, Frames.DATA);
            b.writeInt(messages.size());
            long seq = first;
            for (Message m : messages) {
                b.writeLong(seq++);
                Frames.writeMessage(b, m, null, System.currentTimeMillis());
            }
            Frames.end(b, 0);
            return b;
        }

        void write(ByteBuf b) throws IOException {
            byte[] bytes = new byte[b.readableBytes()];
            b.readBytes(bytes);
            out.write(bytes);
            out.flush();
        }

        void writeRaw(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        /** The next frame ({@code [type][body]}), {@code null} at the end of the stream. */
        public ByteBuf readFrame() throws IOException {
            int length;
            try {
                length = in.readInt();
            } catch (java.io.EOFException e) {
                return null;
            }
            byte[] body = new byte[length];
            in.readFully(body);
            return Unpooled.wrappedBuffer(body);
        }

        /** Reads until the other side closes the connection (true), or until a read fails (false: reset). */
        boolean closedByPeer() {
            try {
                while (in.read() >= 0) {
                    // drain
                }
                return true;
            } catch (IOException e) {
                return true;
            }
        }

        /** Reads acknowledgements until one reaches {@code seq}; returns it. */
        public long awaitAck(long seq) throws IOException {
            long got = 0;
            while (got < seq) {
                ByteBuf f = readFrame();
                if (f == null || f.getByte(0) != Frames.ACK) {
                    throw new IOException("expected an ACK");
                }
                got = f.getLong(1);
            }
            return got;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /**
     * A TCP proxy for one connection at a time: forwards both ways; {@link #blackhole} stops forwarding what the dialer
     * sends (it is read and thrown away), {@link #cut} closes both sockets of the current connection.
     */
    static final class Proxy implements AutoCloseable {
        final ServerSocket server;
        final InetSocketAddress target;
        final AtomicBoolean blackhole = new AtomicBoolean();
        final List<Socket> open = new CopyOnWriteArrayList<>();
        private final Thread acceptor;

        Proxy(InetSocketAddress target) throws IOException {
            this.target = target;
            this.server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
            this.acceptor = new Thread(this::accept, "proxy");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        InetSocketAddress address() {
            return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket a = server.accept();
                    Socket b = new Socket(target.getAddress(), target.getPort());
                    open.add(a);
                    open.add(b);
                    pipe(a, b, true);
                    pipe(b, a, false);
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void pipe(Socket from, Socket to, boolean fromDialer) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[16384];
                try (InputStream i = from.getInputStream(); OutputStream o = to.getOutputStream()) {
                    int n;
                    while ((n = i.read(buf)) >= 0) {
                        if (!(fromDialer && blackhole.get())) {
                            o.write(buf, 0, n);
                            o.flush();
                        }
                    }
                } catch (IOException e) {
                    // closed
                } finally {
                    closeQuietly(from);
                    closeQuietly(to);
                }
            }, "proxy-pipe");
            t.setDaemon(true);
            t.start();
        }

        void cut() {
            for (Socket s : open) {
                closeQuietly(s);
            }
            open.clear();
        }

        private static void closeQuietly(Socket s) {
            try {
                s.close();
            } catch (IOException e) {
                // ignore
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            cut();
        }
    }

    /** Bytes of a length-prefixed frame as they go on the wire. */
    static byte[] bytes(ByteBuf b) {
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        return out;
    }
    /** What a DATA frame carried: each message with its sequence number. */
    public record Data(List<Long> seqs, List<Message> messages) {
    }

    /**
     * A node's acceptor on a plain server socket, speaking the link by hand: it completes the handshake as a node that
     * holds the secret, says how far it applied, reads what it is sent and acknowledges only when told.
     */
    public static final class RawAcceptor implements AutoCloseable {
        private final ServerSocket server;
        private Socket socket;
        private DataInputStream in;
        /** The incarnation the dialer announced. */
        public long dialerIncarnation;

        public RawAcceptor() throws IOException {
            this.server = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
        }

        public InetSocketAddress address() {
            return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
        }

        /** Accepts the dialer and completes the handshake as {@code name}, saying it applied up to {@code applied}. */
        public void accept(String name, byte[] secret, long applied) throws IOException {
            socket = server.accept();
            in = new DataInputStream(socket.getInputStream());
            ByteBuf hello = frame();
            if (hello.readByte() != Frames.HELLO) {
                throw new IOException("expected HELLO");
            }
            hello.readByte();
            String dialer = Frames.readString(hello);
            byte[] dialerNonce = new byte[Frames.NONCE];
            hello.readBytes(dialerNonce);
            dialerIncarnation = hello.readLong();
            byte[] nonce = new byte[Frames.NONCE];
            new java.security.SecureRandom().nextBytes(nonce);
            ByteBuf c = Unpooled.buffer();
            Frames.begin(c, Frames.CHALLENGE);
            Frames.writeString(c, name);
            c.writeBytes(nonce);
            c.writeLong(5);
            c.writeLong(applied);
            c.writeBytes(Handshake.acceptorProof(secret, dialerNonce, nonce, name, dialer));
            Frames.end(c, 0);
            write(c);
            ByteBuf auth = frame();
            if (auth.readByte() != Frames.AUTH) {
                throw new IOException("expected AUTH");
            }
        }

        /** Reads DATA frames until {@code n} messages have come. */
        public Data read(int n) throws IOException {
            List<Long> seqs = new ArrayList<>();
            List<Message> messages = new ArrayList<>();
            while (messages.size() < n) {
                ByteBuf f = frame();
                if (f.readByte() != Frames.DATA) {
                    throw new IOException("expected DATA");
                }
                int count = f.readInt();
                for (int i = 0; i < count; i++) {
                    seqs.add(f.readLong());
                    messages.add(Frames.readMessage(f, System.currentTimeMillis()).message());
                }
            }
            return new Data(seqs, messages);
        }

        public void ack(long seq) throws IOException {
            ByteBuf b = Unpooled.buffer();
            Frames.begin(b, Frames.ACK);
            b.writeLong(seq);
            Frames.end(b, 0);
            write(b);
        }

        private ByteBuf frame() throws IOException {
            byte[] body = new byte[in.readInt()];
            in.readFully(body);
            return Unpooled.wrappedBuffer(body);
        }

        private void write(ByteBuf b) throws IOException {
            byte[] bytes = new byte[b.readableBytes()];
            b.readBytes(bytes);
            socket.getOutputStream().write(bytes);
            socket.getOutputStream().flush();
        }

        @Override
        public void close() throws IOException {
            if (socket != null) {
                socket.close();
            }
            server.close();
        }
    }
}
