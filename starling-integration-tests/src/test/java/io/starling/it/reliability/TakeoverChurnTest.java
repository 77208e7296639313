package io.starling.it.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.broker.config.BrokerConfig;
import io.starling.it.BrokerExtension;
import io.starling.it.ClientKind;
import io.starling.it.Clients;
import io.starling.it.TestClient;
import io.starling.it.spec.Wire;
import io.starling.testkit.RawClient;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Session take-over churn: many connections fighting over one client id, as fast as the sockets go. A take-over
 * costs a bounded amount of work, so the churn of one client id delays nobody else; and a session handed from one
 * connection to the next is only ever touched on its owner's event loop, so the log stays free of errors. Flapping
 * detection is off here: what is shown is that take-over is cheap, not that the churn is banned.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class TakeoverChurnTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension(b -> b.flapping(BrokerConfig.Flapping.OFF));

    @RegisterExtension
    final Clients clients = new Clients(broker);

    /** Threads that connect with one client id over and over, each new connection taking the session over. */
    private final class Churn implements AutoCloseable {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong cycles = new AtomicLong();
        final AtomicLong received = new AtomicLong();
        final List<Thread> threads = new ArrayList<>();

        /**
         * @param persistent Clean Start 0 (the session and its messages are resumed, alternately by 5.0 and 3.1.1
         *     connections) rather than 1 with a Session Expiry Interval (the stored session is ended every time)
         * @param answer read for a moment and acknowledge what arrives (PUBACK, PUBREC, PUBCOMP) before the next
         *     connection takes over; otherwise move on as soon as the CONNACK is there
         */
        Churn(int threadCount, String clientId, boolean persistent, boolean answer) {
            for (int t = 0; t < threadCount; t++) {
                int n = t;
                Thread th = new Thread(() -> run(n, clientId, persistent, answer), "churn-" + t);
                th.setDaemon(true);
                threads.add(th);
                th.start();
            }
        }

        private void run(int thread, String clientId, boolean persistent, boolean answer) {
            RawClient previous = null;
            int pid = 1;
            while (!stop.get()) {
                RawClient c = null;
                try {
                    c = RawClient.connect(broker.host(), broker.port());
                    boolean v5 = !persistent || (cycles.get() + thread) % 2 == 0;
                    int[] connect = v5 ? Wire.connect5(clientId, persistent ? 0 : Wire.CLEAN, 0,
                            Wire.props(Wire.sessionExpiry(300))) : Wire.connect311(clientId, 0, 0);
                    int[] subscribe = v5 ? Wire.subscribe5(1, Wire.props(), "churn/#", 2)
                            : Wire.subscribe311(1, "churn/#", 2);
                    int[] publish = v5 ? Wire.publish5(Wire.QOS1, "churn/" + thread, pid, Wire.props(), "c")
                            : Wire.publish311(Wire.QOS1, "churn/" + thread, pid, "c");
                    pid = pid % 65_535 + 1;
                    c.send(Wire.cat(connect, subscribe, publish));
                    if (answer) {
                        answerFor(c, 30);
                    } else {
                        c.readPacket(Duration.ofSeconds(1)); // the CONNACK, as a client does before it goes on
                    }
                } catch (UncheckedIOException e) {
                    // taken over by another thread's connection, or refused: that is the churn
                }
                if (previous != null) {
                    previous.close();
                }
                previous = c;
                cycles.incrementAndGet();
            }
            if (previous != null) {
                previous.close();
            }
        }

        /** Reads for up to {@code millis} and acknowledges what the broker sends, as a real client would. */
        private void answerFor(RawClient c, long millis) {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            while (System.nanoTime() < deadline) {
                byte[] p = c.readPacket(Duration.ofMillis(10));
                if (p == null) {
                    continue;
                }
                int type = p[0] & 0xF0;
                int qos = (p[0] >> 1) & 3;
                if (type == 0x30 && qos > 0) {
                    received.incrementAndGet();
                    int i = 1;
                    while ((p[i] & 0x80) != 0) {
                        i++;
                    }
                    i++;
                    int pidAt = i + 2 + (((p[i] & 0xFF) << 8) | (p[i + 1] & 0xFF));
                    c.send(qos == 1 ? 0x40 : 0x50, 0x02, p[pidAt] & 0xFF, p[pidAt + 1] & 0xFF); // PUBACK / PUBREC
                } else if (type == 0x60) {
                    c.send(0x70, 0x02, p[2] & 0xFF, p[3] & 0xFF); // PUBREL -> PUBCOMP
                }
            }
        }

        @Override
        public void close() {
            stop.set(true);
            for (Thread t : threads) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /**
     * Eight threads take one stored session over without pause (Clean Start with a Session Expiry Interval, so each
     * take-over ends a stored session and starts another), each new connection sending CONNECT, SUBSCRIBE and PUBLISH
     * at once and the next one following as soon as the CONNACK is there;
     * meanwhile another client's QoS 1 round trips and new clients' CONNECTs are all answered, and once the churn
     * stops the broker shuts down cleanly.
     */
    @Test
    void churnOfOneClientIdDelaysNoOtherClient() throws Exception {
        try (LogCapture logs = new LogCapture()) {
            TestClient other = clients.connect(ClientKind.HIVEMQ_V5, "bystander", true, 0);
            other.subscribe("by/#", 1);
            try (Churn churn = new Churn(8, "churning", false, false)) {
                for (int i = 0; i < 100; i++) {
                    other.publish("by/x", "m" + i, 1);
                    assertThat(other.nextMessage().text()).isEqualTo("m" + i);
                    if (i % 20 == 0) {
                        clients.connect(ClientKind.PAHO_V311, "newcomer-" + i, true, 0).close();
                    }
                }
                assertThat(churn.cycles.get()).as("the churn really ran meanwhile").isGreaterThan(200);
            }
            other.publish("by/x", "after", 1);
            assertThat(other.nextMessage().text()).isEqualTo("after");
            broker.stop(); // the store's backlog, if any, does not hold the shutdown
            assertThat(logs.throwables("Exception", "Error")).isEmpty();
        }
    }

    /**
     * Eight threads take a persistent session over and over, alternately with 5.0 and 3.1.1 connections that resume
     * it, acknowledge the QoS 1 and 2 messages a publisher keeps sending to it, and are taken over mid-flow. The
     * session is only touched on its owner's loop: not one exception in the log (each new connection takes the session
     * over: [MQTT-3.1.4-2] on 3.1.1, [MQTT-3.1.4-3] on 5.0); afterwards the session is still whole and delivers.
     */
    @Test
    void takeOversUnderLoadLeaveNoErrorInTheLog() throws Exception {
        try (LogCapture logs = new LogCapture()) {
            TestClient publisher = clients.connect(ClientKind.HIVEMQ_V5, "loader", true, 0);
            AtomicBoolean publishing = new AtomicBoolean(true);
            Thread load = new Thread(() -> {
                int i = 0;
                while (publishing.get()) {
                    try {
                        publisher.publish("churn/load", "l" + i, 1 + i % 2);
                    } catch (Exception e) {
                        return;
                    }
                    i++;
                }
            }, "loader");
            load.start();
            long received;
            try (Churn churn = new Churn(8, "sticky", true, true)) {
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60))
                        .until(() -> churn.cycles.get() > 2000 && churn.received.get() > 200);
                received = churn.received.get();
            } finally {
                publishing.set(false);
                load.join();
            }
            assertThat(received).isPositive();
            TestClient last = clients.connect(ClientKind.PAHO_V311, "sticky", false, 0);
            TestClient check = clients.connect(ClientKind.PAHO_V5, "checker", true, 0);
            check.publish("churn/final", "final", 1);
            List<String> seen = new ArrayList<>();
            while (!seen.contains("final")) {
                seen.add(last.nextMessage().text());
            }
            assertThat(logs.throwables("Exception", "Error")).isEmpty();
            assertThat(logs.find(ch.qos.logback.classic.Level.ERROR, m -> true)).isEmpty();
        }
    }
}
