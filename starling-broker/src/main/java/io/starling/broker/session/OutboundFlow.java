package io.starling.broker.session;

import io.starling.broker.message.Delivery;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.retain.RetainedFeed;
import io.starling.broker.store.SessionRecord;
import io.starling.broker.store.StoredInflight;
import io.starling.codec.Properties;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.MqttPacket;
import io.starling.codec.packet.PubRelPacket;
import io.starling.codec.packet.PublishPacket;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A session's outbound deliveries, from the moment one reaches the session to its end: whether it is sent now or
 * queued ({@link OutboundQueue}), the pages of the stored queue ({@link StoredQueueCursor}), the hand-over of
 * retained messages ({@link RetainedFeeds}), the in-flight window ({@link InflightWindow}) and the acknowledgements
 * that free it, the re-sending of what is in flight when the session is resumed, and the writes to the store that a
 * QoS 2 delivery's packet id and PUBREL depend on. What it needs of the session (the attached connection and its
 * {@link DeliveryFilter}, the store's record, whether the session is discarded) it reads from the {@link Session}
 * each time, so attaching, detaching and ending stay with the session.
 *
 * <p>A delivery ends in one place, {@link #done}: acknowledged, expired, refused by the ACL or the client, too large
 * for the client, or moved to another member of its shared-subscription group; a stored one leaves the stored queue
 * there.
 *
 * <p>Cost: the window only until the first message is queued, paged in from the store or fed from the retained
 * messages; the queue, the cursor and the feeds are made then and kept for the session's life.
 *
 * <p>Thread-safety: confined to the session's owner loop, except {@link #queuedBytesFromAnyThread()}.
 */
final class OutboundFlow {

    /** The session's logger: these lines are about the session. */
    private static final Logger LOG = LoggerFactory.getLogger(Session.class);

    /** How a delivery ended, for {@link #done}. */
    enum End {
        /** Acknowledged by the client (PUBACK, or PUBREC for QoS 2). */
        ACKNOWLEDGED,
        /** Refused by the client (5.0 PUBREC with an error reason code). */
        REFUSED,
        /** The client may not read its topic. */
        NOT_AUTHORIZED,
        /** Expired before onward delivery started [MQTT-3.3.2-5]. */
        EXPIRED,
        /** Larger than the client's Maximum Packet Size [MQTT-3.1.2-25]. */
        TOO_LARGE,
        /** Given to another member of its shared-subscription group (5.0 4.8.2). */
        MOVED
    }

    private final Session session;
    private final InflightWindow inflight;
    /**
     * Made on first use, then kept. Written on the owner only; read from other loops by the queue budget through
     * {@link #queuedBytesFromAnyThread()}, which takes {@code null} (or a queue not yet seen whole) as empty.
     */
    private OutboundQueue queue;
    /** Made on first use (a stored delivery, or a restore from the store), then kept. */
    private StoredQueueCursor stored;
    /** Made on the first retained feed, then kept. */
    private RetainedFeeds feeds;
    /** Set while {@link #resume()} re-sends the in-flight window: nothing else is sent meanwhile. */
    private boolean resuming;
    /** PUBLISH packets of this session waiting in {@link #writeWhenDurable}. */
    private int writesWaiting;

    OutboundFlow(Session session) {
        this.session = session;
        this.inflight = new InflightWindow(session.context().metrics().inflight);
    }

    // ---------------------------------------------------------------- state

    int queuedCount() {
        return queue == null ? 0 : queue.size();
    }

    int inflightCount() {
        return inflight.size();
    }

    long droppedCount() {
        return queue == null ? 0 : queue.dropped();
    }

    long queuedBytesFromAnyThread() {
        OutboundQueue q = queue;
        return q == null ? 0 : q.bytesFromAnyThread();
    }

    List<Delivery> queuedDeliveries() {
        return queue == null ? List.of() : queue.snapshot();
    }

    /** What is in flight or queued and not in the store, oldest first (a copy, on the owner). */
    List<Delivery> unstoredDeliveries() {
        List<Delivery> out = new java.util.ArrayList<>();
        for (Map.Entry<Integer, InflightWindow.Entry> e : inflight.snapshot()) {
            Delivery d = e.getValue().delivery;
            if (d != null && !d.isStored() && !e.getValue().pubrelSent) {
                out.add(d);
            }
        }
        for (Delivery d : queuedDeliveries()) {
            if (!d.isStored()) {
                out.add(d);
            }
        }
        return out;
    }

    private OutboundQueue queue() {
        OutboundQueue q = queue;
        if (q == null) {
            SessionContext c = session.context();
            q = new OutboundQueue(session, c.config(), c.metrics(), c.largeQueues());
            queue = q;
        }
        return q;
    }

    private StoredQueueCursor stored() {
        if (stored == null) {
            stored = new StoredQueueCursor();
        }
        return stored;
    }

    private boolean queueIsEmpty() {
        return queue == null || queue.isEmpty();
    }

    private boolean isFeeding() {
        return feeds != null && feeds.isFeeding();
    }

    // ---------------------------------------------------------------- lifecycle

    /** The in-flight state and stored queue of a session restored from the store. */
    void restore(long lastSeq, List<StoredInflight> inflightRecords) {
        stored().restore(lastSeq, inflight.restore(inflightRecords));
    }

    /** Removes the shared-subscription deliveries that have not reached the client; see {@link Session}. */
    List<Delivery> takeShared() {
        List<Delivery> taken = inflight.takeSharedQos1();
        if (queue != null) {
            taken.addAll(queue.takeShared());
        }
        for (Delivery d : taken) {
            done(d, End.MOVED); // the other member stores it again if it keeps messages
        }
        return taken;
    }

    /** The session ended: forgets what is queued, fed and in flight. */
    void discard() {
        if (feeds != null) {
            feeds.clear();
        }
        if (queue != null) {
            queue.clear();
        }
        inflight.clear();
    }

    /** Clean Start: forgets everything, packet ids start again from 1 and the stored queue is dropped. */
    void reset() {
        discard();
        inflight.reset();
        if (stored != null) {
            stored.clear(); // the stored queue is dropped with the rest (SessionManager starts a new generation)
        }
    }

    // ---------------------------------------------------------------- deliveries in

    /** See {@link Session#deliver}. */
    void deliver(Delivery d) {
        if (session.isDiscarded()) {
            return;
        }
        ClientConnection c = session.connection();
        if (c == null && d.qos() == 0 && !session.context().config().queueQos0Messages()) {
            return; // QoS 0 is not kept for offline sessions unless configured
        }
        if (c != null && queueIsEmpty() && !isFeeding() && canSend(d)) {
            send(d);
            return;
        }
        queue().offer(d); // behind the retained messages of a new subscription, while they are handed over
    }

    /** See {@link Session#deliverStored}. */
    void deliverStored(Delivery d) {
        if (session.isDiscarded()) {
            return;
        }
        StoredQueueCursor s = stored();
        if (s.isPast(d.seq())) {
            return; // the session ended (the store dropped its queue), or the entry came in with a page already
        }
        if (!s.take(d.seq(), queuedCount(), session.connection() != null)) {
            return;
        }
        if (queueIsEmpty() && !isFeeding() && canSend(d)) {
            send(d);
            return;
        }
        queue().addStored(d);
    }

    /** The store refused a delivery because the stored queue is full: counted as dropped. */
    void storedQueueFull() {
        queue().countDrop();
    }

    /** See {@link Session#feedRetained}. */
    void feedRetained(RetainedFeed feed) {
        if (session.isDiscarded()) {
            return;
        }
        if (feeds == null) {
            feeds = new RetainedFeeds();
        }
        feeds.add(feed);
        drain();
    }

    void cancelRetained(String filter) {
        if (feeds != null) {
            feeds.cancel(filter);
        }
    }

    /** Whether {@link #deliverRetained} would send {@code d} now: the connection takes it. */
    boolean accepts(Delivery d) {
        return session.connection() != null && canSend(d);
    }

    void deliverRetained(Delivery d) {
        if (!session.isDiscarded() && session.connection() != null) {
            send(d);
        }
    }

    // ---------------------------------------------------------------- sending

    private boolean canSend(Delivery d) {
        return session.connection().isWritable() && (d.qos() == 0 || inflight.size() < window());
    }

    /**
     * The in-flight window: {@code max-inflight-messages}, and never more unacknowledged QoS 1/2 PUBLISH packets than
     * the client's Receive Maximum (5.0 [MQTT-3.3.4-9]); other packets are never held back by it [MQTT-3.3.4-10].
     */
    private int window() {
        return Math.min(session.context().config().maxInflightMessages(), session.connection().clientReceiveMaximum());
    }

    /** See {@link Session#drain}. */
    void drain() {
        if (resuming) {
            return; // resume() drains once the in-flight window is re-sent
        }
        if (feeds != null && feeds.any() && session.connection() != null) {
            feeds.pump(session);
            if (feeds.isFeeding()) {
                return; // what was queued meanwhile follows the retained messages
            }
        }
        while (session.connection() != null && !queueIsEmpty()) {
            if (!canSend(queue.peek())) {
                break;
            }
            send(queue.poll());
        }
        if (session.connection() != null && queueIsEmpty() && stored != null && stored.needsPage()) {
            requestPage();
        }
    }

    private void requestPage() {
        StoredQueueCursor s = stored;
        s.pageRequested();
        long upTo = s.upTo();
        int pageEpoch = s.epoch();
        session.record().queue().read(s.after(), StoredQueueCursor.PAGE_SIZE, session, page -> {
            if (pageEpoch == s.epoch()) {
                onPage(page, upTo);
            }
        });
    }

    /** A page of the stored queue read after the cursor (see {@link StoredQueueCursor#pageDone}). */
    private void onPage(List<Delivery> page, long upTo) {
        stored.pageArrived();
        if (session.isDiscarded()) {
            return;
        }
        for (Delivery d : page) {
            if (stored.acceptFromPage(d.seq())) {
                queue().addStored(d);
            }
        }
        stored.pageDone(page.size(), upTo);
        if (session.connection() != null) {
            drain();
        }
    }

    /** Sends a delivery the window and the socket have room for, unless the filter or the client's size refuses it. */
    private void send(Delivery d) {
        DeliveryFilter filter = session.filter();
        DeliveryFilter.Verdict verdict = filter.check(d);
        if (verdict != DeliveryFilter.Verdict.SEND) {
            done(d, verdict == DeliveryFilter.Verdict.EXPIRED ? End.EXPIRED : End.NOT_AUTHORIZED);
            return;
        }
        int packetId = d.qos() > 0 ? inflight.allocatePacketId() : 0;
        PublishPacket packet = filter.toPacket(d, packetId, false);
        if (!filter.fits(packet)) {
            done(d, End.TOO_LARGE);
            return;
        }
        BrokerMetrics metrics = session.context().metrics();
        metrics.sent(d.qos(), d.message().payload().length);
        long stamp = d.message().receivedNanos();
        if (stamp != 0) {
            // a sampled PUBLISH (see Message#receivedNanos): its time from the publisher's PUBLISH to this write
            metrics.endToEnd().record(System.nanoTime() - stamp);
        }
        if (d.qos() > 0) {
            InflightWindow.Entry f = inflight.add(packetId, d);
            if (d.qos() == 2 && d.isStored()) {
                // the packet id must survive a crash, or a re-send under another id would be a second delivery
                // to the client: the PUBLISH leaves once its in-flight record is durable
                f.stored = true;
                session.record().inflightSent(packetId, d);
                writeWhenDurable(packet, f);
                return;
            }
        }
        if (writesWaiting > 0) {
            writeWhenDurable(packet, null); // behind a QoS 2 PUBLISH that waits for its record: the session's order
            return;
        }
        session.connection().write(packet);
    }

    /** The one end of every delivery: counted by how it ended, and removed from the stored queue if it is there. */
    private void done(Delivery d, End end) {
        BrokerMetrics metrics = session.context().metrics();
        switch (end) {
            case NOT_AUTHORIZED -> {
                metrics.aclDenied(BrokerMetrics.AclAction.DELIVER);
                if (LOG.isDebugEnabled()) {
                    LOG.debug("Not delivered to client '{}': may not read '{}'", session.clientId(), d.message().topic());
                }
            }
            case EXPIRED -> metrics.messagesExpired.increment();
            case TOO_LARGE -> { // as if it had been delivered [MQTT-3.1.2-25]
                metrics.messagesDropped.increment();
                metrics.droppedTooLarge.increment();
            }
            default -> {
                // acknowledged, refused by the client or moved: nothing to count
            }
        }
        if (d.isStored()) {
            session.record().queue().ack(d);
        }
    }

    /**
     * Writes a packet once what the store holds for this loop is durable. Actions of one loop run in the order they
     * were asked for, so packets written through here keep their order among themselves, and later packets of the
     * session follow them through here too while any waits ({@link #writesWaiting}). If the store could not write
     * what the packet depends on (a QoS 2 PUBLISH's in-flight record), the packet is not sent and the connection is
     * closed: the message stays in flight and is re-sent to the client's next connection, after its record
     * ({@code recorded}, if given) is written again.
     */
    private void writeWhenDurable(MqttPacket packet, InflightWindow.Entry recorded) {
        ClientConnection c = session.connection();
        writesWaiting++;
        session.context().store().whenDurable(() -> session.execute(() -> {
            writesWaiting--;
            if (session.connection() == c) {
                c.write(packet);
            }
        }), () -> session.execute(() -> {
            writesWaiting--;
            if (recorded != null) {
                recorded.unrecorded = true;
            }
            if (session.connection() == c) {
                storeFailed(c);
            }
        }));
    }

    /** The store did not keep what an outbound packet depends on: the client reconnects and gets it again. */
    private void storeFailed(ClientConnection c) {
        LOG.warn("Client '{}': the store could not record a message in flight to it; closing its connection (the message"
                + " is sent again when it reconnects)", session.clientId());
        c.closeWithReason(ReasonCode.UNSPECIFIED_ERROR);
    }

    // ---------------------------------------------------------------- acknowledgements

    /** PUBACK from the client: the QoS 1 message is done. */
    void onPubAck(int packetId) {
        InflightWindow.Entry f = inflight.get(packetId);
        if (f != null && f.delivery != null && f.delivery.qos() == 1) {
            inflight.remove(packetId);
            done(f.delivery, End.ACKNOWLEDGED);
            drain();
        }
    }

    /** PUBREC from the client: answer PUBREL, or drop the message if the client refused it (5.0 reason code). */
    void onPubRec(int packetId, ReasonCode reason) {
        InflightWindow.Entry f = inflight.get(packetId);
        if (f == null || (f.delivery != null && f.delivery.qos() != 2)) {
            ClientConnection c = session.connection();
            c.write(new PubRelPacket(packetId, c.version().isV5()
                    ? ReasonCode.PACKET_IDENTIFIER_NOT_FOUND : ReasonCode.SUCCESS, Properties.EMPTY));
            return;
        }
        if (reason.isError()) {
            inflight.remove(packetId);
            if (f.stored) {
                session.record().inflightDone(packetId);
            }
            if (f.delivery != null) {
                done(f.delivery, End.REFUSED);
            }
            drain();
            return;
        }
        if (f.stored) {
            releaseStored(packetId, f);
            return;
        }
        f.pubrelSent = true;
        session.connection().write(PubRelPacket.of(packetId)); // [MQTT-4.3.3-1] PUBREL after PUBREC
    }

    /**
     * PUBREC for a stored QoS 2 delivery: its PUBREL-pending state and the removal of its queue entry are stored
     * together, and the PUBREL leaves once they are durable; once PUBREL is out the client may forget the packet id,
     * so a crash must not bring the PUBLISH back. If the store could not write them, the PUBLISH is re-sent instead to
     * the next connection (as the store still has it).
     */
    private void releaseStored(int packetId, InflightWindow.Entry f) {
        boolean recorded = !f.pubrelSent;
        if (recorded) {
            // together: a crash between the two would either lose the PUBREL or deliver the message again
            session.context().store().atomically(() -> {
                session.record().inflightReleased(packetId);
                if (f.delivery != null) {
                    done(f.delivery, End.ACKNOWLEDGED);
                }
            });
        }
        f.pubrelSent = true;
        ClientConnection c = session.connection();
        session.context().store().whenDurable(() -> session.execute(() -> {
            if (session.connection() == c) {
                c.write(PubRelPacket.of(packetId)); // [MQTT-4.3.3-1] PUBREL after PUBREC
            }
        }), () -> session.execute(() -> {
            if (recorded && inflight.get(packetId) == f) {
                f.pubrelSent = false; // as the store still has it: the PUBLISH is re-sent
            }
            if (session.connection() == c) {
                storeFailed(c);
            }
        }));
    }

    /** PUBCOMP from the client: the QoS 2 message is done. */
    void onPubComp(int packetId) {
        InflightWindow.Entry f = inflight.get(packetId);
        if (f != null && f.pubrelSent) {
            inflight.remove(packetId);
            if (f.stored) {
                session.record().inflightDone(packetId);
            }
            drain();
        }
    }

    // ---------------------------------------------------------------- resume

    /** See {@link Session#resume}. */
    void resume() {
        // a write can flush and fire a writability change, whose drain() must not send newer messages in between
        // (nor change the window while it is walked): the resends go first, in their original order
        resuming = true;
        try {
            for (Map.Entry<Integer, InflightWindow.Entry> e : inflight.snapshot()) {
                InflightWindow.Entry f = e.getValue();
                int packetId = e.getKey();
                ClientConnection c = session.connection();
                if (c == null) {
                    return; // closed meanwhile; the rest is re-sent to the next connection
                }
                DeliveryFilter filter = session.filter();
                if (!f.pubrelSent && !filter.mayRead(f.delivery.message().topic())) {
                    // sent to an earlier connection of this session; the client connected now may not read it
                    inflight.remove(packetId);
                    if (f.stored) {
                        session.record().inflightDone(packetId);
                    }
                    done(f.delivery, End.NOT_AUTHORIZED);
                    continue;
                }
                MqttPacket p = f.pubrelSent ? PubRelPacket.of(packetId) : filter.toPacket(f.delivery, packetId, true);
                if (f.unrecorded) {
                    // its in-flight record was not stored: written again first, or a crash would bring the message
                    // back under another packet id
                    f.unrecorded = false;
                    SessionRecord r = session.record();
                    r.inflightSent(packetId, f.delivery);
                    writeWhenDurable(p, f);
                } else if (writesWaiting > 0) {
                    writeWhenDurable(p, null); // behind one that waits for its record: keep the order
                } else {
                    c.write(p);
                }
            }
        } finally {
            resuming = false;
        }
        drain();
    }

    // ---------------------------------------------------------------- shedding (max-queued-bytes-total)

    /**
     * max-queued-bytes-total: frees at least {@code bytes} of this session's in-memory queue, or all it can, on the
     * owner. Without loss first: stored deliveries go back to the store, the newest first, to be paged in again when
     * the queue has drained (not while a page read is outstanding, which would skip them). Then QoS 0 messages,
     * oldest first; then the oldest messages of any QoS. Dropped messages are counted (messagesDropped and
     * messagesShed) and logged by the budget; the order of what stays is unchanged.
     *
     * @return the bytes freed
     */
    long shed(long bytes) {
        if (session.isDiscarded() || queueIsEmpty() || bytes <= 0) {
            return 0;
        }
        long freed = 0;
        if (stored == null || !stored.isPageRequested()) {
            long before = queue.bytes();
            long from = queue.unloadStored(bytes);
            if (from != 0) {
                stored().unloaded(from);
                freed = before - queue.bytes();
            }
        }
        if (freed < bytes) {
            freed += queue.dropUnstored(bytes - freed, true);
        }
        if (freed < bytes) {
            freed += queue.dropUnstored(bytes - freed, false);
        }
        return freed;
    }
}
