package io.starling.broker.acl;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Who a connected client is, as far as authorization rules are concerned.
 *
 * @param username the authenticated user name (from the password file, an authenticator, the certificate with
 *     use-identity-as-username, or SCRAM); {@code null} for an anonymous client. A User Name that the listener did not
 *     verify is never put here.
 * @param clientId the client identifier
 * @param certificateNames the CN and SANs of the client's verified certificate; empty without one
 * @param attributes named values from the authentication (JWT claims, an HTTP service's answer) that rules use as
 *     {@code %{name}}; empty without
 */
public record ClientIdentity(String username, String clientId, List<String> certificateNames,
        Map<String, String> attributes) {

    public ClientIdentity {
        Objects.requireNonNull(clientId, "clientId");
        certificateNames = certificateNames == null ? List.of() : List.copyOf(certificateNames);
        attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
    }

    /** An identity without attributes. */
    public ClientIdentity(String username, String clientId, List<String> certificateNames) {
        this(username, clientId, certificateNames, Map.of());
    }
}
