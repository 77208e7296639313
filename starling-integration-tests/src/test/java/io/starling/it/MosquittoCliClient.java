package io.starling.it;

import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code mosquitto_sub} / {@code mosquitto_pub} behind the {@link TestClient} interface: each subscribe starts a
 * {@code mosquitto_sub} process (client id = this id plus a suffix), each publish runs {@code mosquitto_pub}. The
 * subscriber also subscribes to a private sync topic; {@link #subscribe} returns once a probe published there came
 * back, which proves the subscription is in place (the tools print nothing on SUBACK without {@code -d}).
 */
public final class MosquittoCliClient implements TestClient {

    private final ClientKind kind;
    private final BrokerExtension broker;
    private final String clientId;
    private final boolean clean;
    private final long sessionExpirySeconds;
    private final BlockingQueue<Msg> all = new LinkedBlockingQueue<>();
    private final BlockingQueue<Msg> messages = new LinkedBlockingQueue<>();
    private final BlockingQueue<Msg> probes = new LinkedBlockingQueue<>();
    private final Map<String, Mosquitto.Sub> subs = new HashMap<>();
    private final String syncTopic;
    private final Thread splitter;
    private int subCount;

    MosquittoCliClient(ClientKind kind, BrokerExtension broker, String clientId, boolean clean, long sessionExpirySeconds) {
        this.kind = kind;
        this.broker = broker;
        this.clientId = clientId;
        this.clean = clean;
        this.sessionExpirySeconds = sessionExpirySeconds;
        this.syncTopic = "sync/" + clientId;
        this.splitter = new Thread(this::split, "mosquitto-cli-" + clientId);
        splitter.setDaemon(true);
        splitter.start();
    }

    private void split() {
        try {
            while (true) {
                Msg m = all.take();
                (m.topic().equals(syncTopic) ? probes : messages).add(m);
            }
        } catch (InterruptedException e) {
            // closed
        }
    }

    @Override
    public ClientKind kind() {
        return kind;
    }

    @Override
    public String clientId() {
        return clientId;
    }

    @Override
    public boolean sessionPresent() {
        return false;
    }

    @Override
    public int[] subscribe(List<String> filters, List<Integer> qos) throws Exception {
        int q = qos.get(0);
        List<String> args = new ArrayList<>();
        String id = subCount == 0 ? clientId : clientId + "-" + subCount;
        subCount++;
        args.addAll(List.of("-i", id, "-q", Integer.toString(q), "-t", syncTopic));
        for (String f : filters) {
            args.add("-t");
            args.add(f);
        }
        if (!clean) {
            args.add("-c");
            if (kind.protocolLevel() == 5) {
                args.addAll(List.of("-x", Long.toString(sessionExpirySeconds)));
            }
        }
        Mosquitto.Sub sub = Mosquitto.Sub.start(kind.protocolLevel(), broker, all, args);
        subs.put(String.join(",", filters), sub);
        for (String f : filters) {
            subs.putIfAbsent(f, sub);
        }
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(1)).until(() -> {
            if (!sub.process().isAlive()) {
                throw new AssertionError("mosquitto_sub exited: " + sub.otherLines());
            }
            Mosquitto.pub(kind.protocolLevel(), broker, "-t", syncTopic, "-m", "probe");
            return probes.poll(200, TimeUnit.MILLISECONDS) != null;
        });
        // the tools cannot report the granted QoS
        return filters.stream().mapToInt(f -> q).toArray();
    }

    @Override
    public void unsubscribe(String filter) {
        Mosquitto.Sub sub = subs.remove(filter);
        if (sub != null) {
            sub.close();
        }
    }

    @Override
    public void publish(String topic, byte[] payload, int qos, boolean retain) throws Exception {
        List<String> args = new ArrayList<>(List.of("-i", clientId + "-pub", "-t", topic, "-q", Integer.toString(qos)));
        if (payload.length == 0) {
            args.add("-n");
        } else {
            args.add("-m");
            args.add(new String(payload, StandardCharsets.UTF_8));
        }
        if (retain) {
            args.add("-r");
        }
        Mosquitto.pub(kind.protocolLevel(), broker, args.toArray(new String[0]));
    }

    @Override
    public BlockingQueue<Msg> messages() {
        return messages;
    }

    @Override
    public void disconnect() {
        subs.values().forEach(Mosquitto.Sub::close);
        subs.clear();
    }

    @Override
    public void close() {
        disconnect();
        splitter.interrupt();
    }
}
