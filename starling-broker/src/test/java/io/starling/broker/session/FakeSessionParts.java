package io.starling.broker.session;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.starling.broker.message.Delivery;
import io.starling.broker.message.PendingWill;
import io.starling.broker.retain.RetainedStore;
import io.starling.broker.store.QueueOwner;
import io.starling.broker.store.SessionRecord;
import io.starling.broker.store.StoredQueue;
import io.starling.broker.topic.Subscription;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.MqttPacket;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;

/** Stand-ins for what a session talks to (its connection, the store, its record), recording what they are told. */
final class FakeSessionParts {

    private FakeSessionParts() {
    }

    /** A connection on the calling thread that keeps what is written to it. */
    static final class Connection implements ClientConnection {
        final List<MqttPacket> written = new ArrayList<>();
        final ProtocolVersion version;
        int receiveMaximum = 65_535;
        boolean writable = true;
        ReasonCode closedWith;

        Connection(ProtocolVersion version) {
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
            return writable;
        }

        @Override
        public void write(MqttPacket packet) {
            written.add(packet);
        }

        @Override
        public int clientReceiveMaximum() {
            return receiveMaximum;
        }

        @Override
        public long clientMaximumPacketSize() {
            return Long.MAX_VALUE;
        }

        @Override
        public void closeForTakeover() {
        }

        @Override
        public PendingWill takeWill() {
            return null;
        }

        @Override
        public void closeWithReason(ReasonCode reason) {
            closedWith = reason;
        }
    }

    /**
     * A store whose durability barrier waits until the test says how it ends ({@link #complete}); writes made inside
     * {@link #atomically} run at once.
     */
    static final class Store implements io.starling.broker.store.Store {
        final List<Runnable[]> waiting = new ArrayList<>();
        boolean immediate = true;

        @Override
        public RetainedStore retained() {
            return null;
        }

        @Override
        public void whenDurable(Runnable action, Runnable onFailure) {
            if (immediate) {
                action.run();
            } else {
                waiting.add(new Runnable[] {action, onFailure});
            }
        }

        /** Ends every barrier waiting, in order: durable, or failed. */
        void complete(boolean durable) {
            List<Runnable[]> now = new ArrayList<>(waiting);
            waiting.clear();
            for (Runnable[] r : now) {
                r[durable ? 0 : 1].run();
            }
        }

        @Override
        public void close() {
        }
    }

    /** A session generation's record and queue that log the writes made to them. */
    static final class Record implements SessionRecord, StoredQueue {
        final List<String> writes = new ArrayList<>();
        /** Pages asked for: the position read after; answered by {@link #answer}. */
        final List<Long> reads = new ArrayList<>();
        private Consumer<List<Delivery>> pending;

        @Override
        public void save(long expirySeconds, long disconnectedAtMillis, PendingWill will,
                Collection<Subscription> subscriptions) {
            writes.add("save");
        }

        @Override
        public SessionRecord restart() {
            return new Record();
        }

        @Override
        public void end() {
            writes.add("end");
        }

        @Override
        public void saveSubscription(Subscription subscription) {
            writes.add("saveSubscription " + subscription.filter());
        }

        @Override
        public void deleteSubscription(String filter) {
            writes.add("deleteSubscription " + filter);
        }

        @Override
        public void inflightSent(int packetId, Delivery delivery) {
            writes.add("inflightSent " + packetId);
        }

        @Override
        public void inflightReleased(int packetId) {
            writes.add("inflightReleased " + packetId);
        }

        @Override
        public void inflightDone(int packetId) {
            writes.add("inflightDone " + packetId);
        }

        @Override
        public void inboundQos2(int packetId, boolean awaiting) {
            writes.add("inboundQos2 " + packetId + " " + awaiting);
        }

        @Override
        public StoredQueue queue() {
            return this;
        }

        @Override
        public void ack(Delivery delivery) {
            writes.add("ack " + delivery.seq());
        }

        @Override
        public void read(long afterSeq, int limit, QueueOwner owner, Consumer<List<Delivery>> onOwner) {
            reads.add(afterSeq);
            pending = onOwner;
        }

        /** Answers the page read last. */
        void answer(List<Delivery> page) {
            Consumer<List<Delivery>> p = pending;
            pending = null;
            p.accept(page);
        }
    }
}
