package io.starling.cluster.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.starling.broker.message.Message;
import io.starling.broker.message.PendingWill;
import io.starling.broker.topic.Subscription;
import io.starling.codec.Properties;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The expiry of ownership records on a real (one-member, in-process) Hazelcast map: a record whose node died goes after
 * the session's Session Expiry Interval unless a client claims it first; a record a node owns never expires.
 */
class OwnershipExpiryTest {

    private static final Subscription SUB = new Subscription("c", "a/+", 1, false, false, 0, 0, null);
    private static HazelcastInstance hz;
    private static IMap<String, byte[]> map;

    @BeforeAll
    static void start() {
        Config c = new Config();
        c.setClusterName("ownership-expiry-" + System.nanoTime());
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.logging.type", "slf4j");
        c.getJetConfig().setEnabled(false);
        c.getNetworkConfig().setPortAutoIncrement(true).getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        JoinConfig j = c.getNetworkConfig().getJoin();
        j.getMulticastConfig().setEnabled(false);
        j.getAutoDetectionConfig().setEnabled(false);
        j.getTcpIpConfig().setEnabled(false);
        hz = Hazelcast.newHazelcastInstance(c);
        map = hz.getMap(SessionOwnership.MAP);
    }

    @AfterAll
    static void stop() {
        if (hz != null) {
            hz.shutdown();
        }
    }

    /** A record of {@code node} for client {@code id} as its owner writes it. */
    private static void owned(String id, String node, long expiry, PendingWill will) {
        map.executeOnKey(id, new OwnershipOps.Claim(node));
        assertThat(map.executeOnKey(id, new OwnershipOps.Update(node,
                new OwnerRecord(node, 0, false, will, expiry, List.of(SUB)).encode()))).isTrue();
    }

    private static long expiration(String id) {
        return map.getEntryView(id).getExpirationTime();
    }

    private static PendingWill delayedWill() {
        return new PendingWill(new Message("w/t", 1, false, "bye".getBytes(StandardCharsets.UTF_8), Properties.EMPTY, "c",
                Message.NEVER), 5);
    }

    @Test
    void anOrphanedRecordGoesAfterTheSessionExpiryInterval() {
        owned("short", "n3", 1, null);
        assertThat(expiration("short")).as("owned: no expiry").isEqualTo(Long.MAX_VALUE);
        assertThat(map.executeOnKey("short", new OwnershipOps.Orphan("n3"))).isNotNull();
        assertThat(expiration("short")).as("orphaned: expires").isLessThan(Long.MAX_VALUE);
        await().atMost(Duration.ofSeconds(20)).until(() -> map.get("short") == null);
        assertThat(map.containsKey("short")).isFalse();
    }

    @Test
    void aClaimOrARestoreMakesAnOrphanedRecordLastAgain() {
        owned("claimed", "n3", 3600, null);
        map.executeOnKey("claimed", new OwnershipOps.Orphan("n3"));
        assertThat(expiration("claimed")).isLessThan(Long.MAX_VALUE);
        map.executeOnKey("claimed", new OwnershipOps.Claim("n1"));
        assertThat(expiration("claimed")).as("claimed: no expiry").isEqualTo(Long.MAX_VALUE);

        owned("restored", "n3", 3600, null);
        map.executeOnKey("restored", new OwnershipOps.Orphan("n3"));
        assertThat(map.executeOnKey("restored", new OwnershipOps.Restore("n3",
                new OwnerRecord("n3", 0, false, null, 3600, List.of(SUB)).encode()))).isTrue();
        assertThat(expiration("restored")).as("restored by its node: no expiry").isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void takingTheDelayedWillKeepsTheExpiryWhichLeavesTimeForIt() {
        owned("will", "n3", 60, delayedWill());
        long before = System.currentTimeMillis();
        OwnerRecord was = OwnerRecord.decode(map.executeOnKey("will", new OwnershipOps.Orphan("n3")));
        long expires = expiration("will");
        // the session's 60 s plus the grace that lets the survivor take the delayed Will (5 s) before the record goes
        // (Hazelcast keeps the update time in whole seconds)
        assertThat(expires).isGreaterThanOrEqualTo(before - 1000 + (60 + OwnershipOps.WILL_GRACE_SECONDS) * 1000);
        assertThat(map.executeOnKey("will", new OwnershipOps.TakeWill(was.epoch()))).isNotNull();
        assertThat(OwnerRecord.decode(map.get("will")).will()).isNull();
        assertThat(expiration("will")).as("unchanged by taking the Will").isEqualTo(expires);
    }

    @Test
    void aSessionThatNeverExpiresKeepsItsRecordAndOneWithExpiryZeroLosesItAtOnce() {
        owned("never", "n3", OwnershipOps.NEVER, null);
        map.executeOnKey("never", new OwnershipOps.Orphan("n3"));
        assertThat(OwnerRecord.decode(map.get("never")).node()).isEmpty();
        assertThat(expiration("never")).isEqualTo(Long.MAX_VALUE);

        owned("zero", "n3", 0, null);
        assertThat(map.executeOnKey("zero", new OwnershipOps.Orphan("n3"))).as("returned once, for its Will").isNotNull();
        assertThat(map.containsKey("zero")).isFalse();
    }
}
