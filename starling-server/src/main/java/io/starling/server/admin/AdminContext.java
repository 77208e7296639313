package io.starling.server.admin;

import io.starling.broker.Broker;
import io.starling.server.transport.ConnectionGate;
import io.starling.server.transport.IncompletePacketBudget;
import java.util.List;
import java.util.function.Supplier;

/**
 * What the admin listener reads of a running broker, once its store has recovered (see
 * {@link AdminServer#attach}). Everything here is read from the admin event loop, so each
 * value must be safe to read from any thread (counters, atomics, concurrent maps).
 *
 * @param broker the engine: its counters, sessions, retained messages and store
 * @param gate admission of connections: open and refused connections
 * @param incompletePackets bytes held for incomplete packets, connections closed for them
 * @param listeners the MQTT listeners bound so far
 */
public record AdminContext(Broker broker, ConnectionGate gate, IncompletePacketBudget incompletePackets,
        Supplier<List<BoundListener>> listeners) {

    /**
     * One bound MQTT listener.
     *
     * @param type {@code tcp}, {@code tls}, {@code ws} or {@code wss}
     * @param bind the address it is bound to
     * @param port the port it is bound to (the ephemeral one when the config said 0)
     */
    public record BoundListener(String type, String bind, int port) {
    }
}
