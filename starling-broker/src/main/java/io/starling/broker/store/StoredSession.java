package io.starling.broker.store;

import io.starling.broker.message.PendingWill;
import io.starling.broker.topic.Subscription;
import java.util.List;

/**
 * A session as recovered from the store at start-up.
 *
 * @param clientId the client identifier
 * @param expirySeconds Session Expiry Interval
 * @param disconnectedAtMillis when its connection ended, or the time of recovery when it was connected at a crash
 * @param will the Will still to be published (its connection ended abnormally, or the broker stopped while it was
 *     connected), or {@code null}
 * @param subscriptions its subscriptions
 * @param inflight outbound QoS 2 messages sent and not completed, in packet-id order
 * @param inboundQos2 inbound QoS 2 packet ids awaiting PUBREL
 * @param lastSeq highest position in its stored queue, 0 when empty
 * @param queued number of stored queue entries
 * @param record the store's handle of its generation, for the restored session's later writes
 */
public record StoredSession(String clientId, long expirySeconds, long disconnectedAtMillis, PendingWill will,
        List<Subscription> subscriptions, List<StoredInflight> inflight, List<Integer> inboundQos2, long lastSeq,
        long queued, SessionRecord record) {
}
