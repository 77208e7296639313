package io.starling.broker.auth;

import java.util.ArrayList;
import java.util.List;

/**
 * The names of a client certificate that the TLS handshake verified against the listener's CA: the subject's
 * Common Name and the Subject Alternative Names (DNS names, e-mail addresses, URIs and IP addresses, in the
 * certificate's order).
 *
 * @param commonName the subject CN, {@code null} if the subject has none
 * @param subjectAltNames the SANs as strings, possibly empty
 */
public record CertificateIdentity(String commonName, List<String> subjectAltNames) {

    public CertificateIdentity {
        subjectAltNames = subjectAltNames == null ? List.of() : List.copyOf(subjectAltNames);
    }

    /** The first Subject Alternative Name, {@code null} if there is none. */
    public String firstSubjectAltName() {
        return subjectAltNames.isEmpty() ? null : subjectAltNames.get(0);
    }

    /** The CN (if any) followed by every SAN: the names a {@code cert:NAME} ACL rule is compared with. */
    public List<String> names() {
        List<String> all = new ArrayList<>(subjectAltNames.size() + 1);
        if (commonName != null) {
            all.add(commonName);
        }
        all.addAll(subjectAltNames);
        return List.copyOf(all);
    }

    @Override
    public String toString() {
        return "CN=" + commonName + (subjectAltNames.isEmpty() ? "" : ", SAN=" + subjectAltNames);
    }
}
