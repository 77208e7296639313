package io.starling.codec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The MQTT 5.0 properties of one packet or of a Will (section 2.2.2). Immutable; absent properties are
 * {@code null} (or an empty list), so a packet without properties shares {@link #EMPTY}. MQTT 3.x packets
 * always carry {@link #EMPTY}.
 *
 * <p>Byte arrays handed in and out are not copied: callers must treat them as read-only.
 */
public final class Properties {

    /** No properties. */
    public static final Properties EMPTY = new Builder().build();

    private final Integer payloadFormatIndicator;
    private final Long messageExpiryInterval;
    private final String contentType;
    private final String responseTopic;
    private final byte[] correlationData;
    private final List<Integer> subscriptionIdentifiers;
    private final Long sessionExpiryInterval;
    private final String assignedClientIdentifier;
    private final Integer serverKeepAlive;
    private final String authenticationMethod;
    private final byte[] authenticationData;
    private final Integer requestProblemInformation;
    private final Long willDelayInterval;
    private final Integer requestResponseInformation;
    private final String responseInformation;
    private final String serverReference;
    private final String reasonString;
    private final Integer receiveMaximum;
    private final Integer topicAliasMaximum;
    private final Integer topicAlias;
    private final Integer maximumQos;
    private final Integer retainAvailable;
    private final List<UserProperty> userProperties;
    private final Long maximumPacketSize;
    private final Integer wildcardSubscriptionAvailable;
    private final Integer subscriptionIdentifierAvailable;
    private final Integer sharedSubscriptionAvailable;

    private Properties(Builder b) {
        payloadFormatIndicator = b.payloadFormatIndicator;
        messageExpiryInterval = b.messageExpiryInterval;
        contentType = b.contentType;
        responseTopic = b.responseTopic;
        correlationData = b.correlationData;
        subscriptionIdentifiers = List.copyOf(b.subscriptionIdentifiers);
        sessionExpiryInterval = b.sessionExpiryInterval;
        assignedClientIdentifier = b.assignedClientIdentifier;
        serverKeepAlive = b.serverKeepAlive;
        authenticationMethod = b.authenticationMethod;
        authenticationData = b.authenticationData;
        requestProblemInformation = b.requestProblemInformation;
        willDelayInterval = b.willDelayInterval;
        requestResponseInformation = b.requestResponseInformation;
        responseInformation = b.responseInformation;
        serverReference = b.serverReference;
        reasonString = b.reasonString;
        receiveMaximum = b.receiveMaximum;
        topicAliasMaximum = b.topicAliasMaximum;
        topicAlias = b.topicAlias;
        maximumQos = b.maximumQos;
        retainAvailable = b.retainAvailable;
        userProperties = List.copyOf(b.userProperties);
        maximumPacketSize = b.maximumPacketSize;
        wildcardSubscriptionAvailable = b.wildcardSubscriptionAvailable;
        subscriptionIdentifierAvailable = b.subscriptionIdentifierAvailable;
        sharedSubscriptionAvailable = b.sharedSubscriptionAvailable;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these properties, to change some of them. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.payloadFormatIndicator = payloadFormatIndicator;
        b.messageExpiryInterval = messageExpiryInterval;
        b.contentType = contentType;
        b.responseTopic = responseTopic;
        b.correlationData = correlationData;
        b.subscriptionIdentifiers.addAll(subscriptionIdentifiers);
        b.sessionExpiryInterval = sessionExpiryInterval;
        b.assignedClientIdentifier = assignedClientIdentifier;
        b.serverKeepAlive = serverKeepAlive;
        b.authenticationMethod = authenticationMethod;
        b.authenticationData = authenticationData;
        b.requestProblemInformation = requestProblemInformation;
        b.willDelayInterval = willDelayInterval;
        b.requestResponseInformation = requestResponseInformation;
        b.responseInformation = responseInformation;
        b.serverReference = serverReference;
        b.reasonString = reasonString;
        b.receiveMaximum = receiveMaximum;
        b.topicAliasMaximum = topicAliasMaximum;
        b.topicAlias = topicAlias;
        b.maximumQos = maximumQos;
        b.retainAvailable = retainAvailable;
        b.userProperties.addAll(userProperties);
        b.maximumPacketSize = maximumPacketSize;
        b.wildcardSubscriptionAvailable = wildcardSubscriptionAvailable;
        b.subscriptionIdentifierAvailable = subscriptionIdentifierAvailable;
        b.sharedSubscriptionAvailable = sharedSubscriptionAvailable;
        return b;
    }

    public boolean isEmpty() {
        return this == EMPTY || equals(EMPTY);
    }

    public Integer payloadFormatIndicator() {
        return payloadFormatIndicator;
    }

    public Long messageExpiryInterval() {
        return messageExpiryInterval;
    }

    public String contentType() {
        return contentType;
    }

    public String responseTopic() {
        return responseTopic;
    }

    public byte[] correlationData() {
        return correlationData;
    }

    public List<Integer> subscriptionIdentifiers() {
        return subscriptionIdentifiers;
    }

    public Long sessionExpiryInterval() {
        return sessionExpiryInterval;
    }

    public String assignedClientIdentifier() {
        return assignedClientIdentifier;
    }

    public Integer serverKeepAlive() {
        return serverKeepAlive;
    }

    public String authenticationMethod() {
        return authenticationMethod;
    }

    public byte[] authenticationData() {
        return authenticationData;
    }

    public Integer requestProblemInformation() {
        return requestProblemInformation;
    }

    public Long willDelayInterval() {
        return willDelayInterval;
    }

    public Integer requestResponseInformation() {
        return requestResponseInformation;
    }

    public String responseInformation() {
        return responseInformation;
    }

    public String serverReference() {
        return serverReference;
    }

    public String reasonString() {
        return reasonString;
    }

    public Integer receiveMaximum() {
        return receiveMaximum;
    }

    public Integer topicAliasMaximum() {
        return topicAliasMaximum;
    }

    public Integer topicAlias() {
        return topicAlias;
    }

    public Integer maximumQos() {
        return maximumQos;
    }

    public Integer retainAvailable() {
        return retainAvailable;
    }

    public List<UserProperty> userProperties() {
        return userProperties;
    }

    public Long maximumPacketSize() {
        return maximumPacketSize;
    }

    public Integer wildcardSubscriptionAvailable() {
        return wildcardSubscriptionAvailable;
    }

    public Integer subscriptionIdentifierAvailable() {
        return subscriptionIdentifierAvailable;
    }

    public Integer sharedSubscriptionAvailable() {
        return sharedSubscriptionAvailable;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof Properties)) {
            return false;
        }
        Properties p = (Properties) o;
        return Objects.equals(payloadFormatIndicator, p.payloadFormatIndicator)
                && Objects.equals(messageExpiryInterval, p.messageExpiryInterval)
                && Objects.equals(contentType, p.contentType)
                && Objects.equals(responseTopic, p.responseTopic)
                && Arrays.equals(correlationData, p.correlationData)
                && subscriptionIdentifiers.equals(p.subscriptionIdentifiers)
                && Objects.equals(sessionExpiryInterval, p.sessionExpiryInterval)
                && Objects.equals(assignedClientIdentifier, p.assignedClientIdentifier)
                && Objects.equals(serverKeepAlive, p.serverKeepAlive)
                && Objects.equals(authenticationMethod, p.authenticationMethod)
                && Arrays.equals(authenticationData, p.authenticationData)
                && Objects.equals(requestProblemInformation, p.requestProblemInformation)
                && Objects.equals(willDelayInterval, p.willDelayInterval)
                && Objects.equals(requestResponseInformation, p.requestResponseInformation)
                && Objects.equals(responseInformation, p.responseInformation)
                && Objects.equals(serverReference, p.serverReference)
                && Objects.equals(reasonString, p.reasonString)
                && Objects.equals(receiveMaximum, p.receiveMaximum)
                && Objects.equals(topicAliasMaximum, p.topicAliasMaximum)
                && Objects.equals(topicAlias, p.topicAlias)
                && Objects.equals(maximumQos, p.maximumQos)
                && Objects.equals(retainAvailable, p.retainAvailable)
                && userProperties.equals(p.userProperties)
                && Objects.equals(maximumPacketSize, p.maximumPacketSize)
                && Objects.equals(wildcardSubscriptionAvailable, p.wildcardSubscriptionAvailable)
                && Objects.equals(subscriptionIdentifierAvailable, p.subscriptionIdentifierAvailable)
                && Objects.equals(sharedSubscriptionAvailable, p.sharedSubscriptionAvailable);
    }

    @Override
    public int hashCode() {
        return Objects.hash(messageExpiryInterval, contentType, responseTopic, sessionExpiryInterval, reasonString,
                topicAlias, userProperties, subscriptionIdentifiers);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Properties{");
        append(sb, "payloadFormatIndicator", payloadFormatIndicator);
        append(sb, "messageExpiryInterval", messageExpiryInterval);
        append(sb, "contentType", contentType);
        append(sb, "responseTopic", responseTopic);
        append(sb, "correlationData", correlationData == null ? null : correlationData.length + " bytes");
        append(sb, "subscriptionIdentifiers", subscriptionIdentifiers.isEmpty() ? null : subscriptionIdentifiers);
        append(sb, "sessionExpiryInterval", sessionExpiryInterval);
        append(sb, "assignedClientIdentifier", assignedClientIdentifier);
        append(sb, "serverKeepAlive", serverKeepAlive);
        append(sb, "authenticationMethod", authenticationMethod);
        append(sb, "requestProblemInformation", requestProblemInformation);
        append(sb, "willDelayInterval", willDelayInterval);
        append(sb, "requestResponseInformation", requestResponseInformation);
        append(sb, "responseInformation", responseInformation);
        append(sb, "serverReference", serverReference);
        append(sb, "reasonString", reasonString);
        append(sb, "receiveMaximum", receiveMaximum);
        append(sb, "topicAliasMaximum", topicAliasMaximum);
        append(sb, "topicAlias", topicAlias);
        append(sb, "maximumQos", maximumQos);
        append(sb, "retainAvailable", retainAvailable);
        append(sb, "userProperties", userProperties.isEmpty() ? null : userProperties);
        append(sb, "maximumPacketSize", maximumPacketSize);
        return sb.append('}').toString();
    }

    private static void append(StringBuilder sb, String name, Object value) {
        if (value != null) {
            if (sb.charAt(sb.length() - 1) != '{') {
                sb.append(", ");
            }
            sb.append(name).append('=').append(value);
        }
    }

    /** Mutable builder; not thread-safe. */
    public static final class Builder {
        private Integer payloadFormatIndicator;
        private Long messageExpiryInterval;
        private String contentType;
        private String responseTopic;
        private byte[] correlationData;
        private final List<Integer> subscriptionIdentifiers = new ArrayList<>(1);
        private Long sessionExpiryInterval;
        private String assignedClientIdentifier;
        private Integer serverKeepAlive;
        private String authenticationMethod;
        private byte[] authenticationData;
        private Integer requestProblemInformation;
        private Long willDelayInterval;
        private Integer requestResponseInformation;
        private String responseInformation;
        private String serverReference;
        private String reasonString;
        private Integer receiveMaximum;
        private Integer topicAliasMaximum;
        private Integer topicAlias;
        private Integer maximumQos;
        private Integer retainAvailable;
        private final List<UserProperty> userProperties = new ArrayList<>(0);
        private Long maximumPacketSize;
        private Integer wildcardSubscriptionAvailable;
        private Integer subscriptionIdentifierAvailable;
        private Integer sharedSubscriptionAvailable;

        private Builder() {
        }

        public Properties build() {
            return new Properties(this);
        }

        public Builder payloadFormatIndicator(Integer v) {
            payloadFormatIndicator = v;
            return this;
        }

        public Builder messageExpiryInterval(Long v) {
            messageExpiryInterval = v;
            return this;
        }

        public Builder contentType(String v) {
            contentType = v;
            return this;
        }

        public Builder responseTopic(String v) {
            responseTopic = v;
            return this;
        }

        public Builder correlationData(byte[] v) {
            correlationData = v;
            return this;
        }

        public Builder addSubscriptionIdentifier(int v) {
            subscriptionIdentifiers.add(v);
            return this;
        }

        public Builder clearSubscriptionIdentifiers() {
            subscriptionIdentifiers.clear();
            return this;
        }

        public Builder sessionExpiryInterval(Long v) {
            sessionExpiryInterval = v;
            return this;
        }

        public Builder assignedClientIdentifier(String v) {
            assignedClientIdentifier = v;
            return this;
        }

        public Builder serverKeepAlive(Integer v) {
            serverKeepAlive = v;
            return this;
        }

        public Builder authenticationMethod(String v) {
            authenticationMethod = v;
            return this;
        }

        public Builder authenticationData(byte[] v) {
            authenticationData = v;
            return this;
        }

        public Builder requestProblemInformation(Integer v) {
            requestProblemInformation = v;
            return this;
        }

        public Builder willDelayInterval(Long v) {
            willDelayInterval = v;
            return this;
        }

        public Builder requestResponseInformation(Integer v) {
            requestResponseInformation = v;
            return this;
        }

        public Builder responseInformation(String v) {
            responseInformation = v;
            return this;
        }

        public Builder serverReference(String v) {
            serverReference = v;
            return this;
        }

        public Builder reasonString(String v) {
            reasonString = v;
            return this;
        }

        public Builder receiveMaximum(Integer v) {
            receiveMaximum = v;
            return this;
        }

        public Builder topicAliasMaximum(Integer v) {
            topicAliasMaximum = v;
            return this;
        }

        public Builder topicAlias(Integer v) {
            topicAlias = v;
            return this;
        }

        public Builder maximumQos(Integer v) {
            maximumQos = v;
            return this;
        }

        public Builder retainAvailable(Integer v) {
            retainAvailable = v;
            return this;
        }

        public Builder addUserProperty(String name, String value) {
            userProperties.add(new UserProperty(name, value));
            return this;
        }

        public Builder maximumPacketSize(Long v) {
            maximumPacketSize = v;
            return this;
        }

        public Builder wildcardSubscriptionAvailable(Integer v) {
            wildcardSubscriptionAvailable = v;
            return this;
        }

        public Builder subscriptionIdentifierAvailable(Integer v) {
            subscriptionIdentifierAvailable = v;
            return this;
        }

        public Builder sharedSubscriptionAvailable(Integer v) {
            sharedSubscriptionAvailable = v;
            return this;
        }
    }
}
