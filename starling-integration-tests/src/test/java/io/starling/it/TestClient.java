package io.starling.it;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/** One connected MQTT client of some library, reduced to what the cross-client tests need. */
public interface TestClient extends AutoCloseable {

    /** How long a test waits for a message it expects. */
    Duration RECEIVE_TIMEOUT = Duration.ofSeconds(10);

    /** A short bounded wait, used only to assert that nothing (more) arrives. */
    Duration QUIET_PERIOD = Duration.ofMillis(500);

    ClientKind kind();

    String clientId();

    /** The Session Present flag of the CONNACK (always false for the command-line clients). */
    boolean sessionPresent();

    /** Subscribes and returns once the SUBACK arrived; returns the granted QoS / reason code per filter. */
    int[] subscribe(List<String> filters, List<Integer> qos) throws Exception;

    default int subscribe(String filter, int qos) throws Exception {
        return subscribe(List.of(filter), List.of(qos))[0];
    }

    void unsubscribe(String filter) throws Exception;

    /** Publishes and returns once the QoS flow with the broker completed. */
    void publish(String topic, byte[] payload, int qos, boolean retain) throws Exception;

    default void publish(String topic, String payload, int qos) throws Exception {
        publish(topic, payload.getBytes(StandardCharsets.UTF_8), qos, false);
    }

    /** Messages received so far, in arrival order. */
    BlockingQueue<Msg> messages();

    /** Takes the next message, failing the test when none arrives within {@link #RECEIVE_TIMEOUT}. */
    default Msg nextMessage() throws InterruptedException {
        Msg m = messages().poll(RECEIVE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (m == null) {
            throw new AssertionError(kind() + " " + clientId() + ": no message within " + RECEIVE_TIMEOUT);
        }
        return m;
    }

    /** Takes {@code n} messages, failing the test when they do not all arrive. */
    default List<Msg> nextMessages(int n) throws InterruptedException {
        List<Msg> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            list.add(nextMessage());
        }
        return list;
    }

    /** Null when nothing arrives within the {@link #QUIET_PERIOD} (a short bounded poll). */
    default Msg pollQuietly() throws InterruptedException {
        return messages().poll(QUIET_PERIOD.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Sends DISCONNECT (normal disconnection) and closes the connection. */
    void disconnect() throws Exception;

    /** Releases everything; never throws. */
    @Override
    void close();
}
