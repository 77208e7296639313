package io.starling.benchmarks;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.starling.broker.session.ClientConnection;
import io.starling.broker.message.PendingWill;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.MqttPacket;

/**
 * A connection for engine benchmarks: always writable, runs on the calling thread, counts what it is asked to
 * write (and drops it), so a benchmark measures the engine and not a socket.
 */
final class CountingConnection implements ClientConnection {

    long written;
    MqttPacket last;
    private final ProtocolVersion version;

    CountingConnection(ProtocolVersion version) {
        this.version = version;
    }

    @Override
    public ProtocolVersion version() {
        return version;
    }

    @Override
    public EventExecutor eventLoop() {
        return ImmediateEventExecutor.INSTANCE;
    }

    @Override
    public boolean isWritable() {
        return true;
    }

    @Override
    public void write(MqttPacket packet) {
        written++;
        last = packet;
    }

    @Override
    public int clientReceiveMaximum() {
        return 65_535;
    }

    @Override
    public long clientMaximumPacketSize() {
        return Long.MAX_VALUE;
    }

    @Override
    public PendingWill takeWill() {
        return null;
    }

    @Override
    public void closeForTakeover() {
    }

    @Override
    public void closeWithReason(ReasonCode reason) {
    }
}
