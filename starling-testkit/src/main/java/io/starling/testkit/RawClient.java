package io.starling.testkit;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;

/**
 * A blocking raw-socket MQTT client for byte scripts in tests: it sends exactly the bytes it is given and reads
 * whole packets (fixed header byte, Remaining Length, body) without decoding them. Not thread-safe; one test
 * thread drives it. I/O errors are rethrown as {@link UncheckedIOException}.
 */
public final class RawClient implements AutoCloseable {

    /** How long {@link #expectPacket(byte...)} waits for the packet. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawClient(Socket socket) throws IOException {
        this.socket = socket;
        // buffered: readPacket reads byte by byte, which must not cost a system call per byte on a long stream
        this.in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
        this.out = socket.getOutputStream();
    }

    /** Opens a TCP connection to {@code host:port} (5 s connect timeout, TCP_NODELAY). */
    public static RawClient connect(String host, int port) {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(host, port), 5_000);
            return new RawClient(socket);
        } catch (IOException e) {
            closeQuietly(socket);
            throw new UncheckedIOException("cannot connect to " + host + ":" + port, e);
        }
    }

    /**
     * Opens a TCP connection to {@code host:port} with small socket buffers (bytes; 0 = the system's default), set
     * before connecting so that the kernel does not grow them: a client that stops reading then fills the broker's
     * side quickly, as a slow or stalled client on a real network would, and one that floods has little in flight.
     */
    public static RawClient connectWithBuffers(String host, int port, int receiveBufferBytes, int sendBufferBytes) {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            if (receiveBufferBytes > 0) {
                socket.setReceiveBufferSize(receiveBufferBytes);
            }
            if (sendBufferBytes > 0) {
                socket.setSendBufferSize(sendBufferBytes);
            }
            socket.connect(new InetSocketAddress(host, port), 5_000);
            return new RawClient(socket);
        } catch (IOException e) {
            closeQuietly(socket);
            throw new UncheckedIOException("cannot connect to " + host + ":" + port, e);
        }
    }

    /**
     * Opens a TCP connection to {@code host:port} from {@code localAddress} (any port), e.g. from 127.0.0.2 to test
     * what a broker does per source address; loopback addresses other than 127.0.0.1 work on Linux.
     */
    public static RawClient connectFrom(String localAddress, String host, int port) {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.bind(new InetSocketAddress(localAddress, 0));
            socket.connect(new InetSocketAddress(host, port), 5_000);
            return new RawClient(socket);
        } catch (IOException e) {
            closeQuietly(socket);
            throw new UncheckedIOException("cannot connect to " + host + ":" + port + " from " + localAddress, e);
        }
    }

    /** Sends the bytes as they are, in one write. */
    public RawClient send(byte... bytes) {
        try {
            out.write(bytes);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("send failed", e);
        }
        return this;
    }

    /** Sends the ints as bytes (each must be 0..255 or a char), for readable scripts with 0x.. literals. */
    public RawClient send(int... bytes) {
        return send(toBytes(bytes));
    }

    /**
     * Reads one whole MQTT packet: the first byte, the Remaining Length and the body, returned together as
     * they were on the wire. Returns {@code null} when no packet starts within {@code timeout}.
     *
     * @throws UncheckedIOException when the server closes the connection (or it fails) before or inside a
     *     packet, or when a started packet does not complete within the later of the timeout and
     *     {@link #DEFAULT_TIMEOUT} after its first byte (a short timeout is for "does a packet come", not a limit on
     *     how fast the broker writes the rest of one)
     */
    public byte[] readPacket(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int first = readByte(deadline, true);
        if (first < 0) {
            return null;
        }
        deadline = Math.max(deadline, System.nanoTime() + DEFAULT_TIMEOUT.toNanos());
        ByteArrayOutputStream packet = new ByteArrayOutputStream();
        packet.write(first);
        int remaining = 0;
        int multiplier = 1;
        for (int i = 0; ; i++) {
            if (i == 4) {
                throw new UncheckedIOException(new IOException("Remaining Length longer than 4 bytes"));
            }
            int b = readByte(deadline, false);
            packet.write(b);
            remaining += (b & 0x7F) * multiplier;
            multiplier *= 128;
            if ((b & 0x80) == 0) {
                break;
            }
        }
        for (int i = 0; i < remaining; i++) {
            packet.write(readByte(deadline, false));
        }
        return packet.toByteArray();
    }

    /** Reads the next packet (waiting up to {@link #DEFAULT_TIMEOUT}) and asserts it equals {@code expected}. */
    public byte[] expectPacket(byte... expected) {
        byte[] actual = readPacket(DEFAULT_TIMEOUT);
        if (actual == null) {
            throw new AssertionError("expected packet " + hex(expected) + " but none arrived within " + DEFAULT_TIMEOUT);
        }
        if (!Arrays.equals(expected, actual)) {
            throw new AssertionError("expected packet " + hex(expected) + " but got " + hex(actual));
        }
        return actual;
    }

    /** {@link #expectPacket(byte...)} with ints for readability. */
    public byte[] expectPacket(int... expected) {
        return expectPacket(toBytes(expected));
    }

    /**
     * Waits up to {@code timeout} for the server to close the connection, discarding whatever it sends
     * meanwhile. True when the stream ended (read returned -1) or the connection was reset.
     */
    public boolean awaitClosed(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] buffer = new byte[4096];
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                socket.setSoTimeout((int) Math.max(1, Duration.ofNanos(left).toMillis()));
                try {
                    if (in.read(buffer) < 0) {
                        return true;
                    }
                } catch (SocketTimeoutException e) {
                    return false;
                }
            }
        } catch (SocketException e) {
            // connection reset, or the socket was closed
            return true;
        } catch (IOException e) {
            return true;
        }
    }

    /**
     * Bytes that can be read now without waiting (0 also when the server has closed the connection): to poll many
     * clients for an answer without consuming part of a packet.
     */
    public int available() {
        try {
            return in.available();
        } catch (IOException e) {
            return 0;
        }
    }

    /** Whether this side has not closed the socket yet. Says nothing about the server's side. */
    public boolean isOpen() {
        return !socket.isClosed();
    }

    /** Closes the socket abruptly (no DISCONNECT packet is sent): to the server it is a dropped connection. */
    @Override
    public void close() {
        closeQuietly(socket);
    }

    /** Hex dump like {@code [10 0d 00 04]}. */
    public static String hex(byte[] bytes) {
        if (bytes == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < bytes.length; i++) {
            if (i > 0) {
                sb.append(' ');
            }
            sb.append(String.format("%02x", bytes[i] & 0xFF));
        }
        return sb.append(']').toString();
    }

    /** Converts ints (0..255, or -128..-1 as bytes) to bytes. */
    public static byte[] toBytes(int... ints) {
        byte[] bytes = new byte[ints.length];
        for (int i = 0; i < ints.length; i++) {
            if (ints[i] < -128 || ints[i] > 255) {
                throw new IllegalArgumentException("not a byte at index " + i + ": " + ints[i]);
            }
            bytes[i] = (byte) ints[i];
        }
        return bytes;
    }

    /** Returns the byte read, or -1 on timeout when {@code timeoutAllowed} (i.e. before a packet started). */
    private int readByte(long deadline, boolean timeoutAllowed) {
        try {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                if (timeoutAllowed) {
                    return -1;
                }
                throw new UncheckedIOException(new SocketTimeoutException("packet incomplete at the deadline"));
            }
            socket.setSoTimeout((int) Math.max(1, Duration.ofNanos(left).toMillis()));
            int b = in.read();
            if (b < 0) {
                throw new UncheckedIOException(new IOException("connection closed by the server"));
            }
            return b;
        } catch (SocketTimeoutException e) {
            if (timeoutAllowed) {
                return -1;
            }
            throw new UncheckedIOException("packet incomplete at the deadline", e);
        } catch (IOException e) {
            throw new UncheckedIOException("read failed", e);
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
