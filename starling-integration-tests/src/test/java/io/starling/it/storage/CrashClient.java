package io.starling.it.storage;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A minimal MQTT 3.1.1 client written for the crash test, whose state outlives its connections the way the spec
 * requires of a client with Clean Session 0 (4.4): a publisher that re-sends unacknowledged PUBLISH packets with
 * DUP=1 and the same packet id and re-sends PUBREL after reconnecting, and a QoS 2 receiver that delivers a message
 * once and de-duplicates by packet id until PUBREL (4.3.3, Method A). The test needs to know exactly which PUBLISH
 * got its PUBACK or PUBREC, which the libraries do not expose; everything else uses Paho and HiveMQ. Also the QoS 2
 * receiver of the cluster's crash test: Paho's 5.0 client hands every QoS 2 PUBLISH to the application, also one
 * re-sent (DUP=1) under a packet id it has not released yet, so it cannot show exactly once across a reconnect.
 *
 * <p>A thread keeps it connected: it reconnects every 50 ms while the broker is down (its reconnect back-off), until
 * {@link #stop()}; while it is {@link #offline()} the thread waits for {@link #online()} or {@link #stop()}.
 */
public final class CrashClient {

    /** Time between connection attempts while the broker is down. */
    private static final long RECONNECT_BACKOFF_MS = 50;

    private final String clientId;
    private final int port;
    private final List<String[]> subscriptions = new ArrayList<>(); // filter, qos
    private volatile boolean running;
    private volatile boolean wantConnected = true;
    /** Signalled when {@code wantConnected} or {@code running} changes. */
    private final Object wanted = new Object();
    private Thread thread;
    private Socket socket;
    private OutputStream out;
    private volatile boolean connected;
    private volatile int connections;
    private volatile boolean sessionLost;

    // publisher state (guarded by this)
    private String pubTopic;
    private int pubQos;
    private int window;
    private int nextNumber;
    private int nextPid = 1;
    private boolean publishing;
    /** New messages it may still send; unlimited unless {@link #paced} (the soak's publishers get a steady rate). */
    private long credits = Long.MAX_VALUE;
    /** packet id → {number, state: 0 PUBLISH sent, 1 PUBREL sent}, in send order. */
    private final LinkedHashMap<Integer, int[]> inflight = new LinkedHashMap<>();
    private final List<Integer> acked = new ArrayList<>();

    // receiver state (guarded by this)
    private final Set<Integer> awaitingRelease = new HashSet<>();
    private final Map<String, List<Integer>> received = new LinkedHashMap<>();
    /** What happened, for the test's failure message: connections and QoS 2 packets received. */
    private final List<String> events = new ArrayList<>();

    public CrashClient(String clientId, int port) {
        this.clientId = clientId;
        this.port = port;
    }

    @Override
    public String toString() {
        return clientId;
    }

    public CrashClient subscribe(String filter, int qos) {
        subscriptions.add(new String[] {filter, Integer.toString(qos)});
        return this;
    }

    /** Publishes numbered messages ("0", "1", ...) to {@code topic}, keeping {@code window} in flight. */
    synchronized CrashClient publish(String topic, int qos, int window) {
        this.pubTopic = topic;
        this.pubQos = qos;
        this.window = window;
        this.publishing = true;
        return this;
    }

    /** From now on publishes only as many new messages as {@link #credit} allows. */
    synchronized CrashClient paced() {
        credits = 0;
        return this;
    }

    /** Allows {@code n} more new messages (saving at most ten such grants), and sends them if the window has room. */
    synchronized void credit(int n) {
        credits = Math.min(credits + n, 10L * n);
        try {
            fill();
        } catch (IOException e) {
            // the connection failed: the reader notices and reconnects, and fills the window again
        }
    }

    synchronized void stopPublishing() {
        publishing = false;
    }

    public CrashClient start() {
        running = true;
        thread = new Thread(this::run, "crash-client-" + clientId);
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    /** Disconnects normally (DISCONNECT) and stays away until {@link #online()}. */
    void offline() {
        wantConnected = false;
        synchronized (this) {
            if (connected) {
                try {
                    out.write(new byte[] {(byte) 0xE0, 0});
                    out.flush();
                } catch (IOException e) {
                    // gone already
                }
            }
        }
        closeSocket();
    }

    void online() {
        synchronized (wanted) {
            wantConnected = true;
            wanted.notifyAll();
        }
    }

    public void stop() {
        synchronized (wanted) {
            running = false;
            wanted.notifyAll();
        }
        closeSocket();
    }

    public boolean isConnected() {
        return connected;
    }

    public int connections() {
        return connections;
    }

    /** Whether a reconnect ever found its session gone (Session Present 0). */
    public boolean sessionLost() {
        return sessionLost;
    }

    /** The events around the QoS 2 message {@code number}, for a failure message. */
    public synchronized String eventsAround(int number) {
        int at = -1;
        for (int n = number; n > number - 50 && at < 0; n--) {
            for (int i = 0; i < events.size(); i++) {
                if (events.get(i).startsWith("PUBLISH " + n + " ")) {
                    at = i;
                }
            }
        }
        int from = Math.max(0, (at < 0 ? events.size() : at) - 60);
        return String.join("\n", events.subList(from, Math.min(events.size(), from + 120)));
    }

    synchronized List<Integer> acked() {
        return new ArrayList<>(acked);
    }

    synchronized int ackedCount() {
        return acked.size();
    }

    synchronized int inflightCount() {
        return inflight.size();
    }

    /** How many PUBLISHes it has received, over every topic (duplicates included). */
    synchronized long receivedCount() {
        long n = 0;
        for (List<Integer> l : received.values()) {
            n += l.size();
        }
        return n;
    }

    public synchronized List<Integer> received(String topic) {
        return new ArrayList<>(received.getOrDefault(topic, List.of()));
    }

    private void closeSocket() {
        Socket s = socket;
        if (s != null) {
            try {
                s.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }

    private void run() {
        try {
            while (running) {
                if (!wantConnected) {
                    synchronized (wanted) {
                        while (running && !wantConnected) {
                            wanted.wait();
                        }
                    }
                    continue;
                }
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
                    s.setTcpNoDelay(true);
                    socket = s;
                    out = s.getOutputStream();
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    session(in);
                } catch (IOException e) {
                    // the broker is down or the connection broke: try again after the back-off
                } finally {
                    connected = false;
                }
                synchronized (wanted) {
                    if (running) {
                        wanted.wait(RECONNECT_BACKOFF_MS); // the back-off; stop() ends it at once
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void session(DataInputStream in) throws IOException {
        byte[] id = clientId.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(new byte[] {0, 4, 'M', 'Q', 'T', 'T', 4, 0x00, 0, 0}); // Clean Session 0, no keep alive
        str(body, id);
        write(0x10, body.toByteArray());
        int[] connack = readPacket(in);
        byte[] p = lastBody;
        if (connack[0] != 0x20 || p.length < 2 || p[1] != 0) {
            throw new IOException("CONNACK refused");
        }
        boolean present = (p[0] & 1) == 1;
        boolean first = connections == 0;
        if (!first && !present) {
            sessionLost = true;
        }
        connections++;
        synchronized (this) {
            events.add("CONNACK present " + present);
        }
        if (first && !subscriptions.isEmpty()) {
            ByteArrayOutputStream sub = new ByteArrayOutputStream();
            sub.write(new byte[] {0, 1});
            for (String[] f : subscriptions) {
                str(sub, f[0].getBytes(StandardCharsets.UTF_8));
                sub.write(Integer.parseInt(f[1]));
            }
            write(0x82, sub.toByteArray());
            int[] suback = readPacket(in);
            if (suback[0] != 0x90) {
                throw new IOException("expected SUBACK, got " + Integer.toHexString(suback[0]));
            }
        }
        synchronized (this) {
            // [MQTT-4.4.0-1] re-send unacknowledged PUBLISH (DUP=1) and PUBREL in their original order
            for (Map.Entry<Integer, int[]> e : inflight.entrySet()) {
                if (e.getValue()[1] == 0) {
                    events.add("PUBLISH " + e.getValue()[0] + " id " + e.getKey() + " re-sent");
                    sendPublish(e.getKey(), e.getValue()[0], true);
                } else {
                    write(0x62, pid(e.getKey()));
                }
            }
            connected = true;
            fill();
        }
        while (running && wantConnected) {
            int[] h = readPacket(in);
            onPacket(h[0], lastBody);
        }
    }

    private synchronized void onPacket(int header, byte[] b) throws IOException {
        int type = header >> 4;
        switch (type) {
            case 3 -> onPublish(header, b);
            case 4 -> { // PUBACK
                int[] e = inflight.remove(pidOf(b));
                if (e != null) {
                    acked.add(e[0]);
                }
            }
            case 5 -> { // PUBREC: the QoS 2 message is acknowledged; release it
                int pid = pidOf(b);
                int[] e = inflight.get(pid);
                if (e != null && e[1] == 0) {
                    e[1] = 1;
                    acked.add(e[0]);
                }
                events.add("PUBREC " + (e == null ? "?" : e[0]) + " id " + pid);
                write(0x62, pid(pid));
            }
            case 6 -> { // PUBREL
                int pid = pidOf(b);
                events.add("PUBREL id " + pid);
                awaitingRelease.remove(pid);
                write(0x70, pid(pid));
            }
            case 7 -> inflight.remove(pidOf(b)); // PUBCOMP
            default -> {
                // PINGRESP, SUBACK: nothing to do
            }
        }
        fill();
    }

    private void onPublish(int header, byte[] b) throws IOException {
        int qos = (header >> 1) & 3;
        int tlen = ((b[0] & 0xFF) << 8) | (b[1] & 0xFF);
        String topic = new String(b, 2, tlen, StandardCharsets.UTF_8);
        int pos = 2 + tlen;
        int pid = 0;
        if (qos > 0) {
            pid = ((b[pos] & 0xFF) << 8) | (b[pos + 1] & 0xFF);
            pos += 2;
        }
        int number = Integer.parseInt(new String(b, pos, b.length - pos, StandardCharsets.UTF_8));
        if (qos == 2) {
            events.add("PUBLISH " + number + " id " + pid + ((header & 8) != 0 ? " dup" : "")
                    + (awaitingRelease.contains(pid) ? " (id awaiting release)" : ""));
            if (awaitingRelease.add(pid)) {
                record(topic, number); // Method A: delivered once, duplicates of the id are not
            }
            write(0x50, pid(pid));
        } else {
            record(topic, number);
            if (qos == 1) {
                write(0x40, pid(pid));
            }
        }
    }

    private void record(String topic, int number) {
        received.computeIfAbsent(topic, t -> new ArrayList<>()).add(number);
    }

    /** Sends new messages while the window allows (holding the lock). */
    private void fill() throws IOException {
        while (connected && publishing && inflight.size() < window && credits > 0) {
            int pid = nextPid;
            nextPid = pid == 65_535 ? 1 : pid + 1;
            if (inflight.containsKey(pid)) {
                continue;
            }
            int n = nextNumber++;
            credits--;
            inflight.put(pid, new int[] {n, 0});
            if (pubQos == 2) {
                events.add("PUBLISH " + n + " id " + pid + " sent");
            }
            sendPublish(pid, n, false);
        }
    }

    private void sendPublish(int pid, int number, boolean dup) throws IOException {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        str(p, pubTopic.getBytes(StandardCharsets.UTF_8));
        p.write(pid(pid));
        p.write(Integer.toString(number).getBytes(StandardCharsets.UTF_8));
        write(0x30 | (dup ? 0x08 : 0) | (pubQos << 1), p.toByteArray());
    }

    private void write(int header, byte[] body) throws IOException {
        ByteArrayOutputStream f = new ByteArrayOutputStream(body.length + 5);
        f.write(header);
        int len = body.length;
        do {
            int digit = len % 128;
            len /= 128;
            f.write(len > 0 ? digit | 0x80 : digit);
        } while (len > 0);
        f.write(body);
        OutputStream o = out;
        o.write(f.toByteArray());
        o.flush();
    }

    private byte[] lastBody;

    private int[] readPacket(DataInputStream in) throws IOException {
        int header = in.read();
        if (header < 0) {
            throw new IOException("closed");
        }
        int len = 0;
        int mult = 1;
        int digit;
        do {
            digit = in.read();
            if (digit < 0) {
                throw new IOException("closed");
            }
            len += (digit & 0x7F) * mult;
            mult *= 128;
        } while ((digit & 0x80) != 0);
        byte[] b = new byte[len];
        in.readFully(b);
        lastBody = b;
        return new int[] {header, len};
    }

    private static void str(ByteArrayOutputStream o, byte[] s) throws IOException {
        o.write(s.length >> 8);
        o.write(s.length & 0xFF);
        o.write(s);
    }

    private static byte[] pid(int pid) {
        return new byte[] {(byte) (pid >> 8), (byte) pid};
    }

    private static int pidOf(byte[] b) {
        return ((b[0] & 0xFF) << 8) | (b[1] & 0xFF);
    }
}
