package io.starling.broker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.starling.broker.config.BrokerConfig.Capabilities;
import io.starling.broker.config.BrokerConfig.DropPolicy;
import io.starling.broker.config.BrokerConfig.SessionLimits;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The grouping of {@link BrokerConfig}: builder values land in their group and read the same through either path. */
class BrokerConfigTest {

    @Test
    void defaultsAreTheGroupDefaults() {
        BrokerConfig c = BrokerConfig.defaults();

        assertThat(c.sessions()).isEqualTo(SessionLimits.DEFAULTS);
        assertThat(c.capabilities()).isEqualTo(Capabilities.DEFAULTS);
        assertThat(c.maxInflightMessages()).isEqualTo(32);
        assertThat(c.maxQueuedMessages()).isEqualTo(1000);
        assertThat(c.dropPolicy()).isEqualTo(DropPolicy.DROP_NEW);
        assertThat(c.v3SessionExpiry()).isNull();
        assertThat(c.maximumQos()).isEqualTo(2);
        assertThat(c.topicAliasMaximum()).isEqualTo(10);
    }

    @Test
    void builderValuesLandInTheirGroupAndTheFlatAccessorsReadThem() {
        BrokerConfig c = BrokerConfig.builder().maxInflightMessages(7).receiveMaximum(8).maxQueuedMessages(9)
                .maxQueuedBytes(10).queueQos0Messages(true).dropPolicy(DropPolicy.DROP_OLDEST)
                .v3SessionExpiry(Duration.ofHours(1)).maxSessionExpirySeconds(11).maxSubscriptionsPerClient(12)
                .maximumQos(1).retainAvailable(false).wildcardSubscriptionsAvailable(false)
                .subscriptionIdentifiersAvailable(false).sharedSubscriptionsAvailable(false).topicAliasMaximum(0)
                .build();

        assertThat(c.sessions()).isEqualTo(new SessionLimits(7, 8, 9, 10, true, DropPolicy.DROP_OLDEST,
                Duration.ofHours(1), 11, 12));
        assertThat(c.capabilities()).isEqualTo(new Capabilities(1, false, false, false, false, 0));
        assertThat(c.maxInflightMessages()).isEqualTo(7);
        assertThat(c.receiveMaximum()).isEqualTo(8);
        assertThat(c.maxQueuedBytes()).isEqualTo(10);
        assertThat(c.queueQos0Messages()).isTrue();
        assertThat(c.maxSessionExpirySeconds()).isEqualTo(11);
        assertThat(c.maxSubscriptionsPerClient()).isEqualTo(12);
        assertThat(c.maximumQos()).isEqualTo(1);
        assertThat(c.retainAvailable()).isFalse();
        assertThat(c.sharedSubscriptionsAvailable()).isFalse();
    }

    @Test
    void toBuilderKeepsEveryValue() {
        BrokerConfig c = BrokerConfig.builder().maxInflightMessages(3).maximumQos(0).maxConnections(5).port(0).build();

        assertThat(c.toBuilder().build()).isEqualTo(c);
    }

    @Test
    void theGroupsCheckTheirValuesWithTheConfigKeysInTheMessage() {
        assertThatThrownBy(() -> BrokerConfig.builder().maximumQos(3).build()).hasMessage("maximum-qos must be 0, 1 or 2");
        assertThatThrownBy(() -> BrokerConfig.builder().topicAliasMaximum(65_536).build())
                .hasMessage("topic-alias-maximum must be 0..65535");
        assertThatThrownBy(() -> BrokerConfig.builder().maxInflightMessages(0).build())
                .hasMessage("max-inflight-messages must be 1..65535");
        assertThatThrownBy(() -> BrokerConfig.builder().receiveMaximum(0).build())
                .hasMessage("receive-maximum must be 1..65535");
        assertThatThrownBy(() -> BrokerConfig.builder().maxQueuedBytes(-1).build())
                .hasMessage("queue limits must not be negative");
        assertThatThrownBy(() -> BrokerConfig.builder().maxSubscriptionsPerClient(-1).build())
                .hasMessage("max-subscriptions-per-client must not be negative");
    }
}
